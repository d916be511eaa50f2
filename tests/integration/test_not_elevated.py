"""A non-elevated agent (the not_elevated fault: a UAC-filtered token or a standard user) end to end: every writing
module fails with a message that names the token as the cause, says nothing was written and how to connect instead;
reads, check mode and licensing_info still work where Windows lets such a token read."""

from __future__ import annotations

import pytest

from tests.helpers.fleet import SimFleet, module_playbook_runner

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
GRACE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"
TIMEBOMB = "L$RTMTIMEBOMB_1320153D-8DA3-4e8e-B27B-0D888223A588"
MSLICENSING = "SOFTWARE\\Microsoft\\MSLicensing"
EXAMPLE = "SOFTWARE\\Example\\Licensing"
FILTERED = {"not_elevated": True}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("not-elevated")).up(1, ["per_device"])
    yield fleet
    fleet.down()


@pytest.fixture
def host(fleet):
    return fleet.hosts()[0]


@pytest.fixture
def run(fleet, tmp_path):
    return module_playbook_runner(fleet, tmp_path)


def names_elevation(result: dict) -> None:
    """The failure names the token as the cause and the fix (not the key's or namespace's own permissions)."""
    assert result["failed"] is True, result
    assert "agent.elevated is false" in result["msg"], result["msg"]
    assert "LocalAccountTokenFilterPolicy=1" in result["msg"], result["msg"]
    assert "Get-Acl" not in result["msg"] and "wmimgmt.msc" not in result["msg"], result["msg"]


def test_licensing_mode_fails_naming_elevation_and_writes_nothing(fleet, run, host):
    before = fleet.reset_host(host, "per_device", FILTERED)["registry"]
    result, stats, output = run("licensing_mode.yml", host, mode="per_user", license_servers=["ls09.example.test"])
    names_elevation(result)
    assert "Access denied" in result["msg"] and "Nothing was changed" in result["msg"]
    assert stats["writes"] == 0 and fleet.show(host)["registry"] == before
    # Said once, in the failure, not again as a warning.
    assert not any("agent.elevated is false" in warning for warning in result.get("warnings", []))
    # The warning's own words, with Ansible's line wrapping undone.
    assert "so protected keys read as absent or access denied" not in " ".join(output.split())


def test_licensing_mode_check_mode_still_reports_the_change(fleet, run, host):
    fleet.reset_host(host, "per_device", FILTERED)
    result, stats, _output = run("licensing_mode.yml", host, ["--check"], mode="per_user")
    assert not result.get("failed"), result
    assert result["changed"] is True and stats["writes"] == 0


def test_licensing_mode_with_restart_neither_writes_nor_restarts(fleet, run, host):
    """The first write is refused, so the restart after it is never tried (the restart's own refusal is a contract
    vector: not_elevated_refusals)."""
    before = fleet.reset_host(host, "per_device", FILTERED)["registry"]
    result, stats, _output = run("licensing_mode.yml", host, mode="per_user", restart="if_changed")
    names_elevation(result)
    assert stats["writes"] == 0 and stats["restarts"] == 0 and fleet.show(host)["registry"] == before
    assert fleet.show(host)["facts"].get("service_restarts", {}) == {}


def test_grace_period_reset_fails_naming_elevation_and_keeps_the_timebomb(fleet, run, host, tmp_path):
    fleet.reset_host(host, "grace_expired", FILTERED)
    result, stats, _output = run("grace_period.yml", host, state="reset", acknowledge_lab_use=True,
                                 restart="if_changed", backup_dir=str(tmp_path / "b"))
    names_elevation(result)
    assert "nothing was changed" in result["msg"] and "2022/2025" not in result["msg"]
    assert stats["writes"] == 0 and stats["restarts"] == 0
    assert fleet.value(host, GRACE, TIMEBOMB) is not None


def test_grace_period_query_reports_an_unknown_grace_period(fleet, run, host):
    fleet.reset_host(host, "grace_expired", FILTERED)
    result, stats, _output = run("grace_period.yml", host)
    assert not result.get("failed"), result
    assert result["grace_period"]["state"] == "unknown" and "non-elevated" in result["grace_period"]["error"]
    assert stats["writes"] == 0


def test_mslicensing_fails_naming_elevation_and_keeps_the_cache(fleet, run, host, tmp_path):
    before = fleet.reset_host(host, "client_cache", FILTERED)["registry"]
    result, stats, _output = run("mslicensing.yml", host, backup_dir=str(tmp_path / "b"))
    names_elevation(result)
    assert "Nothing was changed" in result["msg"]
    assert stats["writes"] == 0 and fleet.show(host)["registry"] == before
    assert any(key.lower() == MSLICENSING.lower() for key in before)


def test_mslicensing_check_mode_still_reports_what_would_go(fleet, run, host, tmp_path):
    fleet.reset_host(host, "client_cache", FILTERED)
    result, stats, _output = run("mslicensing.yml", host, ["--check"], backup_dir=str(tmp_path / "b"))
    assert not result.get("failed"), result
    assert result["changed"] is True and result["removed"]["64"]["store_entries"] == 2 and stats["writes"] == 0


def test_registry_values_fails_naming_elevation_and_writes_nothing(fleet, run, host):
    before = fleet.reset_host(host, "per_device", FILTERED)["registry"]
    values = [{"path": f"HKLM:\\{CORE}", "name": "LicensingMode", "type": "dword", "data": 4},
              {"path": f"HKLM:\\{EXAMPLE}", "name": "New", "type": "string", "data": "x"}]
    result, stats, _output = run("registry_values.yml", host, reg_values=values)
    names_elevation(result)
    assert f"HKLM:\\{CORE}" in result["msg"] and "Nothing was changed" in result["msg"]
    assert stats["writes"] == 0 and fleet.show(host)["registry"] == before


def test_registry_backup_reads_but_the_programdata_copy_is_refused(fleet, run, host, tmp_path):
    fleet.reset_host(host, "per_device", FILTERED)
    exported, _stats, _output = run("registry_backup.yml", host, backup_keys=[f"HKLM:\\{CORE}"],
                                    backup_dir=str(tmp_path / "b"))
    assert not exported.get("failed"), exported
    assert "LicensingMode" in exported["content"]
    copied, stats, _output = run("registry_backup.yml", host, backup_keys=[f"HKLM:\\{CORE}"], remote_copy=True,
                                 backup_dir=str(tmp_path / "c"))
    names_elevation(copied)
    assert "ProgramData" in copied["msg"] and "No copy was written on the host" in copied["msg"]
    assert copied["backup_file"] in copied["msg"]
    assert stats["writes"] == 0 and not fleet.show(host)["facts"].get("files")


def test_registry_restore_fails_naming_elevation_and_writes_nothing(fleet, run, host, tmp_path):
    before = fleet.reset_host(host, "per_device", FILTERED)["registry"]
    source = tmp_path / "change.reg"
    source.write_text("Windows Registry Editor Version 5.00\r\n\r\n"
                      f"[HKEY_LOCAL_MACHINE\\{CORE}]\r\n\"LicensingMode\"=dword:00000004\r\n", encoding="utf-16")
    result, stats, _output = run("registry_restore.yml", host, src=str(source), allow_other_host=True,
                                 backup_dir=str(tmp_path / "b"))
    names_elevation(result)
    assert "Nothing was changed" in result["msg"]
    assert stats["writes"] == 0 and fleet.show(host)["registry"] == before


def test_licensing_info_reads_the_registry_and_says_the_grace_period_is_unknown(fleet, run, host):
    fleet.reset_host(host, "per_device", FILTERED)
    result, stats, _output = run("licensing_info.yml", host)
    assert not result.get("failed"), result
    assert result["agent"]["elevated"] is False
    licensing = result["licensing"]
    assert licensing["mode"]["effective_name"] == "per_device"
    assert licensing["grace_period"]["state"] == "unknown"
    assert stats["writes"] == 0


def test_license_server_info_is_refused_on_a_license_server(fleet, run, host):
    """Win32_TSLicenseServer answers Administrators only: the failure names the token, not the namespace security."""
    fleet.reset_host(host, "license_server", FILTERED)
    result, stats, _output = run("license_server_info.yml", host)
    names_elevation(result)
    assert "Win32_TSLicenseServer" in result["msg"] and stats["writes"] == 0


def test_license_server_info_still_says_a_session_host_is_no_license_server(fleet, run, host):
    """A class that is not registered is InvalidClass for any token: the answer stays "not a license server"."""
    fleet.reset_host(host, "per_device", FILTERED)
    result, _stats, _output = run("license_server_info.yml", host)
    assert not result.get("failed"), result
    assert result["license_server"]["is_license_server"] is False
