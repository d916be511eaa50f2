"""How the modules handle the Windows failures the agent must survive, end to end (ansible-playbook over
winrm against rds-sim): a refused or broken WMI call, a missing RDSH class, GetGracePeriodDays without
DaysLeft, a GracePeriod key Administrators cannot even read, a service that stops but does not start
again, and registry values of kinds the agent cannot write back. Each ends in a clear message and
leaves nothing half-changed."""

from __future__ import annotations

import os

import pytest

from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT

PLAYBOOKS = os.path.join(ROOT, "tests", "integration", "playbooks")
HOST = "fresh-01"
CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
GRACE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"
TIMEBOMB = "L$RTMTIMEBOMB_1320153D-8DA3-4e8e-B27B-0D888223A588"
STORE = "SOFTWARE\\Microsoft\\MSLicensing\\Store"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("windows-failures")).up(1, ["fresh"])
    yield fleet
    fleet.down()


@pytest.fixture
def run(fleet, tmp_path):
    """Run one of the integration playbooks on the host; returns (result, the host's counters, output)."""
    def _run(playbook, **options):
        results = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        outcome = run_playbook(os.path.join(PLAYBOOKS, playbook), fleet.inventory, str(results), options)
        assert HOST in outcome.results, outcome.output
        assert "Traceback" not in outcome.output and "MODULE FAILURE" not in outcome.output, outcome.output
        return outcome.results[HOST], fleet.stats()[HOST], outcome.output
    return _run


def test_denied_wmi_names_the_class_the_code_and_the_fix(fleet, run):
    fleet.reset_host(HOST, "per_user", faults={"wmi_denied": True})
    result, stats, _output = run("licensing_info.yml")
    assert result["failed"] is True
    assert "Access denied on WMI root\\cimv2\\TerminalServices Win32_TerminalServiceSetting" in result["msg"]
    assert "0x80041003" in result["msg"]
    assert "elevated local administrator" in result["msg"] and "wmimgmt.msc" in result["msg"]
    assert "not installed" not in result["msg"]
    assert stats["writes"] == 0


def test_missing_rdsh_class_is_an_answer_not_a_failure(fleet, run):
    fleet.reset_host(HOST, "per_user", faults={"wmi_missing_class": True})
    result, _stats, _output = run("licensing_info.yml")
    assert not result.get("failed"), result
    grace = result["licensing"]["grace_period"]
    assert grace["state"] == "unknown" and grace["days_left"] is None
    assert 'Invalid class "Win32_TerminalServiceSetting"' in grace["error"]
    # The registry still answers for the mode: only the WMI view of it is missing.
    assert result["licensing"]["mode"]["effective_name"] == "per_user"
    assert result["licensing"]["mode"]["wmi_licensing_type"] is None


def test_grace_days_without_days_left_is_unknown_not_expired(fleet, run):
    fleet.reset_host(HOST, "fresh", faults={"wmi_grace_no_days": True})
    result, _stats, _output = run("licensing_info.yml")
    grace = result["licensing"]["grace_period"]
    assert grace["state"] == "unknown" and grace["days_left"] is None
    assert "GetGracePeriodDays returned 1" in grace["error"]
    assert not any("grace period is over" in warning for warning in result["licensing"]["warnings"])


def test_locked_grace_key_changes_nothing_and_says_only_system_can(fleet, run, tmp_path):
    fleet.reset_host(HOST, "grace_expired+grace_locked")
    backups = tmp_path / "backups"
    result, stats, _output = run("grace_period.yml", state="reset", acknowledge_lab_use=True, restart="if_changed",
                                 backup_dir=str(backups))
    assert result["failed"] is True
    assert "grants Administrators no access at all" in result["msg"]
    assert "Only SYSTEM can reset this key" in result["msg"]
    assert stats["writes"] == 0 and stats["restarts"] == 0
    assert fleet.value(HOST, GRACE, TIMEBOMB) is not None
    assert not backups.exists() or not list(backups.iterdir())


def test_restart_that_fails_after_stop_rolls_back_and_names_the_service_state(fleet, run):
    fleet.reset_host(HOST, "per_device", faults={"start_fails": True})
    result, _stats, _output = run("licensing_mode.yml", mode="per_user", restart="if_changed")
    assert result["failed"] is True
    assert "TermService" in result["msg"] and "it is Stopped" in result["msg"]
    assert "Start-Service" in result["msg"]
    # The mode change is put back: the host is as it was, apart from the service that would not start.
    assert fleet.value(HOST, CORE, "LicensingMode") == {"type": "dword", "data": 2}
    assert fleet.show(HOST)["facts"]["services"]["TermService"] == "Stopped"


def test_mslicensing_with_a_value_kind_it_cannot_write_back_is_refused_before_any_change(fleet, run, tmp_path):
    link = {"type": "unknown", "kind": 6, "data": None, "exact": False}
    fleet.reset_host(HOST, "client_cache", registry={STORE: {"Link": link}})
    result, stats, _output = run("mslicensing.yml", backup_dir=str(tmp_path / "b"))
    assert result["failed"] is True
    assert "'Link' is of registry kind 6" in result["msg"]
    assert "remove or convert that value" in result["msg"]
    assert stats["writes"] == 0
    assert fleet.value(HOST, STORE, "Link") == link
