"""The agent's write operations on a simulated host, with the same undo journal as the PowerShell
agent: every write records how to undo itself before it changes anything, so a request with
rollback_on_error leaves the registry as it found it when a later write fails."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import re
import typing as t

from rds_sim import acl
from rds_sim.host import Host, SimulatedFailure, refusal

# The agent's protocol constants as the simulated host knows them; tests/static/test_agent_protocol.py
# compares each with the agent's own text, so neither side can change alone.
# The agent's destructive allow-list: delete_tree and grace_reset act only here.
DESTRUCTIVE_ROOTS = ("software\\microsoft\\mslicensing", "software\\wow6432node\\microsoft\\mslicensing",
                     "system\\currentcontrolset\\control\\terminal server\\rcm\\graceperiod")
# The agent's DACL allow-list ($DaclRoots): set_key_dacl acts only here.
DACL_ROOTS = ("software\\microsoft\\mslicensing", "software\\wow6432node\\microsoft\\mslicensing")
# The ACE create_key grant_users adds: BUILTIN\Users full control, inherited by subkeys.
USERS_FULL_CONTROL = "(A;CI;KA;;;BU)"
GRACE_PATH = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"
TIMEBOMB_PATTERN = "L$*TIMEBOMB*"
BACKUP_DIRECTORY = "RemoteDesktopLicensing\\Backups"
VALUE_TYPES = ("string", "expandstring", "multistring", "dword", "qword", "binary", "none")
# The name of a DACL undo record: "\0" cannot start a value name the agent is sent.
DACL_UNDO = "\0dacl"
_LIMITS = {"dword": 0xFFFFFFFF, "qword": 0xFFFFFFFFFFFFFFFF}


class Journal:
    """Undo records, newest last: (view, path, name, created_key, prior value or None); a deleted
    tree is (view, path, None, None, ({path: values}, {path: acl})) and is put back whole, DACLs included;
    a replaced DACL is (view, path, DACL_UNDO, None, {path: explicit SDDL} as it was)."""

    def __init__(self) -> None:
        self.records: list[tuple[int, str, str | None, str | None, t.Any]] = []

    def rollback(self, host: Host) -> dict[str, t.Any]:
        for view, path, name, created_key, prior in reversed(self.records):
            if name == DACL_UNDO:
                stored = host.facts.setdefault("key_acl", {})
                for key in [key for key in stored if key.lower() == path.lower()]:
                    del stored[key]
                stored.update(prior)
            elif name is None:
                tree, acls = prior
                for key_path, values in tree.items():
                    host.registry.create_key(key_path, view)
                    for value in values:
                        host.registry.set_value(key_path, value["name"], value["type"], value["data"], view)
                host.facts.setdefault("key_acl", {}).update(acls)
            elif created_key is not None:
                # Deleting the created key deletes the DACL it was given too.
                gone = host.registry.display(created_key, view).lower()
                stored = host.facts.setdefault("key_acl", {})
                for key in [key for key in stored if key.lower() == gone or key.lower().startswith(gone + "\\")]:
                    del stored[key]
                host.registry.delete_tree(created_key, view)
            elif prior is not None:
                host.registry.set_value(path, prior["name"], prior["type"], prior["data"], view)
            else:
                host.registry.delete_value(path, name, view)
        host.dirty = host.dirty or bool(self.records)
        return {"performed": True, "undone": len(self.records), "errors": []}


def _wire_data(value_type: str, data: t.Any, path: str) -> t.Any:
    """Validate wire data as the agent's ConvertFrom-WireData would; return the stored form."""
    try:
        if value_type in _LIMITS:
            number = int(str(data), 10)
            if not 0 <= number <= _LIMITS[value_type] or not str(data).isdigit():
                raise ValueError(data)
            return number
        if value_type in ("string", "expandstring"):
            return "" if data is None else str(data)
        if value_type == "multistring":
            return [str(item) for item in (data or []) if item is not None]
        return base64.b64encode(base64.b64decode(str(data or ""), validate=True)).decode("ascii")
    except (ValueError, binascii.Error):
        raise SimulatedFailure("invalid_argument", f"Input string was not in a correct format: {data!r}") from None


def conflicts(host: Host, ops: list[dict[str, t.Any]]) -> dict[str, dict[str, t.Any]]:
    """The agent's conditional writes: {op id: conflict error} for every op whose 'expect' the host no longer
    holds. Checked for every op before the first write; one conflict refuses the whole request."""
    found = {}
    for op in ops:
        expect = op.get("expect")
        if not isinstance(expect, dict):
            continue
        why = _expectation_differs(host, op, expect)
        if why:
            found[str(op.get("id"))] = refusal("conflict", "changed", op.get("path"), why)["error"]
    return found


def _wire_text(value_type: str, data: t.Any) -> str:
    if value_type == "multistring":
        return json.dumps([str(item) for item in (data or [])], separators=(",", ":"), ensure_ascii=False)
    if value_type in ("binary", "none"):
        return base64.b64encode(base64.b64decode(data or "")).decode("ascii")
    return "" if data is None else str(data)


def _expectation_differs(host: Host, op: dict[str, t.Any], expect: dict[str, t.Any]) -> list[str] | None:
    """None when the host holds what expect describes, else what it holds now, as the agent reports it:
    ["gone"], ["appeared", type, data] or ["differs", expected type, expected data, type, data]."""
    path, view, name = str(op.get("path", "")), int(op.get("view", 64)), str(op.get("name", ""))
    current = host.registry.get_value(path, name, view) if host.registry.key_exists(path, view) else None
    if current is None:
        return ["gone"] if expect.get("exists") else None
    now = [current["type"], _wire_text(current["type"], current["data"])]
    if not expect.get("exists"):
        return ["appeared", *now]
    value_type = str(expect.get("type", ""))
    if current["type"] == value_type and _wire_text(value_type, current["data"]) == _wire_text(value_type, expect.get("data")):
        return None
    return ["differs", value_type, _wire_text(value_type, expect.get("data")), *now]


def _missing_key(host: Host, path: str, view: int) -> str | None:
    parts = [part for part in path.split("\\") if part]
    for depth in range(1, len(parts) + 1):
        sub = "\\".join(parts[:depth])
        if not host.registry.key_exists(sub, view):
            return sub
    return None


def set_value(host: Host, op: dict[str, t.Any], journal: Journal) -> dict[str, t.Any]:
    path, view, name, value_type = str(op.get("path", "")), int(op.get("view", 64)), str(op.get("name", "")), op.get("type")
    if value_type not in VALUE_TYPES:
        return refusal("invalid_argument", "value_type", path, value_type)
    data = _wire_data(value_type, op.get("data"), path)
    host.check_write_access(path, view)
    prior = host.registry.get_value(path, name, view)
    if prior is not None and prior["type"] == "unknown":
        return _unknown_refused("set_value", path, prior)
    missing = _missing_key(host, path, view)
    host.registry.create_key(path, view)
    journal.records.append((view, path, name, missing, prior))
    host.registry.set_value(path, name, value_type, data, view)
    host.count("writes")
    host.dirty = True
    stored = host.registry.get_value(path, name, view)
    return {"ok": True, "created_key": missing is not None, "replaced": prior is not None,
            "value": {"name": stored["name"], "type": stored["type"], "data": stored["data"]}}


def delete_value(host: Host, op: dict[str, t.Any], journal: Journal) -> dict[str, t.Any]:
    path, view, name = str(op.get("path", "")), int(op.get("view", 64)), str(op.get("name", ""))
    # OpenSubKey(path, true) of a missing key answers null, not access denied: there is no ACL to refuse.
    if not host.registry.key_exists(path, view):
        return {"ok": True, "existed": False}
    host.check_write_access(path, view, opened=True)
    prior = host.registry.get_value(path, name, view)
    if prior is None:
        return {"ok": True, "existed": False}
    if prior["type"] == "unknown":
        return _unknown_refused("delete_value", path, prior)
    journal.records.append((view, path, name, None, prior))
    host.registry.delete_value(path, name, view)
    host.count("writes")
    host.dirty = True
    return {"ok": True, "existed": True}


def _unknown_refused(op_name: str, key_path: str, value: dict[str, t.Any]) -> dict[str, t.Any]:
    return refusal("unsupported", "unknown_kind", key_path, [op_name, f"{key_path}\\{value['name']} (kind {value.get('kind')})"])


def restart_service(host: Host, op: dict[str, t.Any]) -> dict[str, t.Any]:
    """Each service in turn; a failed restart stops the list and names the state it left the service in."""
    services = {}
    for name in op.get("names") or []:
        try:
            services[str(name)] = host.restart_service(str(name))
        except SimulatedFailure as failure:
            if "services" not in failure.extra:
                raise
            return {"ok": False, "error": failure.error(None), "services": {**services, **failure.extra["services"]}}
    return {"ok": True, "services": services}


def key_tree(host: Host, path: str, view: int) -> dict[str, list[dict[str, t.Any]]]:
    """{key path: values}, parents first, with the root spelled as requested."""
    tree = {path: host.registry.values(path, view)}
    for name in host.registry.subkeys(path, view):
        tree.update(key_tree(host, f"{path}\\{name}", view))
    return tree


def _allowed(path: str) -> bool:
    normal = path.strip("\\").lower()
    return any(normal == root or normal.startswith(root + "\\") for root in DESTRUCTIVE_ROOTS)


def delete_tree(host: Host, op: dict[str, t.Any], journal: Journal) -> dict[str, t.Any]:
    path, view = str(op.get("path", "")), int(op.get("view", 64))
    if not _allowed(path):
        return refusal("invalid_argument", "outside_destructive", path)
    # The agent opens the key for reading first: a missing key is "existed: false", whatever the ACLs.
    if not host.registry.key_exists(path, view):
        return {"ok": True, "existed": False}
    host.check_access(path, view)
    tree = key_tree(host, path, view)
    # Windows deletes a tree key by key: a subkey whose ACL refuses the delete stops it (RegDeleteTree fails with
    # access denied and leaves what it has not reached). The agent's undo journal then puts back what went.
    for key_path in tree:
        host.check_write_access(key_path, view, opened=True)
    for key_path, values in tree.items():
        unknown = next((value for value in values if value["type"] == "unknown"), None)
        if unknown is not None:
            return _unknown_refused("delete_tree", key_path, unknown)
    # Deleting a key deletes its DACL; the journal keeps it so that a rollback puts it back.
    acls = host.facts.setdefault("key_acl", {})
    prefix = host.registry.display(path, view).lower()
    doomed = {key: acl for key, acl in acls.items() if key.lower() == prefix or key.lower().startswith(prefix + "\\")}
    journal.records.append((view, path, None, None, (tree, doomed)))
    for key in doomed:
        del acls[key]
    host.registry.delete_tree(path, view)
    host.count("writes")
    host.dirty = True
    return {"ok": True, "existed": True, "keys": len(tree)}


def create_key(host: Host, op: dict[str, t.Any], journal: Journal) -> dict[str, t.Any]:
    path, view = str(op.get("path", "")), int(op.get("view", 64))
    host.check_write_access(path, view)
    missing = _missing_key(host, path, view)
    if missing is not None:
        journal.records.append((view, path, "", missing, None))
        host.registry.create_key(path, view)
        host.count("writes")
        host.dirty = True
    if op.get("grant_users"):
        acl.add_ace(host.facts.setdefault("key_acl", {}), host.registry.display(path, view), USERS_FULL_CONTROL)
        host.dirty = True
    return {"ok": True, "created": missing is not None}


def key_sddl(host: Host, path: str, view: int) -> str:
    """A key's DACL as the agent reads it (GetSecurityDescriptorSddlForm('Access'))."""
    return acl.effective(host.facts.get("key_acl") or {}, host.registry.display(path, view))


def set_key_dacl(host: Host, op: dict[str, t.Any], journal: Journal) -> dict[str, t.Any]:
    """Replace an existing key's DACL inside DACL_ROOTS; inherited ACEs in the SDDL are derived again from the
    parent (SetSecurityInfo with UNPROTECTED_DACL_SECURITY_INFORMATION), owner, group and SACL never change."""
    path, view, sddl = str(op.get("path", "")), int(op.get("view", 64)), str(op.get("sddl", ""))
    normal = path.strip("\\").lower()
    if not any(normal == root or normal.startswith(root + "\\") for root in DACL_ROOTS):
        return refusal("invalid_argument", "outside_dacl", path)
    wanted = acl.parse(sddl)
    if wanted is None:
        return refusal("invalid_argument", "dacl_only", path, sddl)
    if not host.registry.key_exists(path, view):
        return refusal("not_found", "no_key", path)
    # ChangePermissions is refused by the same ACLs that refuse writes (the write_denied fault).
    host.check_write_access(path, view, opened=True)
    display = host.registry.display(path, view)
    stored = host.facts.setdefault("key_acl", {})
    before = key_sddl(host, path, view)
    journal.records.append((view, display, DACL_UNDO, None, {key: sddl for key, sddl in stored.items() if key.lower() == display.lower()}))
    acl.store(stored, display, wanted)
    host.count("writes")
    host.dirty = True
    return {"ok": True, "sddl_before": before, "sddl_after": key_sddl(host, path, view)}


def write_file(host: Host, op: dict[str, t.Any]) -> dict[str, t.Any]:
    name = str(op.get("name", ""))
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}", name):
        return refusal("invalid_argument", "file_name", None, name)
    target = f"C:\\ProgramData\\{BACKUP_DIRECTORY}\\{name}"
    data = _wire_data("binary", op.get("content"), target)
    if host.not_elevated():
        # The backup directory's DACL grants Administrators and SYSTEM only: a filtered token can neither set it
        # nor create a file in it (File.WriteAllBytes' UnauthorizedAccessException).
        raise SimulatedFailure("access_denied", f"Access to the path '{target}' is denied.")
    host.facts.setdefault("files", {})[target] = data
    host.count("writes")
    host.dirty = True
    return {"ok": True, "path": target, "size": len(base64.b64decode(data))}


def grace_reset(host: Host, op: dict[str, t.Any]) -> dict[str, t.Any]:
    """Take ownership, delete L$*TIMEBOMB*, restore owner and DACL, as the agent does."""
    path = str(op.get("path", ""))
    if path.lower() != GRACE_PATH.lower():
        return refusal("invalid_argument", "grace_path", path)
    if host.grace_key_locked():
        # The owner and DACL cannot even be read, so they could not be put back: nothing is changed.
        return refusal("access_denied", "grace_key_locked", path, "Requested registry access is not allowed.")
    if host.not_elevated() and host.registry.key_exists(path):
        try:
            host.check_access(path, 64)
        except SimulatedFailure as failure:
            # The agent's first read of the key and its owner is refused: it answers as for the locked variant.
            return refusal("access_denied", "grace_key_locked", path, str(failure))
    if not host.registry.key_exists(path):
        return {"ok": True, "exists": False, "deleted": []}
    names = [value["name"] for value in host.registry.values(path)
             if fnmatch.fnmatchcase(value["name"].upper(), TIMEBOMB_PATTERN.upper())]
    sddl = host.grace_sddl()
    if not names:
        return {"ok": True, "exists": True, "deleted": [], "sddl_before": sddl, "sddl_after": sddl, "acl_restored": True}
    if host.not_elevated():
        # Enable-ThreadPrivilege: a filtered token does not hold SeTakeOwnershipPrivilege (PrivilegeNotHeldException).
        raise SimulatedFailure("access_denied", 'Exception calling "Invoke" with "2" argument(s): "The process does not possess '
                               "the 'SeTakeOwnershipPrivilege' privilege which is required for this operation.\"")
    if host.faults.get("ownership_refused"):
        raise SimulatedFailure("access_denied", "Requested registry access is not allowed.")
    for name in names:
        host.registry.delete_value(path, name)
        host.count("writes")
    host.dirty = True
    return {"ok": True, "exists": True, "deleted": names, "sddl_before": sddl, "sddl_after": host.grace_sddl(),
            "acl_restored": True}
