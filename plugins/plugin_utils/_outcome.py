# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

When the answer to a write request is lost (the connection dropped, or the answer came back
unreadable), the request may have run in full, in part (its undo may have failed) or not at all.
This module decides which from a fresh read of the keys the request touched: the reads to send,
and, per write operation, whether the host now holds what it asked for.
"""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _dacl
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _registry as registry
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._changes import key_identity
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey, split_path

DONE, NOT_DONE, UNKNOWN = "done", "not done", "unknown"
KEY_OPS = ("set_value", "delete_value", "create_key", "delete_tree", "grace_reset", "set_key_dacl")
Identity = t.Tuple[str, int]


class Check(t.NamedTuple):
    """One write operation as found on the host after the lost answer."""

    op_id: str
    what: str
    state: str   # DONE, NOT_DONE or UNKNOWN
    found: str
    readable: bool = True  # False for what cannot be read back (a service restart)


def _identity(op: dict[str, t.Any]) -> Identity:
    return key_identity(str(op["path"]), int(op.get("view", 64)))


def _below(identity: Identity, parent: Identity) -> bool:
    return identity[1] == parent[1] and (identity[0] == parent[0] or identity[0].startswith(parent[0] + "\\"))


def read_ops(ops: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """One read_key per key the writes touched, and the status of services they restarted."""
    reads: dict[Identity, dict[str, t.Any]] = {}
    services: list[str] = []
    for op in ops:
        if op.get("op") in KEY_OPS:
            identity = _identity(op)
            if identity not in reads:
                reads[identity] = {"id": f"check{len(reads)}", "op": "read_key", "path": op["path"], "view": op.get("view", 64)}
            if op.get("op") == "set_key_dacl":
                reads[identity]["acl"] = True
        elif op.get("op") == "restart_service":
            services += [name for name in op.get("names") or [] if name not in services]
    return list(reads.values()) + ([{"id": "check_services", "op": "service_status", "names": services}] if services else [])


def _expected(op: dict[str, t.Any]) -> tuple[str, t.Any]:
    """The value a set_value operation writes, in canonical form (DWORD/QWORD travel as strings)."""
    if op["type"] in ("dword", "qword"):
        return op["type"], int(op["data"])
    return registry.from_wire({"type": op["type"], "data": op.get("data")})


def _timebombs(backup: list[RegKey] | None, identity: Identity) -> dict[str, t.Any] | None:
    """The L$*TIMEBOMB* values the backup holds for the key (what a reset had to remove)."""
    for key in backup or []:
        try:
            same = key_identity(split_path(key.path), 64) == identity
        except ValueError:
            continue
        if same:
            return {name.lower(): value for name, value in key.values.items()
                    if value is not None and name.upper().startswith("L$") and "TIMEBOMB" in name.upper()[2:]}
    return None


class Found:
    """The fresh reads, by key."""

    def __init__(self, reads: list[dict[str, t.Any]], results: dict[str, dict[str, t.Any]]):
        self.keys: dict[Identity, dict[str, t.Any] | None] = {}
        for read in reads:
            if read["op"] == "read_key":
                result = results.get(read["id"]) or {}
                # An unreadable key leaves its writes unknown rather than guessed.
                self.keys[_identity(read)] = result if result.get("ok") else None
        services = (results.get("check_services") or {}).get("services") or {}
        self.services = {name: (entry or {}).get("status") for name, entry in services.items()}

    def key(self, identity: Identity) -> dict[str, t.Any] | None:
        return self.keys.get(identity)

    def value(self, identity: Identity, name: str) -> tuple[str, t.Any] | None:
        entry = next((item for item in (self.keys.get(identity) or {}).get("values") or []
                      if str(item.get("name", "")).lower() == name.lower()), None)
        return registry.from_wire(entry) if entry else None


def verify(ops: list[dict[str, t.Any]], reads: list[dict[str, t.Any]], results: dict[str, dict[str, t.Any]],
           backup: list[RegKey] | None = None) -> list[Check]:
    """Per write operation: is what it wrote on the host? An operation a later one in the same request
    supersedes (a tree deleted, then created again) is judged by the later one."""
    found = Found(reads, results)
    checks = []
    for index, op in enumerate(ops):
        kind = op.get("op")
        op_id = str(op.get("id"))
        if kind == "restart_service":
            status = ", ".join(f"{name} {found.services.get(name) or 'unknown'}" for name in op.get("names") or [])
            checks.append(Check(op_id, f"restart of {', '.join(op.get('names') or [])}", UNKNOWN,
                                f"{status} (a restart cannot be read back)", readable=False))
            continue
        if kind not in KEY_OPS:
            checks.append(Check(op_id, op_id, UNKNOWN, "cannot be read back", readable=False))
            continue
        identity = _identity(op)
        later = [other for other in ops[index + 1:] if other.get("op") in KEY_OPS]
        if kind == "delete_tree" and any(_below(_identity(other), identity) for other in later):
            continue  # replaced, judged by the operations that put the key back
        checks.append(_check_key_op(op, identity, found, ops[:index], later, backup))
    return checks


def _check_key_op(op: dict[str, t.Any], identity: Identity, found: Found, earlier: list[dict[str, t.Any]],
                  later: list[dict[str, t.Any]], backup: list[RegKey] | None) -> Check:
    kind, op_id = op["op"], str(op.get("id"))
    shown = registry.display_path(str(op["path"]), int(op.get("view", 64)))
    key = found.key(identity)
    if key is None:
        return Check(op_id, shown, UNKNOWN, "the key could not be read")
    if kind in ("set_value", "delete_value"):
        name = str(op.get("name", ""))
        what = f"{shown} {'(Default)' if name == '' else repr(name)}"
        current = found.value(identity, name)
        wanted = _expected(op) if kind == "set_value" else None
        return Check(op_id, what, DONE if registry.same_value(current, wanted) else NOT_DONE, registry.render(current))
    if kind == "set_key_dacl":
        try:
            own = _dacl.explicit(str(key.get("sddl") or ""))
        except _dacl.DaclError:
            own = None
        done = key.get("exists") and own == op.get("sddl")
        return Check(op_id, f"{shown} (DACL)", DONE if done else NOT_DONE, own or "absent")
    if kind == "delete_tree":
        return Check(op_id, f"{shown} (whole key deleted)", NOT_DONE if key.get("exists") else DONE,
                     "present" if key.get("exists") else "absent")
    if kind == "create_key":
        if not key.get("exists"):
            return Check(op_id, f"{shown} (key created)", NOT_DONE, "absent")
        replaced = any(other.get("op") == "delete_tree" and _below(identity, _identity(other)) for other in earlier)
        if not replaced:
            return Check(op_id, f"{shown} (key created)", DONE, "present")
        # Deleted and created again: only what this request put back may be in it.
        names = {str(other.get("name", "")).lower() for other in later
                 if other.get("op") == "set_value" and _identity(other) == identity}
        children = {_identity(other)[0].rsplit("\\", 1)[-1] for other in later
                    if other.get("op") == "create_key" and _below(_identity(other), identity) and _identity(other) != identity}
        extra = [str(item.get("name")) for item in key.get("values") or [] if str(item.get("name", "")).lower() not in names]
        extra += [str(sub) for sub in key.get("subkeys") or [] if str(sub).lower() not in children]
        return Check(op_id, f"{shown} (replaced)", NOT_DONE if extra else DONE,
                     f"still holds {', '.join(extra)}" if extra else "replaced")
    # grace_reset: done when none of the timebombs the backup recorded is still there unchanged.
    bombs = _timebombs(backup, identity)
    if bombs is None:
        return Check(op_id, f"{shown} (grace period reset)", UNKNOWN, "no backup to compare with")
    left = [name for name, value in bombs.items() if registry.same_value(found.value(identity, name), value)]
    return Check(op_id, f"{shown} (grace period reset)", NOT_DONE if left else DONE,
                 "the old timebomb is still there" if left else "the old timebomb is gone")


def verdict(checks: list[Check]) -> str:
    """DONE when every write is on the host, NOT_DONE when none is, UNKNOWN otherwise. A restart cannot
    be read back: it decides nothing (the agent restarts only after every write succeeded)."""
    states = {check.state for check in checks if check.readable}
    if states == {DONE}:
        return DONE
    if states == {NOT_DONE}:
        return NOT_DONE
    return UNKNOWN


def summary(checks: list[Check], limit: int = 12) -> str:
    """One line for the message; a long restore is cut short (the result's lost_answer has every entry)."""
    text = "; ".join(f"{check.what}: {check.state} (found {check.found})" for check in checks[:limit])
    return text + (f"; and {len(checks) - limit} more (see lost_answer.found)" if len(checks) > limit else "")


def public(checks: list[Check]) -> list[dict[str, str]]:
    return [{"operation": check.what, "state": check.state, "found": check.found} for check in checks]
