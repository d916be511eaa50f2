"""The licensing report, built from answers the simulator's agent model gives for each preset."""

from __future__ import annotations

import time

import pytest
from rds_sim import scenarios
from rds_sim.agent import serve_request
from rds_sim.host import Host

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _host_report as report
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _transport as transport


def build(scenario, subsets=None, faults=None):
    state = scenarios.build("unit-01", scenario, time.time())
    state["faults"].update(faults or {})
    chosen = report.resolve_subsets(subsets or ["all"])
    answer = serve_request(Host(state), payload.build_request(report.plan_operations(chosen)))
    return report.build_report(chosen, transport.results_by_id(answer), transport.agent_failure, 30)


def test_all_expands_and_exclusions_apply():
    assert report.resolve_subsets(["all"]) == list(report.SUBSETS)
    assert report.resolve_subsets(["all", "!client_cache", "!os"]) == [
        name for name in report.SUBSETS if name not in ("client_cache", "os")]
    assert report.resolve_subsets(["!grace"]) == [name for name in report.SUBSETS if name != "grace"]
    assert report.resolve_subsets(["grace", "mode"]) == ["mode", "grace"]


def test_unknown_subset_names_the_entry_and_the_choices():
    with pytest.raises(report.SubsetError, match="Unknown gather_subset entry 'licence'.*license_servers"):
        report.resolve_subsets(["licence"])


def test_shared_operations_are_planned_once():
    ops = report.plan_operations(["mode", "license_servers", "grace"])
    ids = [op["id"] for op in ops]
    assert len(ids) == len(set(ids))
    assert ids.count("wmi") == 1 and "policy" in ids


def test_policy_wins_and_is_reported_with_its_source():
    result = build("gpo_conflict")
    assert (result["mode"]["effective"], result["mode"]["source"]) == (2, "policy")
    assert result["license_servers"]["policy"] == ["ls01.example.test", "ls02.example.test"]
    assert len([note for note in result["warnings"] if "Group Policy" in note]) == 2


def test_mode_of_wrong_type_counts_as_unset():
    state = scenarios.build("unit-01", "per_user", time.time())
    state["registry"][scenarios.LICENSING_CORE_KEY]["LicensingMode"] = {"type": "string", "data": "4"}
    chosen = ["mode"]
    answer = serve_request(Host(state), payload.build_request(report.plan_operations(chosen)))
    result = report.build_report(chosen, transport.results_by_id(answer), transport.agent_failure, 30)
    assert result["mode"]["local"] is None and result["mode"]["source"] == "unset"


def test_access_denied_becomes_a_failure_naming_the_key():
    with pytest.raises(transport.AgentError, match=r"Access denied on HKLM:\\SOFTWARE\\Microsoft\\MSLicensing"):
        build("client_cache", faults={"access_denied": ["SOFTWARE\\Microsoft\\MSLicensing"]})


def test_zero_days_left_on_a_licensed_host_is_not_alarming():
    state = scenarios.build("unit-01", "per_user", time.time())
    state["facts"]["grace_expiry"] = time.time() - 86400
    chosen = report.resolve_subsets(["all"])
    answer = serve_request(Host(state), payload.build_request(report.plan_operations(chosen)))
    result = report.build_report(chosen, transport.results_by_id(answer), transport.agent_failure, 30)
    assert result["grace_period"]["state"] == "expired"
    assert result["warnings"] == []


def test_expiring_threshold_is_respected():
    assert build("grace_expiring")["grace_period"]["state"] == "expiring"
    assert build("fresh")["grace_period"]["state"] == "active"


def test_policy_override_warnings_read_as_words_not_python_reprs():
    from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _host_report

    notes = _host_report._warnings({
        "role": {"rdsh_installed": True},
        "mode": {"effective": 2, "source": "policy", "policy": 2, "policy_name": "per_device", "local": 4,
                 "local_name": "per_user"},
        "license_servers": {"effective": ["ls01", "ls02"], "source": "policy", "policy": ["ls01", "ls02"], "local": ["ls03"]},
    })
    assert "Group Policy sets the licensing mode (per_device (2)) and overrides the local value (per_user (4))" in notes[0]
    assert "Group Policy sets the license server list (ls01, ls02) and overrides the local value (ls03)" in notes[1]
    assert not any("[" in note or "'" in note for note in notes)


def test_a_non_elevated_agent_gets_a_registry_report_with_an_unknown_grace_period():
    """Win32_TerminalServiceSetting refuses a filtered token; the registry still reads, so the report does not fail."""
    state = scenarios.build("unit-01", "per_device", time.time())
    state["faults"]["not_elevated"] = True
    chosen = report.resolve_subsets(["mode", "license_servers", "grace"])
    answer = serve_request(Host(state), payload.build_request(report.plan_operations(chosen)))
    assert answer["host"]["elevated"] is False
    transport.mark_not_elevated(answer)
    built = report.build_report(chosen, transport.results_by_id(answer), transport.agent_failure, 30)
    assert built["mode"]["effective_name"] == "per_device" and built["mode"]["wmi_licensing_type"] is None
    assert built["grace_period"]["state"] == "unknown" and "non-elevated" in built["grace_period"]["error"]


def test_wmi_refused_to_an_elevated_agent_still_fails():
    with pytest.raises(transport.AgentError, match="wmimgmt.msc"):
        build("per_device", faults={"wmi_denied": True})
