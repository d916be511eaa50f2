# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.licensing_baseline: one read, a comparison, and in
check mode a drifting host reported as changed (with the drift as the diff)."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.licensing_baseline import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _drift, _host_report, _transport
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase

SUBSETS = ["mode", "license_servers", "grace", "role"]


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION
    IGNORED_GROUP_OPTIONS = ("backup_dir",)
    OPTION_HINT = ("The baseline takes mode (per_user, per_device or aad_per_user), license_servers (names), "
                   "forbid_policy_conflicts (true or false) and min_grace_days (a whole number of days from 0 to 120); "
                   "the drift_check role takes them from drift_check_baseline or the drift_check_baseline_* survey fields.")

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        try:
            baseline = _drift.normalise_baseline(args["baseline"])
        except _drift.BaselineError as exc:
            raise AnsibleActionFail(str(exc)) from None
        if not baseline:
            raise AnsibleActionFail(
                "The baseline is empty, so nothing would be checked. Give at least one of mode, license_servers, "
                "forbid_policy_conflicts or min_grace_days (for the drift_check role: drift_check_baseline or the "
                "drift_check_baseline_* variables).")
        answer = _transport.run_agent(self, _host_report.plan_operations(SUBSETS))
        report = _host_report.build_report(SUBSETS, _transport.results_by_id(answer), _transport.agent_failure, 30)
        host = self.inventory_host(task_vars)
        items = _drift.drift(report, baseline)
        result = {
            "changed": bool(items) and bool(self._task.check_mode), "drifted": bool(items), "drift": items,
            "summary": _drift.drift_line(host, items), "baseline": baseline, "licensing": report,
            "policy_controlled": any(report[part].get("policy") is not None for part in ("mode", "license_servers")),
            "read_at": _transport.utc_now(),
        }
        if items and self._task.diff:
            result["diff"] = _drift.drift_diff(host, items)
        return result
