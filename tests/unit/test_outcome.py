"""Reading back a write whose answer was lost: which reads, and what the host holds per operation."""

from __future__ import annotations

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _outcome as outcome
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
SERVERS = "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"
MSL = "SOFTWARE\\Microsoft\\MSLicensing"
GRACE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"
BOMB = "L$RTMTIMEBOMB_1"

MODE_OPS = [
    {"id": "write0", "op": "set_value", "path": CORE, "view": 64, "name": "LicensingMode", "type": "dword", "data": "4"},
    {"id": "write1", "op": "set_value", "path": SERVERS, "view": 64, "name": "SpecifiedLicenseServers",
     "type": "multistring", "data": ["ls01"]},
    {"id": "restart", "op": "restart_service", "names": ["TermService"]},
]


def key(*values, subkeys=()):
    return {"ok": True, "exists": True, "values": [{"name": n, "type": t, "data": d} for n, t, d in values],
            "subkeys": list(subkeys)}


def judge(ops, answers, backup=None):
    reads = outcome.read_ops(ops)
    results = {read["id"]: answers[index] for index, read in enumerate(reads) if index < len(answers)}
    return outcome.verify(ops, reads, results, backup)


def test_one_read_per_key_and_the_restarted_services():
    reads = outcome.read_ops(MODE_OPS + [{**MODE_OPS[0], "id": "write2", "name": "Other"}])
    assert reads == [{"id": "check0", "op": "read_key", "path": CORE, "view": 64},
                     {"id": "check1", "op": "read_key", "path": SERVERS, "view": 64},
                     {"id": "check_services", "op": "service_status", "names": ["TermService"]}]


def test_every_write_found_is_done_and_the_restart_decides_nothing():
    checks = judge(MODE_OPS, [key(("LicensingMode", "dword", 4)), key(("SpecifiedLicenseServers", "multistring", ["ls01"])),
                              {"ok": True, "services": {"TermService": {"exists": True, "status": "Running"}}}])
    assert [check.state for check in checks] == ["done", "done", "unknown"]
    assert checks[2].found == "TermService Running (a restart cannot be read back)"
    assert outcome.verdict(checks) == outcome.DONE


def test_nothing_found_is_not_done():
    checks = judge(MODE_OPS, [key(("LicensingMode", "dword", 5)), {"ok": True, "exists": False}])
    assert outcome.verdict(checks) == outcome.NOT_DONE
    assert checks[0].found == "REG_DWORD 5 (0x5)" and checks[1].found == "(absent)"


def test_half_found_is_partly_applied():
    checks = judge(MODE_OPS, [key(("LicensingMode", "dword", 4)), {"ok": True, "exists": False}])
    assert outcome.verdict(checks) == outcome.UNKNOWN
    assert "SpecifiedLicenseServers': not done (found (absent))" in outcome.summary(checks)


def test_a_key_that_cannot_be_read_leaves_its_writes_unknown():
    checks = judge(MODE_OPS[:1], [{"ok": False, "error": {"kind": "access_denied"}}])
    assert checks[0].state == "unknown" and outcome.verdict(checks) == outcome.UNKNOWN


def test_a_wrong_type_is_not_the_wanted_value():
    checks = judge(MODE_OPS[:1], [key(("LicensingMode", "string", "4"))])
    assert checks[0].state == "not done"


def test_deleted_values_and_qwords_beyond_two_to_the_63():
    ops = [{"id": "write0", "op": "delete_value", "path": "SOFTWARE\\X", "view": 32, "name": "Gone"},
           {"id": "write1", "op": "set_value", "path": "SOFTWARE\\X", "view": 32, "name": "Q", "type": "qword",
            "data": "18446744073709551615"}]
    checks = judge(ops, [key(("Q", "qword", 18446744073709551615))])
    assert [check.state for check in checks] == ["done", "done"]
    assert outcome.read_ops(ops)[0]["view"] == 32


def test_a_cache_deleted_and_recreated_empty_is_judged_by_the_recreation():
    ops = [{"id": "delete64", "op": "delete_tree", "path": MSL, "view": 64},
           {"id": "delete32", "op": "delete_tree", "path": MSL, "view": 32},
           {"id": "recreate", "op": "create_key", "path": MSL, "view": 64, "grant_users": True}]
    done = judge(ops, [key(), {"ok": True, "exists": False}])
    assert [(check.op_id, check.state) for check in done] == [("delete32", "done"), ("recreate", "done")]
    still = judge(ops, [key(subkeys=["HardwareID", "Store"]), key()])
    assert [check.state for check in still] == ["not done", "not done"]
    assert still[1].found == "still holds HardwareID, Store"
    assert outcome.verdict(still) == outcome.NOT_DONE


def test_a_restored_key_may_hold_only_what_the_restore_put_back():
    ops = [{"id": "key0", "op": "delete_tree", "path": MSL, "view": 64},
           {"id": "key1", "op": "create_key", "path": MSL, "view": 64},
           {"id": "key2", "op": "create_key", "path": MSL + "\\Store", "view": 64},
           {"id": "write0", "op": "set_value", "path": MSL, "view": 64, "name": "A", "type": "string", "data": "x"}]
    good = judge(ops, [key(("A", "string", "x"), subkeys=["Store"]), key()])
    assert outcome.verdict(good) == outcome.DONE
    stale = judge(ops, [key(("A", "string", "x"), ("Old", "string", "y"), subkeys=["Store"]), key()])
    assert stale[0].state == "not done" and stale[0].found == "still holds Old"


def test_a_grace_reset_is_judged_against_the_backup():
    ops = [{"id": "reset", "op": "grace_reset", "path": GRACE}, {"id": "restart", "op": "restart_service", "names": ["TermService"]}]
    backup = [RegKey(f"HKEY_LOCAL_MACHINE\\{GRACE}", values={BOMB: ("binary", b"\x01\x02")})]
    services = {"ok": True, "services": {"TermService": {"exists": True, "status": "Running"}}}
    # A restart writes a new timebomb: only the old one matters.
    renewed = judge(ops, [key((BOMB, "binary", "AwQ=")), services], backup)
    assert renewed[0].state == "done" and outcome.verdict(renewed) == outcome.DONE
    old = judge(ops, [key((BOMB, "binary", "AQI=")), services], backup)
    assert old[0].state == "not done"
    assert judge(ops, [key(), services], None)[0].state == "unknown"


def test_a_long_summary_is_cut_short_and_points_at_the_full_list():
    ops = [{"id": f"write{index}", "op": "delete_value", "path": "SOFTWARE\\X", "view": 64, "name": f"V{index}"}
           for index in range(15)]
    text = outcome.summary(judge(ops, [key()]))
    assert text.count(": done") == 12 and text.endswith("; and 3 more (see lost_answer.found)")


def test_a_restored_dacl_is_read_with_acl_and_judged_by_the_keys_own_part():
    ops = [{"id": "key0", "op": "create_key", "path": MSL, "view": 64},
           {"id": "dacl1", "op": "set_key_dacl", "path": MSL, "view": 64, "sddl": "D:(A;CI;KA;;;BU)"}]
    assert outcome.read_ops(ops) == [{"id": "check0", "op": "read_key", "path": MSL, "view": 64, "acl": True}]
    done = judge(ops, [{**key(), "sddl": "D:AI(A;CI;KA;;;BU)(A;CIID;KA;;;SY)"}])
    assert outcome.verdict(done) == outcome.DONE
    missing = judge(ops, [{**key(), "sddl": "D:AI(A;CIID;KA;;;SY)"}])
    assert [check.state for check in missing] == ["done", "not done"] and missing[1].found == "D:"
