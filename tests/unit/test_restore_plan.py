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
    # The key inside the deleted tree is read with that tree, not once more.
    assert [op["op"] for op in ops] == ["read_tree"] and ops[0]["acl"] is True
    tree = {"ok": True, "exists": True, "keys": [
        {"path": MS, "values": []},
        {"path": MS + "\\HardwareID", "values": [{"name": "ClientHWID", "type": "binary", "data": "AQ=="}]}]}
    plan = restore.Plan(blocks, {"read0": tree}, ids)
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


# Key DACLs -------------------------------------------------------------------------------------
INHERITED = "(A;CIID;KA;;;SY)(A;CIID;KA;;;BA)(A;CIID;KR;;;BU)"


def read_key_acl(values, sddl):
    return {"ok": True, "exists": True, "values": values, "sddl": sddl}


def test_a_dacl_that_differs_is_set_after_the_keys_values_and_backed_up_as_it_was():
    blocks = restore.blocks_from([RegKey(f"{HKLM}\\{MS}", values={"a": ("dword", 1)}, dacl="D:AI(A;CI;KA;;;BU)" + INHERITED)])
    ops, ids = restore.read_ops(blocks)
    assert ops == [{"id": "read0", "op": "read_key", "path": MS, "view": 64, "acl": True}]
    plan = restore.Plan(blocks, {"read0": read_key_acl([], "D:AI(A;CI;KR;;;BU)" + INHERITED)}, ids)
    assert [op["op"] for op in plan.ops] == ["set_value", "set_key_dacl"]
    # Only the key's own part is sent: the inherited ACEs come from the parent again.
    assert plan.ops[1] == {"id": "dacl1", "op": "set_key_dacl", "path": MS, "view": 64, "sddl": "D:(A;CI;KA;;;BU)"}
    assert "\\MSLicensing] DACL: D:(A;CI;KA;;;BU)\n" in plan.diff("x")["after"]
    assert plan.backup_keys()[0].dacl == "D:(A;CI;KR;;;BU)"


def test_a_dacl_that_matches_is_no_change():
    blocks = restore.blocks_from([RegKey(f"{HKLM}\\{MS}", dacl="D:(A;CI;KA;;;BU)")])
    _ops, ids = restore.read_ops(blocks)
    plan = restore.Plan(blocks, {"read0": read_key_acl([], "D:AI(A;CI;KA;;;BU)" + INHERITED)}, ids)
    assert plan.ops == [] and not plan.changed


def test_a_recreated_key_gets_its_dacl_and_a_file_that_puts_everything_back_is_no_change():
    blocks = restore.blocks_from([RegKey(f"{HKLM}\\{MS}", delete=True), RegKey(f"{HKLM}\\{MS}", dacl="D:(A;CI;KA;;;BU)"),
                                  RegKey(f"{HKLM}\\{MS}\\Store", values={"v": ("dword", 1)})])
    _ops, ids = restore.read_ops(blocks)
    tree = {"ok": True, "exists": True, "keys": [
        {"path": MS, "values": [], "sddl": "D:AI(A;CI;KA;;;BU)" + INHERITED},
        {"path": MS + "\\Store", "values": [{"name": "v", "type": "dword", "data": 1}],
         "sddl": "D:AI(A;CIID;KA;;;BU)" + INHERITED}]}
    assert restore.Plan(blocks, {"read0": tree}, ids).ops == []
    # The same file on a host whose cache lost the grant: deleted, re-created, values, then the DACL.
    tree["keys"][0]["sddl"] = "D:AI" + INHERITED
    plan = restore.Plan(blocks, {"read0": tree}, ids)
    assert [op["op"] for op in plan.ops] == ["delete_tree", "create_key", "set_key_dacl", "create_key", "set_value"]


@pytest.mark.parametrize("key,message", [
    (RegKey(f"{HKLM}\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run", dacl="D:(A;CI;KA;;;WD)"),
     "DACLs are only restored inside HKLM\\\\SOFTWARE\\\\Microsoft\\\\MSLicensing"),
    (RegKey(f"{HKLM}\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod", dacl="D:(A;CI;KA;;;WD)"),
     "Nothing was sent; remove that comment line"),
    (RegKey(f"{HKLM}\\{MS}", dacl="O:WDD:(A;CI;KA;;;WD)"), "not a DACL in SDDL"),
    (RegKey(f"{HKLM}\\{MS}", dacl="D:NO_ACCESS_CONTROL"), "not a DACL in SDDL"),
    (RegKey(f"{HKLM}\\{MS}", dacl="D:(AU;FA;KA;;;WD)"), "plain allow"),
])
def test_dacl_comments_are_refused_outside_the_allow_list_or_beyond_a_plain_dacl(key, message):
    with pytest.raises(AgentError, match=message):
        restore.blocks_from([key])


# Linear planning ---------------------------------------------------------------------------------
def interleaved(count: int) -> tuple[list[RegKey], dict[str, dict]]:
    """count keys that exist, each deleted and put back by its own [-key] and [key] blocks (the shape that made
    the planner rescan every known key per deletion), and the agent's answers for them."""
    keys, trees = [], {}
    for index in range(count):
        path = f"{MS}\\Store\\LICENSE{index:06d}"
        keys += [RegKey(f"{HKLM}\\{path}", delete=True), RegKey(f"{HKLM}\\{path}", values={"v": ("dword", index + 1)})]
        trees[path.lower()] = {"ok": True, "exists": True, "keys": [
            {"path": path, "values": [{"name": "v", "type": "dword", "data": index}], "sddl": "D:AI" + INHERITED}]}
    return keys, trees


def traced_plan(count: int) -> tuple[restore.Plan, int]:
    """The plan, and how many lines of _restore_plan ran for it (a loop iteration is a line event too), so any
    rescan shows up whatever the code looks like."""
    import sys

    keys, trees = interleaved(count)
    events = 0

    def trace(frame, event, _arg):
        nonlocal events
        if not frame.f_code.co_filename.endswith("_restore_plan.py"):
            return None
        if event == "line":
            events += 1
        return trace

    sys.settrace(trace)
    try:
        blocks = restore.blocks_from(keys)
        ops, ids = restore.read_ops(blocks)
        results = {op["id"]: trees[op["path"].lower()] for op in ops}
        plan = restore.Plan(blocks, results, ids)
    finally:
        sys.settrace(None)
    return plan, events


def test_planning_many_deletions_interleaved_with_blocks_is_linear():
    small, small_lines = traced_plan(400)
    large, large_lines = traced_plan(1600)
    assert len(large.ops) == 3 * 1600  # delete_tree, create_key, set_value per key
    # Four times the blocks: four times the work, not sixteen. A rescan per deletion would make it 16x.
    assert large_lines <= 4.5 * small_lines
    assert large.work <= 4.5 * small.work
    # And a bounded number of steps per block: each block and each key is touched a fixed number of times.
    assert large.work <= 8 * 2 * 1600


GRACE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"
TIMEBOMB = "L$RTMTIMEBOMB_1320153D-8DA3-4e8e-B27B-0D888223A588"


def _grace_plan(keys, answers):
    blocks = restore.blocks_from(keys)
    _ops, ids = restore.read_ops(blocks)
    return restore.Plan(blocks, answers, ids)


@pytest.mark.parametrize("path", [GRACE, GRACE.replace("CurrentControlSet", "ControlSet001"), GRACE + "\\Sub"])
def test_a_change_to_the_grace_period_key_is_refused_however_it_is_spelt(path):
    with pytest.raises(AgentError, match="would change the grace period key"):
        _grace_plan([RegKey(f"{HKLM}\\{path}", values={TIMEBOMB: ("binary", b"\x01")})], {"read0": read_key([])})


def test_creating_or_deleting_the_grace_period_key_is_refused():
    with pytest.raises(AgentError, match="would change the grace period key"):
        _grace_plan([RegKey(f"{HKLM}\\{GRACE}")], {"read0": read_key([], exists=False)})
    tree = {"ok": True, "exists": True, "keys": [{"path": GRACE, "values": []}]}
    with pytest.raises(AgentError, match="would change the grace period key"):
        _grace_plan([RegKey(f"{HKLM}\\{GRACE}", delete=True)], {"read0": tree})


def test_a_grace_period_block_the_host_already_matches_is_no_change():
    held = [{"name": TIMEBOMB, "type": "binary", "data": "AQ=="}]
    assert _grace_plan([RegKey(f"{HKLM}\\{GRACE}", values={TIMEBOMB: ("binary", b"\x01")})],
                       {"read0": read_key(held)}).ops == []
    # Deleted and put back exactly as it is: nothing is sent, so nothing is refused.
    tree = {"ok": True, "exists": True, "keys": [{"path": GRACE, "values": held}]}
    again = _grace_plan([RegKey(f"{HKLM}\\{GRACE}", delete=True),
                         RegKey(f"{HKLM}\\{GRACE}", values={TIMEBOMB: ("binary", b"\x01")})], {"read0": tree})
    assert again.ops == []
