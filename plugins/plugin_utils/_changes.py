# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Planning registry value changes, shared by every module that writes: which keys to read, what
differs from the wanted state, the write operations, the diff, and the undo-ready backup.
The controller decides; the agent only reads, then writes exactly what was decided.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _registry as registry
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._backup import file_key_path
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import AgentError, agent_failure

Value = t.Tuple[str, t.Any]


class Wanted(t.NamedTuple):
    """One value as the task wants it: present with (type, data), or absent."""

    path: str
    name: str
    view: int = 64
    value: Value | None = None  # None means the value must be absent

    @property
    def present(self) -> bool:
        return self.value is not None

    def label(self) -> str:
        shown = "(Default)" if self.name == "" else f'"{self.name}"'
        return f"{registry.display_path(self.path, self.view)} {shown}"


class Change(t.NamedTuple):
    wanted: Wanted
    before: Value | None
    after: Value | None

    @property
    def changed(self) -> bool:
        return not registry.same_value(self.before, self.after)


def key_identity(path: str, view: int) -> tuple[str, int]:
    """Two spellings of one key compare equal; the 32-bit view is a different key only for SOFTWARE."""
    lowered = path.lower()
    if not lowered.startswith("software\\") and lowered != "software":
        view = 64
    return lowered, view


def check_unique(wanted: list[Wanted]) -> None:
    seen: dict[tuple[str, int, str], Wanted] = {}
    for item in wanted:
        identity = (*key_identity(item.path, item.view), item.name.lower())
        if identity in seen:
            raise AnsibleActionFail(f"{item.label()} is listed twice; list each value once.")
        seen[identity] = item


class KeyReads:
    """The read_key operations for the keys the wanted values live in, one per key."""

    def __init__(self, wanted: list[Wanted], prefix: str = "key"):
        self.keys: dict[tuple[str, int], tuple[str, str, int]] = {}
        for item in wanted:
            identity = key_identity(item.path, item.view)
            if identity not in self.keys:
                self.keys[identity] = (f"{prefix}{len(self.keys)}", item.path, item.view)

    def ops(self) -> list[dict[str, t.Any]]:
        return [{"id": op_id, "op": "read_key", "path": path, "view": view} for op_id, path, view in self.keys.values()]

    def values(self, results: dict[str, dict[str, t.Any]]) -> dict[tuple[str, int], dict[str, tuple[str, Value]] | None]:
        """{key identity: {lower-case name: (stored name, value)}, or None when the key is absent}."""
        found: dict[tuple[str, int], dict[str, tuple[str, Value]] | None] = {}
        for identity, (op_id, path, view) in self.keys.items():
            result = results.get(op_id) or {}
            if not result.get("ok"):
                raise agent_failure(result.get("error") or {}, registry.display_path(path, view))
            if not result.get("exists"):
                found[identity] = None
                continue
            found[identity] = {entry["name"].lower(): (entry["name"], registry.from_wire(entry)) for entry in result.get("values") or []}
        return found


def current_value(item: Wanted, key_values: dict[tuple[str, int], dict[str, tuple[str, Value]] | None]) -> Value | None:
    values = key_values.get(key_identity(item.path, item.view))
    entry = (values or {}).get(item.name.lower())
    return entry[1] if entry else None


def plan(wanted: list[Wanted], key_values: dict[tuple[str, int], dict[str, tuple[str, Value]] | None]) -> list[Change]:
    return [Change(item, current_value(item, key_values), item.value) for item in wanted]


def wire_data(value: Value) -> t.Any:
    """A value's data as set_value takes it. DWORD/QWORD travel as decimal strings: JSON numbers lose QWORD precision in .NET."""
    value_type, data = value
    return str(data) if value_type in ("dword", "qword") else registry.to_wire(value_type, data)


def expectation(before: Value | None) -> dict[str, t.Any]:
    """The 'expect' of a write: what the host held when the change was decided. The agent refuses the whole
    request, writing nothing, when the host no longer holds it (another run wrote in between)."""
    if before is None:
        return {"exists": False}
    return {"exists": True, "type": before[0], "data": wire_data(before)}


def write_id(index: int) -> str:
    """The id of the write operation of changes[index]: the one place ids are made."""
    return f"write{index}"


def changes_by_write_id(changes: list[Change]) -> dict[str, Change]:
    """Each write operation's change, joined by the id write_ops gave it (never parsed back)."""
    return {write_id(index): change for index, change in enumerate(changes)}


def write_ops(changes: list[Change]) -> list[dict[str, t.Any]]:
    ops = []
    for index, change in enumerate(changes):
        if not change.changed:
            continue
        item = change.wanted
        op: dict[str, t.Any] = {"id": write_id(index), "path": item.path, "view": item.view, "name": item.name,
                                "expect": expectation(change.before)}
        if item.value is None:
            op["op"] = "delete_value"
        else:
            op.update(op="set_value", type=item.value[0], data=wire_data(item.value))
        ops.append(op)
    return ops


def applied(changes: list[Change], results: dict[str, dict[str, t.Any]]) -> list[Change]:
    """The changes with 'after' as the agent reports it stored."""
    done = []
    for index, change in enumerate(changes):
        result = results.get(write_id(index))
        if result and result.get("ok") and "value" in result:
            change = change._replace(after=registry.from_wire(result["value"]))
        done.append(change)
    return done


def diff(changes: list[Change], header: str, hidden: t.Callable[[Change], bool] = lambda _change: False) -> dict[str, str]:
    """Ansible's diff: one line per changed value, old and new with their types (a sensitive value's data hidden)."""
    changed = [change for change in changes if change.changed]

    def shown(change: Change, value: Value | None) -> str:
        if value is not None and hidden(change):
            return f"(sensitive {value[0]} value hidden)"
        return registry.render(value)

    return {
        "before_header": header,
        "after_header": header,
        "before": "".join(f"{change.wanted.label()}: {shown(change, change.before)}\n" for change in changed),
        "after": "".join(f"{change.wanted.label()}: {shown(change, change.after)}\n" for change in changed),
    }


def backup_keys(changes: list[Change], key_values: dict[tuple[str, int], dict[str, tuple[str, Value]] | None]) -> list[RegKey]:
    """The keys about to change as they are now, plus a deletion entry for each value the change
    creates, so that importing the file undoes the change."""
    keys: dict[tuple[str, int], RegKey] = {}
    for change in changes:
        if not change.changed:
            continue
        item = change.wanted
        identity = key_identity(item.path, item.view)
        if identity not in keys:
            current = key_values.get(identity) or {}
            keys[identity] = RegKey(file_key_path(item.path, item.view),
                                    values=dict(current.values()))
        if change.before is None:
            keys[identity].values[item.name] = None
    return list(keys.values())


def public(value: Value | None) -> dict[str, t.Any] | None:
    """A value as modules return it: binary data in the hex:aa,bb form the options accept."""
    if value is None:
        return None
    value_type, data = value
    if value_type in ("binary", "none"):
        data = "hex:" + ",".join(f"{byte:02x}" for byte in data)
    return {"type": value_type, "data": data}


def write_failure(changes: list[Change], answer: dict[str, t.Any], backup_file: str | None) -> AgentError | None:
    """The task failure for a write request that stopped part way, or None when every write succeeded.

    The request runs with rollback_on_error, so the agent has already undone the earlier writes;
    the message says so, or says exactly what could not be undone and where the backup is.
    """
    results = answer["results"]
    failed = next((result for result in results if not result.get("ok") and not result.get("skipped")), None)
    if failed is None:
        return None
    change = changes_by_write_id(changes).get(str(failed.get("id")))
    # A write names its value; another operation (a tree delete, a created key) names its key; a refusal of the whole
    # request (the host's write lock was busy) names nothing. Never an internal operation id.
    error_path = (failed.get("error") or {}).get("path")
    what = (change.wanted.label() if change is not None
            else registry.display_path(error_path) if error_path else None)
    failure = agent_failure(failed.get("error") or {}, what)
    rollback = answer.get("rollback") or {}
    # A write request carries only writes, so every operation that succeeded wrote something.
    written = sum(1 for result in results if result.get("ok"))
    if rollback.get("errors"):
        undone = "; ".join(f"{registry.display_path(item['path'], item.get('view', 64))} \"{item['name']}\": {item['message']}"
                           for item in rollback["errors"])
        state = (f" The host is PARTLY CHANGED: these earlier writes could not be undone: {undone}."
                 + (f" Restore them from {backup_file}." if backup_file else ""))
    elif written:
        state = f" Nothing was left changed: the {written} earlier write(s) of this task were undone."
    else:
        state = " Nothing was changed."
    return AgentError(failure.msg + state, agent_error=failure.result.get("agent_error"), rollback=rollback,
                      **({"backup_file": backup_file} if backup_file else {}))
