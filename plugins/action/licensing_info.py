# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.licensing_info: one agent round trip, read only."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.licensing_info import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _host_report, _transport
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION
    IGNORED_GROUP_OPTIONS = ("backup_dir",)

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        try:
            subsets = _host_report.resolve_subsets(args["gather_subset"])
        except _host_report.SubsetError as exc:
            raise AnsibleActionFail(str(exc)) from None
        answer = _transport.run_agent(self, _host_report.plan_operations(subsets))
        report = _host_report.build_report(
            subsets,
            _transport.results_by_id(answer),
            _transport.agent_failure,
            args["warning_days"],
        )
        return {"changed": False, "licensing": report, "agent": answer.get("host") or {}, "read_at": _transport.utc_now()}
