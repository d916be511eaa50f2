"""Safety end to end over winrm against rds-sim: a lost answer to a write is read back and reported as
what the host holds; backups default outside any collection; a restore refuses another host's backup."""

from __future__ import annotations

import os

import pytest

from tests.helpers.fleet import SimFleet, module_playbook_runner

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
MSLICENSING = "SOFTWARE\\Microsoft\\MSLicensing"
GRACE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"
TIMEBOMB = "L$RTMTIMEBOMB_1320153D-8DA3-4e8e-B27B-0D888223A588"
MODE_HOST, CLIENT, OTHER_CLIENT, GRACE_HOST = "fresh-01", "client-cache-02", "client-cache-03", "grace-expired-04"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("safety")).up(4, ["fresh", "client_cache", "client_cache", "grace_expired"])
    assert fleet.hosts() == [MODE_HOST, CLIENT, OTHER_CLIENT, GRACE_HOST]
    yield fleet
    fleet.down()


@pytest.fixture
def home(tmp_path):
    """The controller user's home for the run, so that default backups never land in the real one."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def run(fleet, tmp_path, home):
    """Run one of the module playbooks on one host; returns (result, the host's counters, output)."""
    return module_playbook_runner(fleet, tmp_path, env={"HOME": str(home)})


def backups(directory):
    return sorted(str(path) for path in directory.rglob("*.reg")) if directory.exists() else []


def tree(fleet, host, prefix):
    return {key: values for key, values in fleet.show(host)["registry"].items()
            if key.lower() == prefix.lower() or key.lower().startswith(prefix.lower() + "\\")}


# A lost answer to the write call ---------------------------------------------------------------

def test_licensing_mode_answer_lost_after_the_write_reports_the_change(fleet, run, tmp_path):
    fleet.reset_host(MODE_HOST, "fresh", faults={"drop_after_write": True})
    result, stats, output = run("licensing_mode.yml", MODE_HOST, mode="per_user", restart="if_changed", backup=True,
                                backup_dir=str(tmp_path / "b"))
    assert result["changed"] is True and not result.get("failed") and not result.get("unreachable"), result
    assert fleet.value(MODE_HOST, CORE, "LicensingMode") == {"type": "dword", "data": 4}
    assert result["after"]["mode"] == 4
    assert result["backup_file"] == backups(tmp_path / "b")[0]
    lost = result["lost_answer"]
    assert lost["outcome"] == "done" and "RemoteDisconnected" in lost["cause"]
    assert {"operation": f"HKLM:\\{CORE} 'LicensingMode'", "state": "done", "found": "REG_DWORD 4 (0x4)"} in lost["found"]
    (warning,) = [line for line in result["warnings"] if "answer to the write request was lost" in line]
    assert "every change is in place" in warning and result["backup_file"] in warning
    assert "cannot be read back" in warning and "[WARNING]" in output
    # The restart ran on the host before the answer was lost; one more call read the host back.
    assert stats["restarts"] == 1 and stats["commands"] == 3
    # A restart cannot be read back: not reported as done, and still asked for.
    assert result["restarted"] is None and result["restart_required"] is True
    again, _stats, _output = run("licensing_mode.yml", MODE_HOST, mode="per_user", backup=True, backup_dir=str(tmp_path / "b"))
    assert again["changed"] is False and "lost_answer" not in again


def test_licensing_mode_connection_lost_before_the_write_reports_nothing_changed(fleet, run, tmp_path):
    before = fleet.reset_host(MODE_HOST, "fresh", faults={"drop_before_write": True})["registry"]
    result, stats, _output = run("licensing_mode.yml", MODE_HOST, mode="per_user", backup=True, backup_dir=str(tmp_path / "b"))
    assert result["failed"] is True and result["changed"] is False, result
    assert "nothing was changed" in result["msg"] and "Rerun the task" in result["msg"]
    assert result["backup_file"] == backups(tmp_path / "b")[0] and result["backup_file"] in result["msg"]
    assert result["lost_answer"]["outcome"] == "not done"
    assert fleet.show(MODE_HOST)["registry"] == before and stats["writes"] == 0
    again, _stats, _output = run("licensing_mode.yml", MODE_HOST, mode="per_user")
    assert again["changed"] is True and not again.get("failed")


def test_host_gone_after_the_write_is_a_failure_that_may_be_partly_applied(fleet, run, tmp_path):
    fleet.reset_host(MODE_HOST, "fresh", faults={"down_after_write": True})
    result, _stats, _output = run("licensing_mode.yml", MODE_HOST, mode="per_user", backup=True, backup_dir=str(tmp_path / "b"))
    fleet.set_faults(MODE_HOST, {})
    # The write ran, but nothing can be read back: a failure that says so, never "changed: false".
    assert result["failed"] is True and result["changed"] is True, result
    assert "reading the host back after reconnecting failed too" in result["msg"] and "PARTLY APPLIED" in result["msg"]
    assert result["backup_file"] == backups(tmp_path / "b")[0] and result["backup_file"] in result["msg"]
    assert result["lost_answer"]["outcome"] == "unknown"
    assert fleet.value(MODE_HOST, CORE, "LicensingMode") == {"type": "dword", "data": 4}


def test_mslicensing_answer_lost_after_the_delete_reports_the_change_and_the_backup(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache", faults={"drop_after_write": True})
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"), recreate_for_users=True)
    assert result["changed"] is True and not result.get("failed") and not result.get("unreachable"), result
    assert result["removed"]["64"]["hardware_id"] is True and result["recreated"] is True
    assert tree(fleet, CLIENT, MSLICENSING) == {MSLICENSING: {}}
    assert result["backup_file"] == backups(tmp_path / "b")[0]
    assert result["lost_answer"]["outcome"] == "done"
    assert any(result["backup_file"] in warning and "every change is in place" in warning for warning in result["warnings"])
    again, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"), recreate_for_users=True)
    assert again["changed"] is False


def test_mslicensing_connection_lost_before_the_delete_names_the_backup(fleet, run, tmp_path):
    before = fleet.reset_host(CLIENT, "client_cache", faults={"drop_before_write": True})["registry"]
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    assert result["failed"] is True and result["changed"] is False and not result.get("unreachable"), result
    assert "nothing was changed" in result["msg"] and f"{MSLICENSING} (whole key deleted): not done" in result["msg"]
    assert result["backup_file"] == backups(tmp_path / "b")[0] and result["backup_file"] in result["msg"]
    assert fleet.show(CLIENT)["registry"] == before


def test_registry_values_answer_lost_after_the_write(fleet, run, tmp_path):
    fleet.reset_host(MODE_HOST, "fresh", faults={"drop_after_write": True})
    values = [{"path": "HKLM\\SOFTWARE\\Contoso", "name": "A", "type": "multistring", "data": ["x", "y"]},
              {"path": "HKLM\\SOFTWARE\\Contoso", "name": "B", "type": "qword", "data": 18446744073709551615}]
    result, _stats, _output = run("registry_values.yml", MODE_HOST, reg_values=values)
    assert result["changed"] is True and not result.get("failed"), result
    assert [item["state"] for item in result["lost_answer"]["found"]] == ["done", "done"]
    assert fleet.value(MODE_HOST, "SOFTWARE\\Contoso", "B") == {"type": "qword", "data": 18446744073709551615}


def test_grace_reset_answer_lost_is_judged_against_the_backup(fleet, run, tmp_path):
    fleet.reset_host(GRACE_HOST, "grace_expired", faults={"drop_after_write": True})
    result, stats, _output = run("grace_period.yml", GRACE_HOST, state="reset", acknowledge_lab_use=True,
                                 restart="if_changed", backup_dir=str(tmp_path / "b"))
    assert result["changed"] is True and not result.get("failed"), result
    assert result["deleted"] == [TIMEBOMB] and result["acl_restored"] is None
    assert result["lost_answer"]["outcome"] == "done" and stats["restarts"] == 1
    assert result["restarted"] is None and result["restart_required"] is True


def test_registry_restore_answer_lost_before_the_write(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache")
    cleared, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    fleet.set_faults(CLIENT, {"drop_before_write": True})
    result, _stats, _output = run("registry_restore.yml", CLIENT, src=cleared["backup_file"], backup=True,
                                  backup_dir=str(tmp_path / "b"))
    assert result["failed"] is True and result["changed"] is False and "nothing was changed" in result["msg"], result
    assert tree(fleet, CLIENT, MSLICENSING) == {}


# Backups outside any collection ------------------------------------------------------------------

def test_backups_default_to_the_home_directory_outside_any_collection(fleet, run, home):
    fleet.reset_host(MODE_HOST, "fresh")
    result, _stats, _output = run("licensing_mode.yml", MODE_HOST, mode="per_device", backup=True)
    assert result["changed"] is True and not result.get("failed"), result
    expected = home / ".ansible" / "remote_desktop.licensing" / "backups" / MODE_HOST
    assert result["backup_file"].startswith(str(expected) + os.sep)
    assert backups(home) == [result["backup_file"]]


def test_a_backup_dir_inside_an_installed_collection_is_refused_before_the_host_is_touched(fleet, run, tmp_path):
    before = fleet.reset_host(CLIENT, "client_cache")["registry"]
    inside = tmp_path / "collections" / "ansible_collections" / "remote_desktop" / "licensing" / "playbooks" / "backup"
    result, stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(inside))
    assert result["failed"] is True and "inside an installed collection" in result["msg"] and "Set backup_dir" in result["msg"]
    assert stats["commands"] == 0 and fleet.show(CLIENT)["registry"] == before
    assert not (tmp_path / "collections").exists()


# Restore safety ------------------------------------------------------------------------------------

def test_restore_refuses_another_hosts_backup_unless_allowed(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache")
    fleet.reset_host(OTHER_CLIENT, "client_cache", registry={
        MSLICENSING + "\\HardwareID": {"ClientHWID": {"type": "binary", "data": "CQkJCQ=="}}})
    taken, _stats, _output = run("mslicensing.yml", OTHER_CLIENT, backup_dir=str(tmp_path / "b"))
    assert f"; Source host: {OTHER_CLIENT}" in open(taken["backup_file"], "rb").read().decode("utf-16")
    before = fleet.show(CLIENT)["registry"]
    fleet.reset_stats()

    refused, stats, _output = run("registry_restore.yml", CLIENT, src=taken["backup_file"])
    assert refused["failed"] is True and stats["commands"] == 0, refused
    assert f"taken on {OTHER_CLIENT}, not on {CLIENT}" in refused["msg"] and "allow_other_host: true" in refused["msg"]
    assert "HardwareID" in refused["msg"] and fleet.show(CLIENT)["registry"] == before

    allowed, _stats, _output = run("registry_restore.yml", CLIENT, src=taken["backup_file"], allow_other_host=True)
    assert allowed["changed"] is True and allowed["source_host"] == OTHER_CLIENT
    assert any(f"taken on {OTHER_CLIENT} and applied to {CLIENT}" in warning for warning in allowed["warnings"])
    assert fleet.value(CLIENT, MSLICENSING + "\\HardwareID", "ClientHWID") == {"type": "binary", "data": "CQkJCQ=="}


def test_restore_of_a_file_without_a_source_host_warns(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache")
    export = tmp_path / "regedit-export.reg"
    export.write_bytes(("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso]\r\n"
                        "\"A\"=dword:00000001\r\n\r\n").encode("utf-16"))
    result, _stats, _output = run("registry_restore.yml", CLIENT, src=str(export))
    assert result["changed"] is True and result["source_host"] is None
    assert any("does not say which host it was taken on" in warning for warning in result["warnings"])


def test_restore_of_a_missing_file_says_what_to_do_without_naming_remote_src(fleet, run, tmp_path):
    fleet.reset_stats()
    result, stats, _output = run("registry_restore.yml", CLIENT, src=str(tmp_path / "nowhere.reg"))
    assert result["failed"] is True and "was not found on the controller" in result["msg"]
    assert "remote_src" not in result["msg"] and "ansible.builtin.fetch" in result["msg"]
    assert stats["commands"] == 0


def test_a_backup_is_restored_by_its_file_name_from_the_hosts_backup_directory(fleet, run, tmp_path):
    """src as the file name a module printed: found under <backup_dir>/<inventory_hostname>/; another name is refused
    naming where it was looked for."""
    fleet.reset_host(CLIENT, "client_cache")
    cleared, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    name = os.path.basename(cleared["backup_file"])
    restored, _stats, _output = run("registry_restore.yml", CLIENT, src=name, backup_dir=str(tmp_path / "b"))
    assert restored["changed"] is True and not restored.get("failed"), restored
    assert tree(fleet, CLIENT, MSLICENSING)
    fleet.reset_stats()
    missing, stats, _output = run("registry_restore.yml", CLIENT, src="no-such-backup.reg", backup_dir=str(tmp_path / "b"))
    assert missing["failed"] is True and str(tmp_path / "b" / CLIENT) in missing["msg"], missing
    assert stats["commands"] == 0
