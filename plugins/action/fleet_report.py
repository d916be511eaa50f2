# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.fleet_report: runs on the controller only, reads the
per-host results every run or slice saved, and writes the fleet report files."""

from __future__ import annotations

import datetime
import json
import os
import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.fleet_report import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _fleet_report as fleet
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._drift import BaselineError
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._failure import FailedTaskResult


def load_results(results_dir: str) -> dict[str, dict[str, t.Any]]:
    """{inventory_hostname: saved task result} from <results_dir>/<host>.json files."""
    if not os.path.isdir(results_dir):
        raise FailedTaskResult(f"results_dir {results_dir} does not exist; run the licensing_report playbook (or each slice) first.")
    results = {}
    for name in sorted(os.listdir(results_dir)):
        if not name.endswith(".json"):
            continue
        path = os.path.join(results_dir, name)
        try:
            with open(path, encoding="utf-8") as handle:
                results[name[:-5]] = json.load(handle)
        except (OSError, ValueError) as exc:
            raise FailedTaskResult(f"{path} is not a saved JSON task result: {exc}") from None
    return results


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION
    NEEDS_AGENT = False
    _requires_connection = False

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        results = load_results(args["results_dir"])
        hosts = sorted(set(args["hosts"] or results))
        thresholds = {"warning_days": args["warning_days"], "critical_days": args["critical_days"]}
        if thresholds["critical_days"] > thresholds["warning_days"]:
            raise AnsibleActionFail("critical_days must not be more than warning_days.")
        try:
            records = [fleet.record(host, results.get(host), thresholds, args["baseline"]) for host in hosts]
            generated = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            report = fleet.build(records, thresholds, args["baseline"], generated)
        except BaselineError as exc:
            raise AnsibleActionFail(f"baseline: {exc}") from None
        except ImportError as exc:
            raise FailedTaskResult(str(exc)) from None
        files = {}
        if not self._task.check_mode:
            os.makedirs(args["output_dir"], exist_ok=True)
            for kind in args["formats"]:
                file_name, render = fleet.RENDERERS[kind]
                path = os.path.join(args["output_dir"], file_name)
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    handle.write(render(report))
                files[kind] = path
        return {"changed": bool(files), "files": files, "summary": report["summary"]}
