# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.batch_results: one controller step per batch that
turns every host's registered result into records, lines and (optionally) result files."""

from __future__ import annotations

import os
import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.batch_results import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _batch, _controller_files, _controller_paths, _drift, _paths
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _run_manifest, _transport
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION
    IGNORED_GROUP_OPTIONS = ("backup_dir",)
    NEEDS_AGENT = False
    _requires_connection = False

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        summarise = _batch.KINDS[args["kind"]]
        options = {"warning_days": args["warning_days"], "critical_days": args["critical_days"],
                   "restart_strategy": args["restart_strategy"]}
        problem = _drift.threshold_problem(args["warning_days"], args["critical_days"])
        if problem:
            where = " (the grace_report role: grace_report_critical_days and grace_report_warning_days)" \
                if args["kind"] == "grace_report" else ""
            raise AnsibleActionFail(f"{problem}{where}.")
        records, lines = {}, []
        for host in sorted(args["results"]):
            result = args["results"][host]
            records[host], line = summarise(host, result if isinstance(result, dict) else {}, options)
            lines.append(line)
        files, manifest = [], None
        if args["results_dir"]:
            try:
                directory = _controller_paths.refuse_inside_collection(args["results_dir"], args["results_dir_variable"])
            except _controller_paths.InsideCollectionError as exc:
                raise AnsibleActionFail(str(exc)) from None
            os.makedirs(directory, mode=0o700, exist_ok=True)
            saved_at = _transport.utc_now()
            for host, record in records.items():
                # The report renders from the whole task result; the roles save their record.
                content = args["results"][host] if args["kind"] == "licensing_report" else record
                # Host names are inventory data, not paths (../escape, .., a/b): one safe, unique component each.
                path = os.path.join(directory, f"{_paths.host_file_name(host)}.json")
                _controller_files.write_json(path, {**content, "run_id": args["run_id"], "saved_at": saved_at})
                files.append(path)
            if args["run_hosts"] and args["run_id"]:
                # Once per play (later batches find it there): lets the report list hosts without a result, no inventory needed.
                manifest = _run_manifest.write(directory, args["run_id"], args["run_hosts"], args["kind"], saved_at)
        fleet = _batch.fleet_line(args["kind"], records)
        if files:
            fleet += f"; results saved in {os.path.dirname(files[0])}"
        if self._task.check_mode and args["kind"] in _batch.WRITING_KINDS:
            # What a real run would do; nothing was written.
            lines, fleet = [f"[check mode] {line}" for line in lines], f"[check mode, nothing written] {fleet}"
        return {"changed": False, "records": records, "lines": lines, "fleet": fleet, "files": files, "run_id": args["run_id"],
                "manifest": manifest}
