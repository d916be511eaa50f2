"""registry_restore's plan: refusals before sending, file order, and only what differs."""

from __future__ import annotations

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _restore_plan as restore
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _trees
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import AgentError

HKLM = "HKEY_LOCAL_MACHINE"
MS = "SOFTWARE\\Microsoft\\MSLicensing"


@pytest.mark.parametrize("path,allowed", [
    (MS, True), (MS + "\\Store\\LICENSE000", True), ("software\\wow6432node\\microsoft\\mslicensing", True),
    ("SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod", True),
    ("SOFTWARE", False), ("SOFTWARE\\Microsoft", False), (MS + "X", False),
    ("SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM", False),
])
def test_destructive_allow_list(path, allowed):
    assert _trees.destructive_allowed(path) is allowed


@pytest.mark.parametrize("key,message", [
    (RegKey(f"{HKLM}\\SOFTWARE", delete=True), "outside the destructive allow-list"),
    (RegKey("HKEY_CURRENT_USER\\Software\\X", values={"a": ("dword", 1)}), "only HKLM keys"),
    (RegKey(f"{HKLM}\\SOFTWARE\\X", values={"r": ("type8", b"\x01")}), "cannot write"),
])
def test_files_are_refused_before_anything_is_sent(key, message):
    with pytest.raises(AgentError, match=message):
        restore.blocks_from([key])


def read_key(values, exists=True):
    return {"ok": True, "exists": exists, "values": values}


def test_only_differences_become_operations():
    blocks = restore.blocks_from([RegKey(f"{HKLM}\\SOFTWARE\\X", values={
        "Same": ("dword", 1), "Other": ("string", "new"), "Gone": None, "AlreadyGone": None})])
    ops, ids = restore.read_ops(blocks)
    assert ops == [{"id": "read0", "op": "read_key", "path": "SOFTWARE\\X", "view": 64}]
    plan = restore.Plan(blocks, {"read0": read_key([
        {"name": "same", "type": "dword", "data": 1}, {"name": "Other", "type": "string", "data": "old"},
        {"name": "Gone", "type": "string", "data": "x"}])}, ids)
    assert [(op["op"], op.get("name")) for op in plan.ops] == [("set_value", "Other"), ("delete_value", "Gone")]
    assert plan.backup_keys()[0].values["Other"] == ("string", "old")
    assert [op["expect"] for op in plan.ops] == [{"exists": True, "type": "string", "data": "old"},
                                                 {"exists": True, "type": "string", "data": "x"}]


def test_a_deleted_key_followed_by_its_block_is_replaced_in_file_order():
    blocks = restore.blocks_from([RegKey(f"{HKLM}\\{MS}", delete=True),
                                  RegKey(f"{HKLM}\\{MS}\\HardwareID", values={"ClientHWID": ("binary", b"\x01")})])
    ops, ids = restore.read_ops(blocks)
    assert ops[0]["op"] == "read_tree" and ops[1]["op"] == "read_key"
    tree = {"ok": True, "exists": True, "keys": [
        {"path": MS, "values": []},
        {"path": MS + "\\HardwareID", "values": [{"name": "ClientHWID", "type": "binary", "data": "AQ=="}]}]}
    plan = restore.Plan(blocks, {"read0": tree, "read1": read_key([{"name": "ClientHWID", "type": "binary", "data": "AQ=="}])}, ids)
    # The value is the same as before, but the deletion removed it first, so it is written again.
    assert [op["op"] for op in plan.ops] == ["delete_tree", "create_key", "set_value"]
    assert [key.path for key in plan.backup_keys()] == [f"{HKLM}\\{MS}", f"{HKLM}\\{MS}\\HardwareID"]
    # The agent checks expectations before the first write: against the host as read, not after the deletion.
    assert plan.ops[2]["expect"] == {"exists": True, "type": "binary", "data": "AQ=="}


def test_absent_keys_are_created_and_missing_deletions_are_nothing():
    blocks = restore.blocks_from([RegKey(f"{HKLM}\\{MS}", delete=True), RegKey(f"{HKLM}\\SOFTWARE\\New")])
    ops, ids = restore.read_ops(blocks)
    plan = restore.Plan(blocks, {"read0": {"ok": True, "exists": False}, "read1": read_key([], exists=False)}, ids)
    assert [op["op"] for op in plan.ops] == ["create_key"]
    assert plan.diff("x")["after"] == "[HKLM:\\SOFTWARE\\New] (key created)\n"


def test_a_file_with_a_value_name_windows_cannot_hold_is_refused_before_anything_is_sent():
    with pytest.raises(AgentError, match="longer than Windows allows"):
        restore.blocks_from([RegKey(f"{HKLM}\\SOFTWARE\\X", values={"n" * 16384: ("string", "x")})])


def test_a_deleted_key_put_back_exactly_by_the_file_is_no_change():
    """[-key] then every key as it is (a regedit export applied again): nothing is sent, changed=0."""
    blocks = restore.blocks_from([RegKey(f"{HKLM}\\{MS}", delete=True), RegKey(f"{HKLM}\\{MS}", values={}),
                                  RegKey(f"{HKLM}\\{MS}\\HardwareID", values={"ClientHWID": ("binary", b"\x01")})])
    _ops, ids = restore.read_ops(blocks)
    tree = {"ok": True, "exists": True, "keys": [
        {"path": MS, "values": []},
        {"path": MS + "\\HardwareID", "values": [{"name": "ClientHWID", "type": "binary", "data": "AQ=="}]}]}
    plan = restore.Plan(blocks, {op_id: tree if op_id == "read0" else read_key(
        [{"name": "ClientHWID", "type": "binary", "data": "AQ=="}]) for op_id in ids.values()}, ids)
    assert plan.ops == [] and not plan.changed and plan.backup_keys() == []
    # One value that differs makes it a change again.
    tree["keys"][1]["values"][0]["data"] = "Ag=="
    changed = restore.Plan(blocks, {op_id: tree if op_id == "read0" else read_key([]) for op_id in ids.values()}, ids)
    assert changed.changed


def test_a_file_is_held_to_what_registry_values_accepts():
    with pytest.raises(AgentError, match="empty item in its multistring data"):
        restore.blocks_from([RegKey(f"{HKLM}\\SOFTWARE\\X", values={"m": ("multistring", ["a", "", "b"])})])
