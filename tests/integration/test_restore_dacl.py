"""Key permissions survive a .reg backup: mslicensing recreate_for_users, a backup of the cache users
filled, and registry_restore of that backup on another host put back the values and each key's own
DACL (rds-sim reports DACLs in facts.key_acl and through the agent's read_tree acl); check mode
writes nothing, a second run changes nothing, a failed write undoes the DACL, and a file that grants
rights outside the license cache is refused before anything is sent."""

from __future__ import annotations

import pytest

from tests.helpers.fleet import SimFleet, module_playbook_runner

MS = "SOFTWARE\\Microsoft\\MSLicensing"
STORE = MS + "\\Store"
USERS_GRANT = "D:(A;CI;KA;;;BU)"
# An own ACE on Store, as a user-created key may carry: Interactive users full control.
STORE_DACL = "D:(A;CI;KA;;;IU)"
CLIENT, FRESH = "client-cache-01", "fresh-02"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("restore-dacl")).up(2, ["client_cache", "fresh"])
    yield fleet
    fleet.down()


@pytest.fixture
def run(fleet, tmp_path):
    return module_playbook_runner(fleet, tmp_path)


def msl_tree(fleet, host):
    return {key: values for key, values in fleet.show(host)["registry"].items() if key.lower().startswith(MS.lower())}


def sddl_of(fleet, host, path):
    """The DACL the agent reads for a key (GetSecurityDescriptorSddlForm('Access'))."""
    answer = fleet.agent_client(host).run({"version": 2, "ops": [{"id": "r", "op": "read_key", "path": path, "view": 64, "acl": True}]})
    return answer["results"][0]["sddl"]


@pytest.fixture
def backup_of_a_filled_cache(fleet, run, tmp_path):
    """recreate_for_users on CLIENT, users fill the cache (one key with an own ACE), then mslicensing backs it up."""
    fleet.reset_host(CLIENT, "client_cache")
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"), recreate_for_users=True)
    assert result["recreated"] is True and fleet.show(CLIENT)["facts"]["key_acl"][MS] == USERS_GRANT
    state = fleet.show(CLIENT)
    state["registry"][STORE + "\\LICENSE000"] = {"ClientLicense": {"type": "binary", "data": "AQIDBA=="}}
    state["registry"][MS + "\\HardwareID"] = {"ClientHWID": {"type": "binary", "data": "BQYHCA=="}}
    state["registry"][STORE] = {}
    state["facts"]["key_acl"][STORE] = STORE_DACL
    fleet.put_host(CLIENT, state)
    filled = msl_tree(fleet, CLIENT)
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"), recreate_for_users=True)
    assert result["changed"] is True and result["removed"]["64"]["store_entries"] == 1
    return result["backup_file"], filled


def test_backup_records_each_keys_own_dacl_as_a_comment_after_its_key_line(backup_of_a_filled_cache):
    backup_file, _filled = backup_of_a_filled_cache
    with open(backup_file, "rb") as handle:
        lines = handle.read()[2:].decode("utf-16-le").split("\r\n")
    at = lines.index(f"[HKEY_LOCAL_MACHINE\\{MS}]")
    assert lines[at + 1] == f"; remote_desktop.licensing dacl: {USERS_GRANT}"
    at = lines.index(f"[HKEY_LOCAL_MACHINE\\{STORE}]")
    assert lines[at + 1] == f"; remote_desktop.licensing dacl: {STORE_DACL}"
    # A key that only inherits says so ("D:"), so a restore also takes away ACEs added after the backup.
    at = lines.index(f"[HKEY_LOCAL_MACHINE\\{STORE}\\LICENSE000]")
    assert lines[at + 1] == "; remote_desktop.licensing dacl: D:"


def test_restore_on_a_fresh_host_puts_back_values_and_dacls(fleet, run, backup_of_a_filled_cache, tmp_path):
    backup_file, filled = backup_of_a_filled_cache
    fleet.reset_host(FRESH, "fresh")
    before = fleet.show(FRESH)

    checked, stats, _output = run("registry_restore.yml", FRESH, ["--check", "--diff"], src=backup_file, allow_other_host=True)
    assert checked["changed"] is True and checked["dacls_set"] == 2, checked
    assert f"[HKLM:\\{MS}] DACL: {USERS_GRANT}" in checked["diff"]["after"]
    assert stats["writes"] == 0 and fleet.show(FRESH)["registry"] == before["registry"]
    assert "key_acl" not in fleet.show(FRESH)["facts"]

    restored, _stats, _output = run("registry_restore.yml", FRESH, src=backup_file, allow_other_host=True,
                                    backup_dir=str(tmp_path / "restore-backups"))
    assert restored["changed"] is True and restored["dacls_set"] == 2 and not restored.get("failed"), restored
    assert msl_tree(fleet, FRESH) == filled
    assert fleet.show(FRESH)["facts"]["key_acl"] == {MS: USERS_GRANT, STORE: STORE_DACL}
    # What the agent reads: the grant on the key, inherited (ID) by the license below Store.
    assert sddl_of(fleet, FRESH, MS).startswith("D:AI(A;CI;KA;;;BU)")
    assert "(A;CIID;KA;;;BU)" in sddl_of(fleet, FRESH, STORE + "\\LICENSE000")

    fleet.reset_stats()
    again, stats, _output = run("registry_restore.yml", FRESH, src=backup_file, allow_other_host=True,
                                backup_dir=str(tmp_path / "restore-backups"))
    assert again["changed"] is False and again["dacls_set"] == 0 and stats["writes"] == 0


def test_a_failed_write_undoes_the_dacl_with_the_rest(fleet, run, backup_of_a_filled_cache, tmp_path):
    backup_file, _filled = backup_of_a_filled_cache
    fleet.reset_host(FRESH, "fresh", faults={"write_denied": [MS + "\\HardwareID"]})
    before = fleet.show(FRESH)
    result, _stats, _output = run("registry_restore.yml", FRESH, src=backup_file, allow_other_host=True,
                                  backup_dir=str(tmp_path / "restore-backups"))
    assert result["failed"] is True and result["changed"] is False, result
    after = fleet.show(FRESH)
    assert after["registry"] == before["registry"] and not after["facts"].get("key_acl")


def test_a_file_granting_rights_outside_the_license_cache_is_refused_before_anything_is_sent(fleet, run, tmp_path):
    fleet.reset_host(FRESH, "fresh")
    hostile = tmp_path / "hostile.reg"
    hostile.write_bytes(("Windows Registry Editor Version 5.00\r\n\r\n"
                         "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run]\r\n"
                         "; remote_desktop.licensing dacl: D:(A;CI;KA;;;WD)\r\n").encode("utf-8"))
    result, stats, _output = run("registry_restore.yml", FRESH, src=str(hostile))
    assert result["failed"] is True and "DACLs are only restored inside" in result["msg"], result
    assert "Nothing was sent" in result["msg"] and stats["commands"] == 0 and stats["writes"] == 0
    # Inside the cache too: a protected DACL that allows neither SYSTEM nor Administrators would lock both out.
    lockout = tmp_path / "lockout.reg"
    lockout.write_bytes(("Windows Registry Editor Version 5.00\r\n\r\n"
                         f"[HKEY_LOCAL_MACHINE\\{MS}]\r\n"
                         "; remote_desktop.licensing dacl: D:P(A;CI;KR;;;BU)\r\n").encode("utf-8"))
    result, stats, _output = run("registry_restore.yml", FRESH, src=str(lockout))
    assert result["failed"] is True and "would lock both out of the key" in result["msg"], result
    assert "Nothing was sent" in result["msg"] and stats["commands"] == 0 and stats["writes"] == 0


def test_restoring_the_backup_of_a_cache_that_only_inherited_takes_the_users_grant_away(fleet, run, tmp_path):
    """The administrator's undo: a cache with inherited ACEs only, then mslicensing recreate_for_users grants
    BUILTIN\\Users; restoring the backup it made must leave the key inheriting only again."""
    fleet.reset_host(CLIENT, "client_cache")
    assert MS not in (fleet.show(CLIENT)["facts"].get("key_acl") or {})
    reset, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"), recreate_for_users=True)
    assert fleet.show(CLIENT)["facts"]["key_acl"][MS] == USERS_GRANT
    checked, _stats, output = run("registry_restore.yml", CLIENT, ["--check", "--diff"], src=reset["backup_file"])
    assert checked["dacls_set"] == 1 and "D: (inherited ACEs only)" in output, output
    restored, _stats, _output = run("registry_restore.yml", CLIENT, src=reset["backup_file"])
    assert restored["changed"] is True and restored["dacls_set"] == 1
    assert MS not in (fleet.show(CLIENT)["facts"].get("key_acl") or {}) or fleet.show(CLIENT)["facts"]["key_acl"][MS] in ("", "D:")
    assert "(A;CI;KA;;;BU)" not in sddl_of(fleet, CLIENT, MS)
    again, _stats, _output = run("registry_restore.yml", CLIENT, src=reset["backup_file"])
    assert again["changed"] is False

