"""Planning value changes: reads, comparison, write operations, diff, backup and write failures."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes as changes
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._changes import Wanted
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import AgentError

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"


def read(values, exists=True):
    return {"ok": True, "exists": exists, "values": values, "subkeys": []}


def test_one_read_per_key_whatever_the_spelling_and_view():
    reads = changes.KeyReads([
        Wanted(CORE, "A"), Wanted(CORE.upper(), "B"), Wanted(CORE, "C", 32),
        Wanted("SOFTWARE\\X", "A"), Wanted("SOFTWARE\\X", "A", 32),
    ])
    ops = reads.ops()
    # The 32-bit view is another key only under SOFTWARE.
    assert [(op["path"], op["view"]) for op in ops] == [(CORE, 64), ("SOFTWARE\\X", 64), ("SOFTWARE\\X", 32)]
    assert all(op["op"] == "read_key" for op in ops)


def test_plan_compares_by_type_and_data_and_names_without_case():
    wanted = [
        Wanted(CORE, "licensingmode", value=("dword", 4)),
        Wanted(CORE, "Servers", value=("multistring", ["a", "b"])),
        Wanted(CORE, "Text", value=("string", "4")),
        Wanted(CORE, "Gone"),
        Wanted("SOFTWARE\\Missing", "X", value=("dword", 1)),
    ]
    reads = changes.KeyReads(wanted)
    results = {"key0": read([
        {"name": "LicensingMode", "type": "dword", "data": 4},
        {"name": "Servers", "type": "multistring", "data": ["b", "a"]},
        {"name": "Text", "type": "dword", "data": 4},
    ]), "key1": read([], exists=False)}
    planned = changes.plan(wanted, reads.values(results))
    assert [change.changed for change in planned] == [False, True, True, False, True]
    assert planned[2].before == ("dword", 4) and planned[2].after == ("string", "4")


def test_a_failed_read_names_the_key_and_the_remedy():
    reads = changes.KeyReads([Wanted(CORE, "A")])
    with pytest.raises(AgentError, match=r"Access denied on HKLM:\\SYSTEM.*elevated local administrator"):
        reads.values({"key0": {"ok": False, "error": {"kind": "access_denied", "message": "denied"}}})


def test_write_ops_carry_numbers_as_decimal_text_and_bytes_as_base64():
    planned = [
        changes.Change(Wanted(CORE, "Q", value=("qword", 2**64 - 1)), None, ("qword", 2**64 - 1)),
        changes.Change(Wanted(CORE, "B", value=("binary", b"\x00\xff")), None, ("binary", b"\x00\xff")),
        changes.Change(Wanted(CORE, "Same", value=("dword", 1)), ("dword", 1), ("dword", 1)),
        changes.Change(Wanted(CORE, "Old"), ("string", "x"), None),
    ]
    ops = changes.write_ops(planned)
    assert ops == [
        {"id": "write0", "op": "set_value", "path": CORE, "view": 64, "name": "Q", "type": "qword", "data": "18446744073709551615",
         "expect": {"exists": False}},
        {"id": "write1", "op": "set_value", "path": CORE, "view": 64, "name": "B", "type": "binary", "data": "AP8=",
         "expect": {"exists": False}},
        {"id": "write3", "op": "delete_value", "path": CORE, "view": 64, "name": "Old",
         "expect": {"exists": True, "type": "string", "data": "x"}},
    ]


def test_each_write_carries_the_value_its_decision_was_based_on():
    planned = [
        changes.Change(Wanted(CORE, "N", value=("dword", 2)), ("dword", 4), ("dword", 2)),
        changes.Change(Wanted(CORE, "M", value=("multistring", ["a"])), ("multistring", ["b", "c"]), ("multistring", ["a"])),
        changes.Change(Wanted(CORE, "B", value=("binary", b"\x01")), ("binary", b"\x00\xff"), ("binary", b"\x01")),
    ]
    assert [op["expect"] for op in changes.write_ops(planned)] == [
        {"exists": True, "type": "dword", "data": "4"},
        {"exists": True, "type": "multistring", "data": ["b", "c"]},
        {"exists": True, "type": "binary", "data": "AP8="},
    ]


def test_a_conflict_answer_says_the_value_changed_since_it_was_read_and_nothing_was_written():
    planned = [changes.Change(Wanted(CORE, "N", value=("dword", 2)), ("dword", 4), ("dword", 2))]
    answer = {"results": [{"id": "write0", "ok": False, "error": {
        "kind": "conflict", "reason": "changed", "path": CORE,
        "message": "changed by someone else since it was read: the decision was based on dword 4; it now holds dword 3"}}],
        "rollback": {"performed": True, "undone": 0, "errors": []}}
    failure = changes.write_failure(planned, answer, "/backups/h.reg")
    assert failure is not None
    assert "\"N\" was changed by someone else since it was read; run again" in failure.msg
    assert "it now holds dword 3" in failure.msg and failure.msg.endswith("Nothing was changed.")
    assert failure.result["backup_file"] == "/backups/h.reg"


def test_diff_lists_only_changed_values_with_types():
    planned = [
        changes.Change(Wanted(CORE, "LicensingMode", value=("dword", 4)), ("dword", 5), ("dword", 4)),
        changes.Change(Wanted(CORE, "", value=("string", "d")), None, ("string", "d")),
        changes.Change(Wanted(CORE, "Same", value=("dword", 1)), ("dword", 1), ("dword", 1)),
    ]
    diff = changes.diff(planned, "registry values")
    assert diff["before"] == f'HKLM:\\{CORE} "LicensingMode": REG_DWORD 5 (0x5)\nHKLM:\\{CORE} (Default): (absent)\n'
    assert diff["after"] == f"HKLM:\\{CORE} \"LicensingMode\": REG_DWORD 4 (0x4)\nHKLM:\\{CORE} (Default): REG_SZ 'd'\n"


def test_backup_keys_keep_the_whole_key_and_delete_what_the_change_creates():
    wanted = [Wanted(CORE, "LicensingMode", value=("dword", 4)), Wanted(CORE, "New", value=("string", "x")),
              Wanted("SOFTWARE\\App", "Y", 32, ("dword", 1))]
    reads = changes.KeyReads(wanted)
    key_values = reads.values({"key0": read([{"name": "LicensingMode", "type": "dword", "data": 5},
                                             {"name": "Other", "type": "binary", "data": "AQI="}]),
                               "key1": read([], exists=False)})
    keys = changes.backup_keys(changes.plan(wanted, key_values), key_values)
    assert keys[0].path == f"HKEY_LOCAL_MACHINE\\{CORE}"
    assert keys[0].values == {"LicensingMode": ("dword", 5), "Other": ("binary", b"\x01\x02"), "New": None}
    assert keys[1].path == "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\App" and keys[1].values == {"Y": None}


def test_a_value_listed_twice_is_refused():
    with pytest.raises(AnsibleActionFail, match="listed twice"):
        changes.check_unique([Wanted(CORE, "A"), Wanted(CORE.lower(), "a", value=("dword", 1))])
    changes.check_unique([Wanted("SOFTWARE\\X", "A"), Wanted("SOFTWARE\\X", "A", 32)])


def _answer(results, rollback):
    return {"ok": True, "results": results, "rollback": rollback}


PLANNED = [changes.Change(Wanted(CORE, f"V{index}", value=("dword", 1)), None, ("dword", 1)) for index in range(3)]


def test_write_failure_says_the_earlier_writes_were_undone():
    answer = _answer([{"id": "write0", "ok": True}, {"id": "write1", "ok": False, "error": {"kind": "access_denied", "message": "no"}},
                      {"id": "write2", "ok": False, "skipped": True}], {"performed": True, "undone": 1, "errors": []})
    failure = changes.write_failure(PLANNED, answer, None)
    assert f'HKLM:\\{CORE} "V1"' in failure.msg and "the 1 earlier write(s) of this task were undone" in failure.msg
    assert failure.result["rollback"]["undone"] == 1


def test_write_failure_names_what_could_not_be_undone_and_the_backup():
    answer = _answer([{"id": "write0", "ok": True}, {"id": "write1", "ok": False, "error": {"kind": "internal", "message": "boom"}}],
                     {"performed": True, "undone": 0, "errors": [{"path": CORE, "view": 64, "name": "V0", "message": "locked"}]})
    failure = changes.write_failure(PLANNED, answer, "/backups/h/x.reg")
    assert "PARTLY CHANGED" in failure.msg and '"V0": locked' in failure.msg and "/backups/h/x.reg" in failure.msg
    assert failure.result["backup_file"] == "/backups/h/x.reg"


def test_write_failure_on_the_first_write_says_nothing_changed():
    answer = _answer([{"id": "write0", "ok": False, "error": {"kind": "access_denied", "message": "no"}}],
                     {"performed": True, "undone": 0, "errors": []})
    assert changes.write_failure(PLANNED, answer, None).msg.endswith("Nothing was changed.")
    assert changes.write_failure(PLANNED, _answer([{"id": "write0", "ok": True}], {"performed": False}), None) is None


def test_a_refusal_of_the_whole_request_names_no_internal_operation_id():
    # The write lock held by another write refuses every operation of the request; none has a path of its own.
    busy = {"kind": "conflict", "reason": "busy", "message": "another write to this host held its write lock for 60 s"}
    answer = _answer([{"id": "delete64", "ok": False, "error": busy}], {"performed": False})
    failure = changes.write_failure([], answer, "/backups/h/x.reg")
    assert "delete64" not in failure.msg and failure.msg.startswith("Conflict: another write to this host held its write lock")
    assert failure.msg.endswith("Nothing was changed.")


def test_public_values_show_bytes_as_hex_text():
    assert changes.public(("binary", b"\xde\xad")) == {"type": "binary", "data": "hex:de,ad"}
    assert changes.public(("dword", 4)) == {"type": "dword", "data": 4}
    assert changes.public(None) is None


def test_a_failed_operation_that_is_not_a_value_write_is_not_named_by_its_id():
    answer = _answer([{"id": "write0", "ok": True},
                      {"id": "restart", "ok": False, "error": {"kind": "not_found", "message": "no such service"}}],
                     {"performed": True, "undone": 1, "errors": []})
    failure = changes.write_failure(PLANNED, answer, None)
    assert failure.msg.startswith("Not found: no such service")
    assert "the 1 earlier write(s) of this task were undone" in failure.msg


def test_a_failed_key_operation_names_its_key_not_an_internal_id():
    answer = {"results": [{"id": "key0", "ok": False, "error": {
        "kind": "access_denied", "message": "Requested registry access is not allowed.", "path": "SOFTWARE\\Microsoft\\MSLicensing"}}],
        "rollback": {"performed": True, "undone": 0, "errors": []}}
    failure = changes.write_failure([], answer, None)
    assert failure is not None and "key0" not in failure.msg
    assert failure.msg.startswith("Access denied on HKLM:\\SOFTWARE\\Microsoft\\MSLicensing: Requested registry access")
