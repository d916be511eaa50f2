# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.licensing_diagnose: one round trip, read only."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.licensing_diagnose import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _diagnosis, _drift, _host_report, _license_server, _transport
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _wmi_reads
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase

SESSION_HOST_SUBSETS = ["mode", "license_servers", "grace", "os", "role", "domain"]


class ActionModule(LicensingActionBase):
    IGNORED_GROUP_OPTIONS = ("backup_dir",)
    DOCUMENTATION = DOCUMENTATION

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        problem = _drift.threshold_problem(args["warning_days"], args["critical_days"])
        if problem:  # before the host is contacted
            raise AnsibleActionFail(f"{problem} (the diagnose role: diagnose_critical_days and diagnose_warning_days).")
        # read_at: when the controller got the answer, so that a report can tell which licensing run it goes with.
        if args["view"] == "license_server":
            return {"changed": False, "license_server_view": self._license_server(args, task_vars), "read_at": _transport.utc_now()}
        return {"changed": False, "diagnosis": self._session_host(args, task_vars), "read_at": _transport.utc_now()}

    def _license_server(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        ops = _license_server.operations() + _wmi_reads.server_checks("checks", args["domain"], args["session_hosts"]) + [
            _wmi_reads.computer_system("system")]
        results = _license_server.with_server(_transport.results_by_id(_transport.run_agent(self, ops)))
        results.update(checks=_wmi_reads.server_checks_answer(results, "checks"),
                       system=_wmi_reads.computer_system_answer(results.get("system") or {}))
        for op_id, what in (("server", "Win32_TSLicenseServer"), ("parameters", _license_server.PARAMETERS_KEY),
                            ("service", _license_server.SERVICE), ("system", "Win32_ComputerSystem")):
            if not (results.get(op_id) or {}).get("ok"):
                raise _transport.agent_failure((results.get(op_id) or {}).get("error") or {}, what)
        service = results["service"]["services"].get(_license_server.SERVICE) or {}
        server = _license_server.build(results["server"], results["parameters"].get("values") or [], service)
        answer = results.get("checks") or {}
        checks: dict[str, t.Any] = {"error": answer.get("error")} if not answer.get("ok") else {
            **(answer.get("checks") or {}), "secure_access": answer.get("secure_access") or [],
            "usage_report": answer.get("usage_report"), "usage_error": answer.get("usage_error")}
        system = results["system"]
        return {"host": self.inventory_host(task_vars), "computer_name": system["name"], "domain": system["domain"],
                "server": server, "checks": checks}

    def _session_host(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        ops = _host_report.plan_operations(SESSION_HOST_SUBSETS) + [_wmi_reads.connectivity("connectivity")]
        results = _transport.results_by_id(_transport.run_agent(self, ops))
        report = _host_report.build_report(SESSION_HOST_SUBSETS, results, _transport.agent_failure, args["warning_days"])
        connectivity = _wmi_reads.connectivity_answer(results["connectivity"]) if "connectivity" in results else {
            "ok": False, "error": {"message": "no answer"}}
        grace = report["grace_period"]
        host_view = {
            "host": self.inventory_host(task_vars), "rdsh": report["role"]["rdsh_installed"],
            "mode": report["mode"], "license_servers": report["license_servers"], "os": report["os"],
            "domain": report["domain"], "grace": {"days_left": grace["days_left"], "error": grace["error"]},
            "connectivity": connectivity,
        }
        diagnosis = _diagnosis.diagnose(host_view, [view for view in args["license_server_views"] if view],
                                        args["warning_days"])
        fallback = _drift.grace_class(report, args["warning_days"], args["critical_days"])
        diagnosis["grace_class"] = _diagnosis.grace_class(report, diagnosis, args["warning_days"], args["critical_days"],
                                                          fallback)
        diagnosis["host_view"] = host_view
        return diagnosis
