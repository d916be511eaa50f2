# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

registry_restore's plan: which keys a .reg file touches, what differs from the live registry, and
the write operations that make the host match the file, in file order (a [-key] block followed
by a [key] block replaces the key, as reg import does), and set_key_dacl for keys whose dacl comment
differs from the DACL they hold.

Linear in keys, values and blocks: each distinct key is read once (a key inside a deleted tree is
read with that tree), and a deletion finds the keys below it through an index of children, whose
entries it drops as it visits them, so no block rescans the whole model. Plan.work counts the
index and value steps; a test bounds it.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _registry as registry
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _dacl, _protocol, _regfile, _trees
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._changes import Change, Wanted, expectation, write_id, write_ops
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import AgentError, agent_failure

Values = t.Dict[str, t.Tuple[str, t.Tuple[str, t.Any]]]  # lower-case name -> (stored name, value)


class Block(t.NamedTuple):
    path: str           # below HKLM, as the file spells it
    delete: bool
    values: dict[str, t.Any]
    dacl: str | None = None  # the key's own DACL the file records (_dacl.explicit form), or None


def blocks_from(keys: list[RegKey]) -> list[Block]:
    """Validate a parsed file before anything is sent: HKLM only, deletions inside the allow-list,
    value types the collection can write, DACLs only inside the DACL allow-list."""
    blocks = []
    for key in keys:
        try:
            path = registry.normalize_key_path("HKLM\\" + _regfile.split_path(key.path))
        except (_regfile.RegFileError, registry.RegistryInputError) as exc:
            raise AgentError(f"[{key.path}]: {exc}") from None
        dacl = _block_dacl(key, path)
        if key.delete and not _trees.destructive_allowed(path):
            allowed = ", ".join("HKLM\\" + root for root in _trees.DESTRUCTIVE_ROOTS)
            raise AgentError(
                f"[-{key.path}] would delete a whole key outside the destructive allow-list ({allowed}). Nothing was sent; "
                "remove that line from the file, or delete the key by hand if that is really meant."
            )
        for name, value in key.values.items():
            try:
                registry.check_value_name(name)
            except registry.RegistryInputError as exc:
                raise AgentError(f"[{key.path}]: {exc}. Nothing was sent.") from None
            if value is not None and value[0] == "multistring" and any(item == "" for item in value[1]):
                # registry_values refuses them too: an empty item ends a REG_MULTI_SZ for most readers.
                raise AgentError(f"[{key.path}] value {name!r} has an empty item in its multistring data; "
                                 "remove the empty item from the file. Nothing was sent.")
            if value is not None and value[0] not in registry.VALUE_TYPES:
                raise AgentError(f"[{key.path}] value {name!r} has a registry type ({value[0]}) this collection "
                                 "cannot write; remove it from the file or import the file with reg import.")
        blocks.append(Block(path, key.delete, dict(key.values), dacl))
    return blocks


def _block_dacl(key: RegKey, path: str) -> str | None:
    """The DACL a block's comment records, refused outside the DACL allow-list: a file must not be able to
    grant rights on any other key (a hostile .reg granting Everyone on a Run key or a service)."""
    if key.dacl is None:
        return None
    if not _dacl.allowed(path):
        allowed = ", ".join("HKLM\\" + root for root in _dacl.DACL_ROOTS)
        raise AgentError(f"[{key.path}] carries a DACL comment ('; {_regfile.DACL_PREFIX} ...'), and DACLs are only restored "
                         f"inside {allowed}. Nothing was sent; remove that comment line from the file, or set the "
                         "key's permissions by hand if that is really meant.")
    try:
        return _dacl.restorable(_dacl.explicit(key.dacl))
    except _dacl.DaclError as exc:
        raise AgentError(f"[{key.path}] DACL comment: {exc}. Nothing was sent; export the key again or remove the "
                         "comment line.") from None


# The GracePeriod key and what is below it, through CurrentControlSet or a numbered control set (ControlSet001 is the
# same key on a running system).
_GRACE_PERIOD = re.compile(re.escape(_protocol.GRACE_PERIOD_PATH).replace("CurrentControlSet", r"(CurrentControlSet|ControlSet\d{3})")
                           + r"(\\|$)", re.IGNORECASE)


def _refuse_grace_period_write(path: str) -> None:
    """Only a change is refused: a file whose GracePeriod block the host already matches restores the rest."""
    if _GRACE_PERIOD.match(path):
        raise AgentError(
            f"[{registry.display_path(path)}] would change the grace period key, and registry_restore does not write "
            "there: Windows lets only the Remote Desktop Services service (NETWORK SERVICE) change it (Administrators "
            "may only read it), and this collection takes ownership of it only to delete the timebomb value "
            "(grace_period). A grace_reset backup is the record of what the reset deleted. Nothing was written; "
            "remove that block from the file to restore the rest.")


def _parent(lower: str) -> str:
    return lower.rpartition("\\")[0]


def read_ops(blocks: list[Block]) -> tuple[list[dict[str, t.Any]], dict[str, str]]:
    """One read per distinct key: read_tree for deletions (the whole tree goes), read_key otherwise; a key
    inside a tree the file deletes is read with that tree. Reads carry acl where DACLs matter."""
    deleted = {block.path.lower() for block in blocks if block.delete}
    with_dacl = {block.path.lower() for block in blocks if block.dacl is not None}
    first: dict[str, Block] = {}
    for block in blocks:
        known = first.get(block.path.lower())
        if known is None or (block.delete and not known.delete):
            first[block.path.lower()] = block
    ops, ids = [], {}
    for lower, block in first.items():
        ancestor = _parent(lower)
        while ancestor and ancestor not in deleted:
            ancestor = _parent(ancestor)
        if ancestor:
            continue  # read with the deleted tree above it
        op_id = f"read{len(ops)}"
        ids[lower] = op_id
        if block.delete:
            ops.append(_trees.read_tree_op(op_id, block.path, acl=True))
        else:
            op = {"id": op_id, "op": "read_key", "path": block.path, "view": 64}
            if lower in with_dacl:
                op["acl"] = True
            ops.append(op)
    return ops, ids


class Plan:
    """Walks the file against a model of the live registry and records the operations."""

    def __init__(self, blocks: list[Block], results: dict[str, dict[str, t.Any]], ids: dict[str, str]):
        self.state: dict[str, Values | None] = {}
        # Each key's own DACL (_dacl.explicit form) where it was read or the plan made the key.
        self.dacls: dict[str, str] = {}
        # Children index: parent -> its subkeys (and the ancestors in between) the model knows.
        self.children: dict[str, dict[str, None]] = {}
        self.work = 0
        self.paths = {block.path.lower(): block.path for block in blocks}
        for lower, op_id in ids.items():
            result = results.get(op_id) or {}
            if not result.get("ok"):
                raise agent_failure(result.get("error") or {}, registry.display_path(lower))
            self._load(lower, result)
        self.initial = {key: dict(values) if values is not None else None for key, values in self.state.items()}
        self.initial_dacls = dict(self.dacls)
        # Insertion-ordered set: membership stays O(1) for files with hundreds of thousands of keys.
        self.touched: dict[str, None] = {}
        self.changes: list[Change] = []
        self.key_ops: list[dict[str, t.Any]] = []
        self.ops: list[dict[str, t.Any]] = []
        self.lines: list[tuple[str, str]] = []
        for block in blocks:
            self._delete(block) if block.delete else self._apply(block)
        if self.ops and _comparable(self.state) == _comparable(self.initial) and self._same_dacls():
            # A [-key] followed by blocks that put back exactly what is there (a full regedit export applied
            # again) changes nothing: no operation is sent, so a second run and check mode report changed=0.
            self.changes, self.ops, self.lines, self.touched = [], [], [], {}
        for op in self.ops:  # what is left to send: a block the host already matches sends nothing
            _refuse_grace_period_write(op["path"])

    def _load(self, lower: str, result: dict[str, t.Any]) -> None:
        if not result.get("exists"):
            self.state.setdefault(lower, None)
            return
        if "keys" in result:
            for entry in result.get("keys") or []:
                path = entry["path"]
                self.paths.setdefault(path.lower(), path)
                self._exists(path.lower(), {value["name"].lower(): (value["name"], registry.from_wire(value))
                                            for value in entry.get("values") or []}, entry.get("sddl"))
            return
        self._exists(lower, {entry["name"].lower(): (entry["name"], registry.from_wire(entry))
                             for entry in result.get("values") or []}, result.get("sddl"))

    def _exists(self, lower: str, values: Values, sddl: t.Any) -> None:
        self.state[lower] = values
        if isinstance(sddl, str) and sddl:
            try:
                self.dacls[lower] = _dacl.explicit(sddl)
            except _dacl.DaclError:
                pass  # a DACL this collection would not write (object or conditional ACEs): compared as different
        self._register(lower)

    def _register(self, lower: str) -> None:
        """Link a key into the children index up to the first ancestor already linked."""
        child, parent = lower, _parent(lower)
        while parent:
            self.work += 1
            kids = self.children.setdefault(parent, {})
            if child in kids:
                return
            kids[child] = None
            child, parent = parent, _parent(parent)

    def _subtree(self, lower: str) -> list[str]:
        """lower and every key the index holds below it; the visited index entries are dropped (the keys go)."""
        found, pending = [], [lower]
        while pending:
            key = pending.pop()
            self.work += 1
            found.append(key)
            pending.extend(self.children.pop(key, {}))
        return found

    def _delete(self, block: Block) -> None:
        lower = block.path.lower()
        doomed = [key for key in self._subtree(lower) if self.state.get(key) is not None]
        if not doomed:
            return
        self.ops.append({"id": f"key{len(self.ops)}", "op": "delete_tree", "path": block.path, "view": 64})
        self.lines.append((f"[{registry.display_path(block.path)}] with {len(doomed)} key(s)", "(deleted)"))
        for key in doomed:
            self.state[key] = None
            self.dacls.pop(key, None)
            self._touch(key)

    def _apply(self, block: Block) -> None:
        lower = block.path.lower()
        self.work += 1
        if self.state.get(lower) is None:
            self.ops.append({"id": f"key{len(self.ops)}", "op": "create_key", "path": block.path, "view": 64})
            shown = f"[{registry.display_path(block.path)}]"
            self.lines.append((f"{shown} (absent)", f"{shown} (key created)"))
            # A new key holds no ACEs of its own: it inherits its parent's.
            self._exists(lower, {}, _dacl.INHERITED_ONLY)
        current = self.state[lower]
        for name, value in block.values.items():
            self.work += 1
            stored = current.get(name.lower())
            change = Change(Wanted(block.path, name, 64, value), stored[1] if stored else None, value)
            if not change.changed:
                continue
            index = len(self.changes)
            self.changes.append(change)
            op = write_ops([change])[0]
            op["id"] = write_id(index)
            # The agent checks every expectation before the request's first write, so each one is the value as
            # the host held it when read, not as an earlier block of this file left it (a [-key] then [key]).
            held = (self.initial.get(lower) or {}).get(name.lower())
            op["expect"] = expectation(held[1] if held else None)
            self.ops.append(op)
            self.lines.append((f"{change.wanted.label()}: {registry.render(change.before)}",
                               f"{change.wanted.label()}: {registry.render(change.after)}"))
            self._touch(lower)
            if value is None:
                current.pop(name.lower(), None)
            else:
                current[name.lower()] = (stored[0] if stored else name, value)
        if block.dacl is not None and self.dacls.get(lower) != block.dacl:
            # After the values: a DACL that narrows Administrators' rights must not refuse the block's own writes.
            self.ops.append({"id": f"dacl{len(self.ops)}", "op": "set_key_dacl", "path": block.path, "view": 64, "sddl": block.dacl})
            label = f"[{registry.display_path(block.path)}] DACL"
            self.lines.append((f"{label}: {_dacl.shown(self.dacls.get(lower))}", f"{label}: {_dacl.shown(block.dacl)}"))
            self.dacls[lower] = block.dacl
            self._touch(lower)

    def _same_dacls(self) -> bool:
        """Whether every key that exists at the end holds the DACL it held when read (where that was read)."""
        return all(self.initial_dacls[key] == own for key, own in self.dacls.items()
                   if key in self.initial_dacls and self.state.get(key) is not None)

    def _touch(self, lower: str) -> None:
        self.touched.setdefault(lower, None)

    def backup_keys(self) -> list[RegKey]:
        """The keys the restore changes, as they are now (keys it creates have nothing to keep)."""
        keys = []
        for lower in self.touched:
            values = self.initial.get(lower)
            if values is not None:
                key = RegKey(_backup_path(lower, self.paths), values=dict(values.values()))
                own = self.initial_dacls.get(lower)
                if own is not None and _dacl.allowed(lower):
                    key.dacl = own
                keys.append(key)
        return keys

    @property
    def changed(self) -> bool:
        return bool(self.ops)

    def diff(self, header: str) -> dict[str, str]:
        return {"before_header": header, "after_header": header,
                "before": "".join(before + "\n" for before, _after in self.lines),
                "after": "".join(after + "\n" for _before, after in self.lines)}


def _comparable(state: dict[str, Values | None]) -> dict[str, dict[str, t.Any] | None]:
    """Keys and values as Windows compares them (names without case); absent keys left out."""
    return {key: {name: entry[1] for name, entry in values.items()} for key, values in state.items() if values is not None}


def _backup_path(lower: str, paths: dict[str, str]) -> str:
    return _regfile.HIVE + "\\" + paths.get(lower, lower)
