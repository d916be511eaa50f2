"""licensing_mode end to end: ansible-playbook over winrm against rds-sim hosts."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile as regfile
from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT

PLAYBOOK = os.path.join(ROOT, "tests", "integration", "playbooks", "licensing_mode.yml")
CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
SERVERS_KEY = "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"
POLICY = "SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services"
SERVERS = ["ls01.example.test", "ls02.example.test"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("mode-fleet")).up(1, ["fresh"])
    assert fleet.hosts() == ["fresh-01"]
    yield fleet
    fleet.down()


@pytest.fixture
def run(fleet, tmp_path):
    """Run the playbook on the one host with these options; returns (rc, output, result, stats)."""
    def _run(args=(), **options):
        results = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        outcome = run_playbook(PLAYBOOK, fleet.inventory, str(results), options, args=list(args))
        assert "fresh-01" in outcome.results, outcome.output
        return outcome.rc, outcome.output, outcome.results["fresh-01"], fleet.stats()["fresh-01"]
    return _run


def reset(fleet, scenario, **kwargs):
    return fleet.reset_host("fresh-01", scenario, **kwargs)


def test_fresh_host_check_mode_then_real_run_then_idempotent(fleet, run):
    reset(fleet, "fresh")
    before = fleet.show("fresh-01")["registry"]

    _rc, output, result, stats = run(["--check", "--diff"], mode="per_user", license_servers=SERVERS)
    assert result["changed"] is True and not result.get("failed"), result
    assert "-LicensingMode: not_configured (5)" in output and "+LicensingMode: per_user (4)" in output
    assert "+license servers: ls01.example.test, ls02.example.test" in output
    assert result["after"]["mode"] == 4 and result["restart_required"] is True
    assert stats["writes"] == 0 and stats["commands"] == 1
    assert fleet.show("fresh-01")["registry"] == before

    fleet.reset_stats()
    _rc, _output, result, stats = run(mode="per_user", license_servers=SERVERS)
    assert result["changed"] is True and result["before"]["mode_name"] == "not_configured"
    assert stats["writes"] == 2 and stats["commands"] == 2 and stats["shells"] == 1
    assert fleet.value("fresh-01", CORE, "LicensingMode") == {"type": "dword", "data": 4}
    assert fleet.value("fresh-01", SERVERS_KEY, "SpecifiedLicenseServers") == {"type": "multistring", "data": SERVERS}
    assert fleet.show("fresh-01")["wmi"]["LicensingType"] == 4

    fleet.reset_stats()
    _rc, _output, result, stats = run(mode="per_user", license_servers=[name.upper() for name in SERVERS])
    assert result["changed"] is False and result["restart_required"] is False
    assert stats["writes"] == 0 and stats["commands"] == 1


def test_gpo_conflict_fails_by_default_and_writes_nothing(fleet, run):
    before = reset(fleet, "gpo_conflict")["registry"]
    rc, output, result, stats = run(mode="per_user", license_servers=["ls03.example.test"])
    assert result["failed"] is True
    assert "Group Policy sets LicensingMode = per_device (2)" in result["msg"]
    # The value asked for is not called the host's local value: that is named separately.
    assert "overrides the per_user (4) asked for locally (the local value is now " in result["msg"]
    assert "overrides the list asked for locally ['ls03.example.test'] (the local list is now " in result["msg"]
    assert "HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services" in result["msg"]
    assert "GPO" in result["msg"] and "scope: policy" in result["msg"]
    assert stats["writes"] == 0
    assert fleet.show("fresh-01")["registry"] == before


def test_gpo_conflict_warn_writes_local_value_and_reports_override(fleet, run):
    reset(fleet, "gpo_conflict")
    _rc, output, result, _stats = run(mode="per_user", license_servers=["ls09.example.test"], policy_conflict="warn")
    assert result["changed"] is True and result["policy_overrides"] is True and result["policy_controlled"] is True
    assert any("has no effect while the policy is set" in warning for warning in result["warnings"])
    assert "[WARNING]" in output
    assert fleet.value("fresh-01", SERVERS_KEY, "SpecifiedLicenseServers")["data"] == ["ls09.example.test"]
    # The policy still wins: the effective mode stays Per Device.
    assert result["after"]["mode"] == 2 and result["after"]["mode_source"] == "policy"
    assert fleet.show("fresh-01")["wmi"]["LicensingType"] == 2


def test_gpo_overridden_change_does_not_restart_termservice(fleet, run):
    """Restarting TermService ends every session; it is pointless while Group Policy overrides every changed value."""
    reset(fleet, "gpo_conflict")
    fleet.reset_stats()
    _rc, output, result, stats = run(mode="per_user", license_servers=["ls09.example.test"], policy_conflict="warn",
                                     restart="if_changed")
    assert result["changed"] is True and not result.get("failed"), result
    assert result["restarted"] is False and result["restart_required"] is False
    assert stats["restarts"] == 0 and not fleet.show("fresh-01")["facts"].get("service_restarts")
    assert any("TermService was not restarted" in warning and "once the policy is removed" in warning
               for warning in result["warnings"])
    assert fleet.value("fresh-01", SERVERS_KEY, "SpecifiedLicenseServers")["data"] == ["ls09.example.test"]
    # With restart: never (what configure_licensing's reboot strategy uses) no restart is asked for either, and said so;
    # a change Group Policy does not override still asks for one.
    reset(fleet, "gpo_conflict")
    _rc, _output, result, _stats = run(mode="per_user", license_servers=["ls07.example.test"], policy_conflict="warn")
    assert result["changed"] is True and result["restart_required"] is False and result["restarted"] is False
    assert any("no restart is required" in warning and "not restarted" not in warning for warning in result["warnings"])
    reset(fleet, "per_device")
    _rc, _output, result, _stats = run(mode="per_user")
    assert result["changed"] is True and result["restart_required"] is True
    # Check mode says the same: no restart would happen.
    reset(fleet, "gpo_conflict")
    _rc, _output, result, stats = run(["--check"], mode="per_user", license_servers=["ls08.example.test"],
                                      policy_conflict="ignore", restart="if_changed")
    assert result["changed"] is True and result["restarted"] is False and result["restart_required"] is False


def test_scope_policy_writes_the_policy_values(fleet, run):
    reset(fleet, "gpo_conflict")
    _rc, _output, result, _stats = run(mode="per_user", license_servers=["ls05.example.test", "10.0.0.5"], scope="policy")
    assert result["changed"] is True and result["policy_overrides"] is False
    assert fleet.value("fresh-01", POLICY, "LicensingMode") == {"type": "dword", "data": 4}
    assert fleet.value("fresh-01", POLICY, "LicenseServers") == {"type": "string", "data": "ls05.example.test,10.0.0.5"}
    assert fleet.show("fresh-01")["wmi"]["LicensingType"] == 4
    _rc, _output, result, _stats = run(mode="per_user", license_servers=["ls05.example.test", "10.0.0.5"], scope="policy")
    assert result["changed"] is False


def test_restart_if_changed_restarts_termservice_once(fleet, run):
    reset(fleet, "per_device")
    _rc, _output, result, stats = run(mode="per_user", restart="if_changed")
    assert result["changed"] is True and result["restarted"] is True and result["restart_required"] is False
    assert stats["restarts"] == 1
    assert fleet.show("fresh-01")["facts"]["service_restarts"] == {"TermService": 1, "UmRdpService": 1}
    fleet.reset_stats()
    _rc, _output, result, stats = run(mode="per_user", restart="if_changed")
    assert result["changed"] is False and result["restarted"] is False and stats["restarts"] == 0


def test_check_mode_never_restarts(fleet, run):
    reset(fleet, "per_device")
    _rc, _output, result, stats = run(["--check"], mode="per_user", restart="if_changed")
    assert result["changed"] is True and result["restarted"] is True
    assert stats["restarts"] == 0 and stats["writes"] == 0


def test_backup_is_written_before_the_change_and_undoes_it(fleet, run, tmp_path):
    reset(fleet, "per_device")
    _rc, _output, result, _stats = run(mode="per_user", license_servers=SERVERS, backup=True,
                                       backup_dir=str(tmp_path / "backups"))
    path = result["backup_file"]
    assert path.startswith(str(tmp_path / "backups" / "fresh-01" / "licensing-mode-")) and path.endswith(".reg")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path, "rb") as handle:
        raw = handle.read()
    assert raw.startswith(b"\xff\xfe")
    keys = {key.path: key.values for key in regfile.parse(regfile.decode(raw))}
    assert keys[f"HKEY_LOCAL_MACHINE\\{CORE}"]["LicensingMode"] == ("dword", 2)
    assert keys[f"HKEY_LOCAL_MACHINE\\{SERVERS_KEY}"]["SpecifiedLicenseServers"] == ("multistring", ["ls01.example.test"])


def test_backup_is_not_written_in_check_mode_or_without_change(fleet, run, tmp_path):
    reset(fleet, "per_user")
    backups = tmp_path / "backups"
    _rc, _output, result, _stats = run(["--check"], mode="per_device", backup=True, backup_dir=str(backups))
    assert result["changed"] is True and "backup_file" not in result
    _rc, _output, result, _stats = run(mode="per_user", backup=True, backup_dir=str(backups))
    assert result["changed"] is False and "backup_file" not in result
    assert not backups.exists()


def test_aad_per_user_needs_opt_in_and_a_recent_build(fleet, run):
    reset(fleet, "fresh+ws2016")
    _rc, _output, result, stats = run(mode="aad_per_user")
    assert result["failed"] and "allow_aad_per_user: true" in result["msg"] and stats["commands"] == 0
    _rc, _output, result, stats = run(mode="aad_per_user", allow_aad_per_user=True)
    assert result["failed"] and "Windows Server 2022 (build 20348)" in result["msg"] and "14393" in result["msg"]
    assert stats["writes"] == 0
    reset(fleet, "fresh+ws2022")
    _rc, _output, result, _stats = run(mode="aad_per_user", allow_aad_per_user=True)
    assert result["changed"] is True
    assert fleet.value("fresh-01", CORE, "LicensingMode") == {"type": "dword", "data": 6}


def test_workgroup_host_gets_a_per_user_warning(fleet, run):
    state = reset(fleet, "fresh")
    state["facts"]["domain"] = {"part_of_domain": False, "domain": "WORKGROUP", "domain_role": 2}
    state.pop("wmi")
    fleet.put_host("fresh-01", state)
    _rc, _output, result, _stats = run(mode="per_user")
    assert result["domain"] == {"part_of_domain": False, "domain": "WORKGROUP"}
    assert any("workgroup" in warning and "per_device" in warning for warning in result["warnings"])


@pytest.mark.parametrize("options,message", [
    ({"mode": "per_seat"}, "value of mode must be one of: per_user, per_device, aad_per_user"),
    ({"license_servers": ["ls01.example.test", "bad name"]}, "license_servers[1] 'bad name' is not a valid license server name"),
    ({"license_servers": ["ls01;$(reboot)"]}, "is not a valid license server name"),
    ({"license_servers": ["LS01", "ls01"]}, "lists 'ls01' twice"),
    ({"license_servers": []}, "clear_license_servers: true"),
    ({}, "Nothing to manage"),
])
def test_bad_input_fails_before_anything_is_sent(fleet, run, options, message):
    reset(fleet, "fresh")
    _rc, _output, result, stats = run(**options)
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert stats["commands"] == 0


def test_clear_license_servers_removes_the_value(fleet, run):
    reset(fleet, "per_user")
    _rc, output, result, _stats = run(["--diff"], clear_license_servers=True)
    assert result["changed"] is True and result["after"]["license_servers"] == []
    assert fleet.value("fresh-01", SERVERS_KEY, "SpecifiedLicenseServers") is None
    assert "-license servers: ls01.example.test, ls02.example.test" in output


def test_reg_sz_server_list_reads_the_same_in_licensing_info_and_licensing_mode(fleet, run, tmp_path):
    """A REG_SZ SpecifiedLicenseServers (what a registry tool writes by default) is one server to both modules."""
    reset(fleet, "per_device", registry={SERVERS_KEY: {"SpecifiedLicenseServers": {"type": "string", "data": "ls01"}}})
    _rc, _output, mode_result, _stats = run(["--check"], mode="per_device")
    assert mode_result["changed"] is False and not mode_result.get("failed"), mode_result
    info_playbook = os.path.join(ROOT, "tests", "integration", "playbooks", "licensing_info.yml")
    info_run = run_playbook(info_playbook, fleet.inventory, str(tmp_path / "info"))
    servers = info_run.results["fresh-01"]["licensing"]["license_servers"]
    before = mode_result["before"]
    assert servers["local"] == before["local_license_servers"] == ["ls01"]
    assert servers["effective"] == before["license_servers"] == ["ls01"]
    assert servers["source"] == before["license_servers_source"] == "local"
    warnings = info_run.results["fresh-01"]["licensing"]["warnings"]
    assert not any("No license server" in note for note in warnings)
    assert any("REG_MULTI_SZ" in note for note in warnings)
