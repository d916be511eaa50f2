"""The controller's WMI reads: each cim_read request, answered by rds-sim's WMI model, maps back to the block the
readers used before the generic operation, with the agent's old casts (an unset property reads as 0 or "")."""

from __future__ import annotations

import time
import typing as t

from rds_sim import scenarios
from rds_sim.agent import PROTOCOL_VERSION, serve_request
from rds_sim.host import Host

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _protocol, _transport
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _wmi_reads as reads


def _answers(scenario: str, ops: list[dict[str, t.Any]], faults: dict[str, t.Any] | None = None,
             facts: dict[str, t.Any] | None = None) -> dict[str, dict[str, t.Any]]:
    state = scenarios.build("host-01", scenario, time.time())
    state["faults"] = faults or {}
    state["facts"].update(facts or {})
    assert _protocol.request_problems(ops) == []
    answer = serve_request(Host(state), {"version": PROTOCOL_VERSION, "ops": ops})
    _protocol.word_errors(answer)
    return _transport.results_by_id(answer)


def test_terminal_service_maps_to_the_settings_block():
    wmi = reads.terminal_service_answer(_answers("gpo_conflict", [reads.terminal_service("wmi")])["wmi"])
    assert wmi["licensing_type"] == 2 and wmi["policy_source_licensing_type"] == 1
    assert wmi["specified_license_servers"] == ["ls01.example.test", "ls02.example.test"]
    assert isinstance(wmi["grace_days_left"], int) and wmi["grace_error"] is None


def test_a_return_value_without_days_left_is_a_grace_error_not_zero_days():
    wmi = reads.terminal_service_answer(
        _answers("fresh", [reads.terminal_service("wmi")], faults={"wmi_grace_no_days": True})["wmi"])
    assert wmi["grace_days_left"] is None
    assert wmi["grace_error"] == {"message": "GetGracePeriodDays returned 1 without DaysLeft", "hresult": None,
                                  "native_error": None, "return_value": 1}


def test_a_thrown_grace_call_keeps_the_wmi_code():
    wmi = reads.terminal_service_answer(_answers("per_user", [reads.terminal_service("wmi")], faults={"wmi_grace": True})["wmi"])
    assert wmi["grace_error"]["hresult"] == "0x80070002" and wmi["grace_error"]["return_value"] is None
    assert wmi["licensing_type"] == 4


def test_a_missing_class_and_denied_access_pass_through():
    missing = _answers("fresh", [reads.terminal_service("wmi")], faults={"wmi_missing_class": True})["wmi"]
    assert reads.terminal_service_answer(missing) == missing and missing["exists"] is False
    denied = _answers("fresh", [reads.terminal_service("wmi")], faults={"wmi_denied": True})["wmi"]
    assert reads.terminal_service_answer(denied)["error"]["kind"] == "access_denied"
    # Win32_ComputerSystem is not one of the RDS providers' classes: still readable.
    system = reads.computer_system_answer(_answers("fresh", [reads.computer_system("cs")], faults={"wmi_denied": True})["cs"])
    assert system["ok"] is True and system["part_of_domain"] is True and system["domain_role"] == 3


def test_license_server_reads_count_on_the_host_and_map_the_key_packs():
    results = _answers("license_server", reads.license_server("server"))
    assert "instances" not in results[reads.ISSUED_ID]
    server = reads.license_server_answer(results)
    assert server["issued_by_status"] == {"1": 2, "2": 12, "4": 1}
    assert server["activation_status"] == 0 and server["license_server_id"].startswith("12345-")
    pack = next(item for item in server["key_packs"] if item["key_pack_id"] == 3)
    assert pack["available"] == 22 and pack["expiration"].endswith("Z")
    assert next(item for item in server["key_packs"] if item["key_pack_id"] == 1)["expiration"] is None


def test_an_unactivated_server_has_no_id():
    server = reads.license_server_answer(_answers("license_server+unactivated", reads.license_server("server")))
    assert server["activation_status"] == 1 and server["license_server_id"] is None


def test_connectivity_uses_the_effective_list_or_the_names_given():
    results = _answers("diag_gpo_retired", [reads.connectivity("effective"), reads.connectivity("named", ["LS-GONE"])])
    effective = reads.connectivity_answer(results["effective"])
    assert effective["servers"] == [{"name": "ls-retired.example.test", "status": 6, "error": None}]
    assert effective["discovered"] == [{"name": "ls01.example.test", "available": True, "admin": True, "issuing_cals": True}]
    assert reads.connectivity_answer(results["named"])["servers"] == [{"name": "LS-GONE", "status": 6, "error": None}]


def test_a_failing_status_call_is_reported_per_server():
    results = _answers("per_user", [reads.connectivity("sh")], facts={"ls_rpc_unavailable": True})
    servers = reads.connectivity_answer(results["sh"])["servers"]
    assert [item["status"] for item in servers] == [None, None]
    assert all(item["error"]["hresult"] == "0x800706BA" for item in servers)


def test_server_checks_and_the_newest_usage_report():
    results = _answers("license_server+lsrv_overused", reads.server_checks("checks", "", ["rdsh01"]))
    checks = reads.server_checks_answer(results)
    assert checks["checks"]["in_tsls_group"] == {"value": True, "error": None}
    assert checks["secure_access"] == [{"name": "rdsh01", "allowed": True, "error": None}]
    assert checks["usage_report"]["summary"] == [{"product_version": "Windows Server 2022", "cal_type": 1, "installed": 50,
                                                  "issued": 80}]
    assert checks["usage_report"]["generated"] == "2026-11-27T06:00:00.0000000Z" and checks["usage_error"] is None


def test_a_class_outside_the_allow_list_is_refused_in_words_before_any_read():
    # Enumerating Win32_Product makes Windows Installer check (and repair) every product: never listed.
    op = reads.cim_read("p", "root/cimv2", "Win32_Product", ("Name",))
    error = _answers("fresh", [op])["p"]["error"]
    assert error["kind"] == "invalid_argument" and error["reason"] == "cim_class" and error["detail"] == "root/cimv2:Win32_Product"
    assert error["message"].startswith("cim_read refused to read root/cimv2:Win32_Product: only the WMI classes")
    assert "root/cimv2:Win32_ComputerSystem" in error["message"]


def test_an_allow_listed_class_in_another_namespace_is_refused():
    error = _answers("fresh", [reads.cim_read("p", "root/default", "Win32_ComputerSystem", ("Name",))])["p"]["error"]
    assert error["reason"] == "cim_class" and error["detail"] == "root/default:Win32_ComputerSystem"


def test_the_namespace_matches_with_either_slash_and_in_any_case():
    answer = _answers("fresh", [reads.cim_read("p", "ROOT\\CIMV2", "win32_computersystem", ("Name",))])["p"]
    assert answer["ok"] is True and answer["exists"] is True


def test_a_method_outside_the_allow_list_is_refused_in_words():
    op = reads.cim_read("p", "root/cimv2", "Win32_Process", ("ProcessId",), [reads.call("Create", "ProcessId")])
    error = _answers("fresh", [op])["p"]["error"]
    assert error["reason"] == "cim_class" and error["detail"] == "root/cimv2:Win32_Process"


def test_a_method_of_another_allow_listed_class_is_refused_in_words():
    op = reads.cim_read("p", "root/cimv2", "Win32_TSLicenseServer", (), [reads.call("GetGracePeriodDays", "DaysLeft")])
    error = _answers("license_server", [op])["p"]["error"]
    assert error["kind"] == "invalid_argument" and error["detail"] == "root/cimv2:Win32_TSLicenseServer.GetGracePeriodDays"
    assert error["message"].startswith("cim_read refused to call root/cimv2:Win32_TSLicenseServer.GetGracePeriodDays")


def test_a_return_value_above_int32_is_reported_as_it_is():
    wmi = reads.terminal_service_answer(
        _answers("fresh", [reads.terminal_service("wmi")], faults={"wmi_grace_no_days": 0x80041001})["wmi"])
    assert wmi["grace_error"]["return_value"] == 0x80041001
    assert wmi["grace_error"]["message"] == "GetGracePeriodDays returned 2147749889 without DaysLeft"


def test_a_misspelt_argument_fails_as_invoke_cim_method_does():
    """An ArgumentException, not a CimException: no hresult, no native_error, and the provider is never called."""
    op = reads.cim_read("p", "root/cimv2", "Win32_TSLicenseServer", (), [reads.call("IsLSinTSLSGroup", "IsMember", args={"Domian": ""})])
    answer = _answers("license_server", [op])["p"]["instances"][0]["calls"][0]
    assert answer == {"value": None, "error": {
        "message": "Can not find Parameter 'Domian' in method 'IsLSinTSLSGroup' of class 'Win32_TSLicenseServer'.",
        "hresult": None, "native_error": None, "return_value": None}}


def test_an_argument_of_the_wrong_cim_type_fails():
    op = reads.cim_read("p", "root/cimv2", "Win32_TSLicenseReport", (), [
        reads.call("FetchReportSummaryEntries", "ReportSummaryEntries", args={"StartIndex": "zero", "Count": 0})])
    error = _answers("license_server+lsrv_overused", [op])["p"]["instances"][0]["calls"][0]["error"]
    assert "uint32" in error["message"] and error["native_error"] is None


def test_discovered_license_servers_carry_uint32_flags():
    results = _answers("diag_gpo_retired", [reads.cim_read("p", reads.TS_NAMESPACE, reads.TS_SETTING, (), [
        reads.call("FindLicenseServers", "LicenseServersList", fields=["IsLSAvailable", "IsAdminOnLS", "IssuingCALs"])])])
    assert results["p"]["instances"][0]["calls"][0]["value"] == [{"IsLSAvailable": 1, "IsAdminOnLS": 1, "IssuingCALs": 1}]


def test_no_more_data_from_the_report_summary_is_success():
    results = _answers("license_server+lsrv_overused", reads.server_checks("checks", "", []))
    raw = results[reads.REPORT_ID]["instances"][0]["calls"][0]
    assert raw["error"]["return_value"] == reads.NO_MORE_DATA
    checks = reads.server_checks_answer(results)
    assert checks["usage_error"] is None and len(checks["usage_report"]["summary"]) == 1


def test_a_missing_usage_report_class_keeps_its_hresult():
    results = _answers("license_server", reads.server_checks("checks", "", []), faults={"wmi_missing_class": True})
    assert results[reads.REPORT_ID]["hresult"] == "0x80041010"
    # the checks' own class is missing too; the report's failure is read on its own
    assert reads._usage_report(results[reads.REPORT_ID])[1] == {
        "message": 'Invalid class "Win32_TSLicenseReport"', "hresult": "0x80041010", "native_error": "InvalidClass",
        "return_value": None}


def test_access_is_refused_only_for_classes_that_exist():
    faults = {"wmi_denied": True}
    existing = _answers("fresh", [reads.cim_read("p", "root/cimv2/TerminalServices", "Win32_TerminalServiceSetting")], faults)
    assert existing["p"]["error"]["native_error"] == "AccessDenied"
    # The licensing classes where the role is not installed: not there, so not refused
    absent = _answers("fresh", reads.license_server("server"), faults)["server"]
    assert absent["ok"] is True and absent["exists"] is False and absent["native_error"] == "InvalidClass"
