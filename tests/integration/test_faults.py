"""Each simulated fault ends licensing_info with a clear failure or unreachable, never a traceback."""

from __future__ import annotations

import os

import pytest

from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT

PLAYBOOK = os.path.join(ROOT, "tests", "integration", "playbooks", "licensing_info.yml")
POLICY = "SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services"

FAULTS = {
    "refused": "refused",
    "http500": "http500",
    "soap": "soap_fault",
    "auth": "auth",
    "denied": f"access_denied:{POLICY}",
    "wmi": "wmi_grace",
    "noisy": "noisy_output",
    "truncated": "truncated_output",
    "slow": "latency_ms:400",
    "hung": "hang_s:8",
    "filtered_token": "not_elevated",
}


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("fault-fleet"))
    names = [f"fresh-{index:02d}" for index in range(1, len(FAULTS) + 1)]
    specs = [f"{host}={spec}" for host, spec in zip(names, FAULTS.values())]
    fleet.up(len(FAULTS), ["fresh"], specs)
    try:
        run = run_playbook(PLAYBOOK, fleet.inventory, str(tmp_path_factory.mktemp("fault-results")))
        yield dict(zip(FAULTS, names)), run, fleet
    finally:
        fleet.down()


def result_for(fault_run, fault):
    hosts, run, _fleet = fault_run
    return run.results[hosts[fault]]


def test_no_traceback_anywhere(fault_run):
    _hosts, run, _fleet = fault_run
    assert "Traceback" not in run.output
    assert "MODULE FAILURE" not in run.output
    assert "unexpected exception" not in run.output.lower()


@pytest.mark.parametrize("fault,words", [
    ("refused", ["refused"]),
    ("http500", ["500"]),
    ("soap", ["WS-Management service cannot process the request"]),
    ("auth", ["credentials were rejected"]),
    ("hung", ["timed out"]),
])
def test_transport_faults_make_the_host_unreachable(fault_run, fault, words):
    result = result_for(fault_run, fault)
    assert result.get("unreachable") is True or result.get("failed") is True, result
    for word in words:
        assert word.lower() in result["msg"].lower(), result["msg"]


def test_refused_set_after_up_makes_the_host_unreachable_with_any_inventory(fault_run, tmp_path):
    """The fault set at run time (rds-sim fault --set refused) also holds for an inventory that names the fleet's
    real port, as an administrator's own inventory would."""
    hosts, _run, fleet = fault_run
    host = hosts["slow"]
    fleet.set_faults(host, {"refused": True})
    try:
        fleet.reset_stats()
        run = run_playbook(PLAYBOOK, fleet.inventory, str(tmp_path), args=["--limit", host])
        result = run.results[host]
        assert result.get("unreachable") is True, result
        assert fleet.stats()[host]["commands"] == 0
    finally:
        fleet.set_faults(host, {"latency_ms": 400})


def test_access_denied_names_the_key_and_the_fix(fault_run):
    result = result_for(fault_run, "denied")
    assert result["failed"] is True
    assert "Access denied on HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services" in result["msg"]
    assert "elevated local administrator" in result["msg"]


def test_wmi_failure_is_reported_as_unknown_grace(fault_run):
    result = result_for(fault_run, "wmi")
    assert not result.get("failed")
    grace = result["licensing"]["grace_period"]
    assert grace["state"] == "unknown"
    assert grace["hresult"] == "0x80070002"
    assert any("could not be read" in note for note in result["licensing"]["warnings"])


def test_output_before_the_json_is_a_clear_error(fault_run):
    result = result_for(fault_run, "noisy")
    assert result["failed"] is True
    assert "not JSON" in result["msg"] and "profile or logon script" in result["msg"]


def test_truncated_answer_is_a_clear_error(fault_run):
    result = result_for(fault_run, "truncated")
    assert result["failed"] is True
    assert "truncated" in result["msg"]


def test_latency_only_slows_the_host_down(fault_run):
    result = result_for(fault_run, "slow")
    assert not result.get("failed")
    assert result["licensing"]["mode"]["effective_name"] == "not_configured"


def test_a_filtered_token_is_warned_about(fault_run):
    """agent.elevated false (UAC-filtered local account) reads on, but says why keys look absent."""
    _hosts, run, _fleet = fault_run
    assert result_for(fault_run, "filtered_token")["agent"]["elevated"] is False
    assert run.output.count("without administrator rights (agent.elevated is false)") == 1


def test_non_windows_host_is_refused_with_a_clear_message(tmp_path):
    inventory = tmp_path / "local.yml"
    inventory.write_text("all:\n  hosts:\n    linuxbox:\n      ansible_connection: local\n", encoding="utf-8")
    run = run_playbook(PLAYBOOK, str(inventory), str(tmp_path / "out"))
    result = run.results["linuxbox"]
    assert result["failed"] is True
    assert "manages Windows hosts only" in result["msg"] and "ansible_connection=winrm" in result["msg"]


def test_become_is_refused_before_anything_is_sent(preset_fleet, tmp_path):
    preset_fleet.reset_stats()
    run = run_playbook(PLAYBOOK, preset_fleet.inventory, str(tmp_path), {"info_become": True},
                       ["--limit", "fresh-01"])
    result = run.results["fresh-01"]
    assert result["failed"] is True
    assert "does not support become" in result["msg"]
    assert preset_fleet.stats()["fresh-01"]["commands"] == 0
