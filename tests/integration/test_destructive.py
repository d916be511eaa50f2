"""Destructive changes end to end: every one is preceded by a verified backup that the collection
itself restores; dropped connections and denied access never give a false success."""

from __future__ import annotations

import base64

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile as regfile
from tests.helpers.fleet import SimFleet, module_playbook_runner

MSLICENSING = "SOFTWARE\\Microsoft\\MSLicensing"
GRACE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"
TIMEBOMB = "L$RTMTIMEBOMB_1320153D-8DA3-4e8e-B27B-0D888223A588"
CLIENT, GRACE_HOST = "client-cache-01", "grace-expired-02"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("destructive")).up(2, ["client_cache", "grace_expired"])
    yield fleet
    fleet.down()


@pytest.fixture
def run(fleet, tmp_path):
    """Run one of the module playbooks on one host; returns (result, the host's counters, output)."""
    return module_playbook_runner(fleet, tmp_path)


def tree(fleet, host, prefix):
    return {key: values for key, values in fleet.show(host)["registry"].items()
            if key.lower() == prefix.lower() or key.lower().startswith(prefix.lower() + "\\")}


def backups(directory):
    return sorted(str(path) for path in directory.rglob("*.reg")) if directory.exists() else []


def test_mslicensing_check_mode_reports_and_touches_nothing(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache")
    before = fleet.show(CLIENT)["registry"]
    result, stats, _output = run("mslicensing.yml", CLIENT, ["--check"], backup_dir=str(tmp_path / "b"))
    assert result["changed"] is True
    assert result["removed"]["64"] == {"hardware_id": True, "store_entries": 2, "keys": 5, "values": 3}
    assert stats["writes"] == 0 and fleet.show(CLIENT)["registry"] == before
    assert backups(tmp_path / "b") == [] and "backup_file" not in result


def test_mslicensing_backup_then_clear_then_restore_exactly(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache", registry={
        "SOFTWARE\\Wow6432Node\\Microsoft\\MSLicensing\\HardwareID": {"ClientHWID": {"type": "binary", "data": "AQIDBA=="}}})
    original = fleet.show(CLIENT)["registry"]
    result, stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    assert result["changed"] is True and stats["commands"] == 2 and stats["shells"] == 1
    assert result["removed"]["32"]["hardware_id"] is True
    # The backup parses back to exactly the two trees that were there.
    with open(result["backup_file"], "rb") as handle:
        keys = {key.path: key.values for key in regfile.parse(regfile.decode(handle.read()))}
    assert keys["HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\MSLicensing\\HardwareID"] == {"ClientHWID": ("binary", b"\x01\x02\x03\x04")}
    assert len(keys) == 7
    assert tree(fleet, CLIENT, MSLICENSING) == {} and tree(fleet, CLIENT, "SOFTWARE\\Wow6432Node\\Microsoft\\MSLicensing") == {}

    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    assert result["changed"] is False and len(backups(tmp_path / "b")) == 1

    restored, _stats, _output = run("registry_restore.yml", CLIENT, src=result.get("backup_file") or backups(tmp_path / "b")[0])
    assert restored["changed"] is True and restored["keys_created"] == 7
    assert fleet.show(CLIENT)["registry"] == original
    fleet.reset_stats()
    again, stats, _output = run("registry_restore.yml", CLIENT, src=backups(tmp_path / "b")[0])
    assert again["changed"] is False and stats["writes"] == 0


def test_connection_dropped_before_the_delete(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache", faults={"drop_before_write": True})
    original = fleet.show(CLIENT)["registry"]
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    assert result["failed"] is True and result["changed"] is False, result
    assert "nothing was changed" in result["msg"]
    assert backups(tmp_path / "b") == [result["backup_file"]]
    assert fleet.show(CLIENT)["registry"] == original
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    assert result["changed"] is True and tree(fleet, CLIENT, MSLICENSING) == {}


def test_connection_dropped_after_the_delete(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache", faults={"drop_after_write": True})
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    # The delete happened but the answer never came: the host is read back, so the task reports the
    # change (with a warning) and names the backup, never "changed: false".
    assert result["changed"] is True and not result.get("failed"), result
    assert result["lost_answer"]["outcome"] == "done"
    assert backups(tmp_path / "b") == [result["backup_file"]]
    assert tree(fleet, CLIENT, MSLICENSING) == {}
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    assert result["changed"] is False and not result.get("failed")


def test_access_denied_on_delete_keeps_everything(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache", faults={"write_denied": [MSLICENSING]})
    original = fleet.show(CLIENT)["registry"]
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    assert result["failed"] is True and "Access denied" in result["msg"] and "elevated" in result["msg"]
    assert result["backup_file"] == backups(tmp_path / "b")[0]
    assert fleet.show(CLIENT)["registry"] == original


def test_recreate_for_users_leaves_an_empty_key_users_may_write(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache")
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"), recreate_for_users=True)
    assert result["changed"] is True and result["recreated"] is True
    state = fleet.show(CLIENT)
    assert tree(fleet, CLIENT, MSLICENSING) == {MSLICENSING: {}}
    assert state["facts"]["key_acl"][MSLICENSING] == "D:(A;CI;KA;;;BU)"
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"), recreate_for_users=True)
    assert result["changed"] is False


def test_unwritable_backup_dir_fails_before_anything_changes(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    result, stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(blocker / "sub"))
    assert result["failed"] is True and "Backup failed, so the license cache was not removed" in result["msg"]
    assert stats["writes"] == 0 and tree(fleet, CLIENT, MSLICENSING)


def test_missing_backup_dir_parents_are_created(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache")
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "deep" / "er"))
    assert result["backup_file"].startswith(str(tmp_path / "deep" / "er" / CLIENT))


def test_grace_reset_refuses_without_acknowledgement(fleet, run):
    before = fleet.reset_host(GRACE_HOST, "grace_expired")["registry"]
    result, stats, _output = run("grace_period.yml", GRACE_HOST, state="reset")
    assert result["failed"] is True and "acknowledge_lab_use: true" in result["msg"] and "licenses nothing" in result["msg"]
    assert stats["commands"] == 0 and fleet.show(GRACE_HOST)["registry"] == before


def test_grace_reset_backs_up_takes_ownership_and_restores_the_acl(fleet, run, tmp_path):
    fleet.reset_host(GRACE_HOST, "grace_expired")
    check, stats, _output = run("grace_period.yml", GRACE_HOST, ["--check"], state="reset", acknowledge_lab_use=True)
    assert check["changed"] is True and check["deleted"] == [TIMEBOMB] and stats["writes"] == 0
    result, _stats, _output = run("grace_period.yml", GRACE_HOST, state="reset", acknowledge_lab_use=True,
                                  backup_dir=str(tmp_path / "b"))
    assert result["changed"] is True and result["deleted"] == [TIMEBOMB]
    assert result["acl_restored"] is True and result["restart_required"] is True
    assert fleet.value(GRACE_HOST, GRACE, TIMEBOMB) is None
    with open(result["backup_file"], "rb") as handle:
        (key,) = regfile.parse(regfile.decode(handle.read()))
    assert key.values[TIMEBOMB][0] == "binary" and len(key.values[TIMEBOMB][1]) == 230
    # A restart starts a new grace period: TermService writes a new timebomb.
    again, _stats, _output = run("grace_period.yml", GRACE_HOST, state="reset", acknowledge_lab_use=True, restart="if_changed",
                                 backup_dir=str(tmp_path / "b"))
    assert again["changed"] is False


def test_a_grace_reset_backup_is_refused_by_registry_restore_before_anything_is_written(fleet, run, tmp_path):
    """Windows lets only NETWORK SERVICE change the GracePeriod key: the restore says so instead of failing on access
    denied after a backup, and a file whose GracePeriod block the host already matches restores the rest."""
    fleet.reset_host(GRACE_HOST, "grace_expired")
    result, _stats, _output = run("grace_period.yml", GRACE_HOST, state="reset", acknowledge_lab_use=True,
                                  backup_dir=str(tmp_path / "b"))
    assert result["changed"] is True
    fleet.reset_stats()
    restored, stats, _output = run("registry_restore.yml", GRACE_HOST, src=result["backup_file"], backup=True,
                                   backup_dir=str(tmp_path / "b"))
    assert restored["failed"] is True
    assert "would change the grace period key, and registry_restore does not write there" in restored["msg"]
    assert "NETWORK SERVICE" in restored["msg"] and "Nothing was written" in restored["msg"]
    assert stats["writes"] == 0 and backups(tmp_path / "b") == [result["backup_file"]]
    assert fleet.value(GRACE_HOST, GRACE, TIMEBOMB) is None
    # The file before the reset matches a host whose timebomb is back: nothing to write, nothing refused.
    fleet.reset_host(GRACE_HOST, "grace_expired")
    with open(result["backup_file"], "rb") as handle:
        (key,) = regfile.parse(regfile.decode(handle.read()))
    fleet.reset_host(GRACE_HOST, "grace_expired", registry={GRACE: {
        TIMEBOMB: {"type": "binary", "data": base64.b64encode(key.values[TIMEBOMB][1]).decode()}}})
    same, stats, _output = run("registry_restore.yml", GRACE_HOST, src=result["backup_file"])
    assert same.get("failed") is not True and same["changed"] is False, same


def test_grace_reset_with_restart_starts_a_new_grace_period(fleet, run, tmp_path):
    fleet.reset_host(GRACE_HOST, "grace_expired")
    result, stats, _output = run("grace_period.yml", GRACE_HOST, state="reset", acknowledge_lab_use=True,
                                 restart="if_changed", backup_dir=str(tmp_path / "b"))
    assert result["restarted"] is True and result["restart_required"] is False and stats["restarts"] == 1
    query, _stats, _output = run("grace_period.yml", GRACE_HOST)
    assert query["grace_period"]["state"] == "active" and query["grace_period"]["days_left"] == 120


def test_grace_reset_on_a_hardened_host_changes_nothing(fleet, run, tmp_path):
    before = fleet.reset_host(GRACE_HOST, "grace_expired", faults={"ownership_refused": True})["registry"]
    result, _stats, _output = run("grace_period.yml", GRACE_HOST, state="reset", acknowledge_lab_use=True,
                                  backup_dir=str(tmp_path / "b"))
    assert result["failed"] is True and "nothing was changed" in result["msg"] and "SYSTEM" in result["msg"]
    assert fleet.show(GRACE_HOST)["registry"] == before


@pytest.mark.parametrize("scenario,state,configured", [
    ("grace_expiring", "expiring", False), ("per_user", "active", True), ("per_device+grace_expired", "expired", True),
])
def test_grace_query(fleet, run, scenario, state, configured):
    fleet.reset_host(GRACE_HOST, scenario)
    result, stats, _output = run("grace_period.yml", GRACE_HOST)
    assert result["changed"] is False and stats["commands"] == 1 and stats["writes"] == 0
    assert result["grace_period"]["state"] == state and result["licensing_configured"] is configured


def test_grace_query_explains_a_wmi_failure(fleet, run):
    fleet.reset_host(GRACE_HOST, "per_user", faults={"wmi_grace": True})
    result, _stats, _output = run("grace_period.yml", GRACE_HOST)
    assert result["grace_period"]["state"] == "unknown" and result["grace_period"]["hresult"] == "0x80070002"


def test_restore_refuses_deletions_outside_the_allow_list(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache")
    source = tmp_path / "evil.reg"
    source.write_bytes(regfile.encode(regfile.render([
        regfile.RegKey("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\MSLicensing", delete=True),
        regfile.RegKey("HKEY_LOCAL_MACHINE\\SOFTWARE", delete=True)])))
    result, stats, _output = run("registry_restore.yml", CLIENT, src=str(source))
    assert result["failed"] is True and "[-HKEY_LOCAL_MACHINE\\SOFTWARE] would delete a whole key outside" in result["msg"]
    assert stats["commands"] == 0 and tree(fleet, CLIENT, MSLICENSING)


def test_restore_refuses_a_file_above_the_size_limit_before_reading_it(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache")
    fleet.reset_stats()
    big = tmp_path / "big.reg"
    keys = [regfile.RegKey(f"HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\MSLicensing\\K{index}", values={"v": ("string", "x" * 100)})
            for index in range(2000)]
    big.write_bytes(regfile.encode(regfile.render(keys)))
    result, stats, _output = run("registry_restore.yml", CLIENT, src=str(big), max_file_size_kb=64)
    assert result["failed"] is True and "above max_file_size_kb=64; it was not read" in result["msg"], result["msg"]
    assert stats["commands"] == 0 and tree(fleet, CLIENT, MSLICENSING)
    # Raised, the same file is applied.
    result, stats, _output = run("registry_restore.yml", CLIENT, src=str(big), max_file_size_kb=4096, allow_other_host=True)
    assert not result.get("failed") and result["keys_created"] == 2000, result.get("msg")


@pytest.mark.parametrize("text,message", [
    ("Windows Registry Editor 4.00\r\n", "not a .reg file"),
    ("REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n\"a\"=hex:0g,01\r\n", "line 4: hex data is not comma-separated bytes"),
    ("REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n\"a\"=\"open\r\n", "line 4: unterminated quoted string"),
    ("REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\Software\\X]\r\n\"a\"=\"b\"\r\n", "only HKLM keys"),
])
def test_malformed_restore_files_name_the_line_and_send_nothing(fleet, run, tmp_path, text, message):
    fleet.reset_stats()
    source = tmp_path / "bad.reg"
    source.write_bytes(text.encode("ascii"))
    result, stats, _output = run("registry_restore.yml", CLIENT, src=str(source))
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert stats["commands"] == 0


def test_registry_backup_exports_content_and_keeps_a_copy_on_the_host(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache")
    keys = [f"HKLM:\\{MSLICENSING}", "HKLM\\SOFTWARE\\NoSuchKey"]
    result, stats, _output = run("registry_backup.yml", CLIENT, ["--check"], backup_keys=keys, backup_dir=str(tmp_path / "b"),
                                 remote_copy=True)
    assert result["changed"] is False and stats["writes"] == 0 and "remote_file" not in result
    assert result["missing_keys"] == ["HKLM:\\SOFTWARE\\NoSuchKey"] and result["exported"][0]["keys"] == 5
    assert result["content"].startswith("Windows Registry Editor Version 5.00\r\n")
    with open(result["backup_file"], "rb") as handle:
        assert regfile.parse(regfile.decode(handle.read())) == regfile.parse(result["content"])
    result, stats, _output = run("registry_backup.yml", CLIENT, backup_keys=keys, backup_dir=str(tmp_path / "b"), remote_copy=True)
    assert result["changed"] is True and stats["writes"] == 1
    assert result["remote_file"].startswith("C:\\ProgramData\\RemoteDesktopLicensing\\Backups\\mslicensing-")
    assert result["remote_file"] in fleet.show(CLIENT)["facts"]["files"]
