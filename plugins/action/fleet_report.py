# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.fleet_report: runs on the controller only, reads the
per-host results every run or slice saved, and writes the fleet report files."""

from __future__ import annotations

import os
import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.fleet_report import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _controller_paths, _drift
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _fleet_report as fleet
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _fleet_report_diagnosis as diagnosis_section
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _paths, _run_manifest
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._drift import BaselineError
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._failure import FailedTaskResult
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import utc_now


def load_results(results_dir: str) -> dict[str, dict[str, t.Any]]:
    """{inventory_hostname: saved task result} from <results_dir>/<host file name>.json files (_paths.host_file_name)."""
    if not os.path.isdir(results_dir):
        raise FailedTaskResult(f"results_dir {results_dir} does not exist; run the licensing_report playbook (or each slice) first.")
    try:
        return _paths.load_host_files(results_dir, fleet.saved_fields)
    except _paths.HostFileError as exc:
        raise FailedTaskResult(f"{exc.path} is not a saved JSON task result: {exc.reason}") from None


def current_run(results: dict[str, dict[str, t.Any]]) -> str | None:
    """Without an explicit run_id, the run that saved the newest result is taken as this run."""
    saved = [result for result in results.values() if isinstance(result, dict) and result.get("run_id")]
    if not saved:
        return None
    return str(max(saved, key=lambda result: str(result.get("saved_at") or ""))["run_id"])


def report_hosts(given: list[str], results_dir: str, results: dict[str, t.Any], run_id: str | None) -> tuple[list[str], str]:
    """The hosts the report covers and where that list came from (fleet.HOSTS_SOURCES): the hosts given (an
    inventory group), else the run's manifests plus every saved result, else the saved results alone."""
    if given:
        return sorted(set(given)), "hosts"
    try:
        expected = _run_manifest.expected_hosts(results_dir, run_id)
    except ValueError as exc:
        raise FailedTaskResult(str(exc)) from None
    if expected is not None:
        return sorted(set(expected) | set(results)), "run_manifest"
    return sorted(results), "result_files"


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION
    IGNORED_GROUP_OPTIONS = ("backup_dir",)
    NEEDS_AGENT = False
    _requires_connection = False

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        try:
            for option in ("results_dir", "output_dir"):
                _controller_paths.refuse_inside_collection(args[option], f"{option} (the playbooks' report_dir)")
        except _controller_paths.InsideCollectionError as exc:
            raise AnsibleActionFail(str(exc)) from None
        results = load_results(args["results_dir"])
        run_id = args["run_id"] or current_run(results)
        hosts, hosts_source = report_hosts(args["hosts"], args["results_dir"], results, run_id)
        thresholds = {"warning_days": args["warning_days"], "critical_days": args["critical_days"]}
        problem = _drift.threshold_problem(args["warning_days"], args["critical_days"])
        if problem:
            raise AnsibleActionFail(f"{problem}.")
        try:
            baseline = _drift.normalise_baseline(args["baseline"]) or None
            records = [fleet.record(host, results.get(host), thresholds, baseline, run_id, args["stale"] == "exclude")
                       for host in hosts]
            report = fleet.build(records, thresholds, baseline, utc_now(), run_id, hosts_source)
            # Diagnosis hook: the diagnose playbook saves its results next to the hosts directory (report_dir/diagnosis).
            diagnosed = diagnosis_section.load(os.path.join(os.path.dirname(os.path.normpath(args["results_dir"])), "diagnosis"))
            diagnosis_section.attach(report, diagnosed, thresholds)
        except BaselineError as exc:
            raise AnsibleActionFail(f"baseline: {exc}") from None
        except (ImportError, diagnosis_section.DiagnosisFileError) as exc:
            raise FailedTaskResult(str(exc)) from None
        files = {}
        if not self._task.check_mode:
            os.makedirs(args["output_dir"], exist_ok=True)
            for kind in args["formats"]:
                file_name, render = fleet.RENDERERS[kind]
                path = os.path.join(args["output_dir"], file_name)
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    handle.write(diagnosis_section.render(kind, report, render(report)))
                files[kind] = path
            for file_name, content in diagnosis_section.extra_files(report, diagnosed, args["formats"]).items():
                path = os.path.join(args["output_dir"], file_name)
                with open(path, "w", encoding="utf-8", newline="") as handle:
                    handle.write(content)
                files[file_name.replace(".", "_")] = path
        return {"changed": bool(files), "files": files, "summary": report["summary"], "run_id": run_id,
                "output_dir": args["output_dir"]}
