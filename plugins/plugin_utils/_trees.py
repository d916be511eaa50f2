# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Whole key trees as the agent's read_tree reports them, turned into .reg keys for backups, and
the destructive allow-list as the controller enforces it (the agent enforces its own copy).
"""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _dacl, _protocol
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _registry as registry
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._backup import file_key_path
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import agent_failure

# Keys below HKLM (64-bit view spelling) that may be deleted whole or have ownership taken.
DESTRUCTIVE_ROOTS = _protocol.DESTRUCTIVE_ROOTS

Tree = t.List[t.Tuple[str, t.Dict[str, t.Tuple[str, t.Any]]]]


def destructive_allowed(path: str) -> bool:
    normal = path.strip("\\").lower()
    return any(normal == root.lower() or normal.startswith(root.lower() + "\\") for root in DESTRUCTIVE_ROOTS)


def read_tree_op(op_id: str, path: str, view: int = 64, acl: bool = False) -> dict[str, t.Any]:
    """acl: also each key's DACL, for backups that carry the DACLs registry_restore can put back."""
    op = {"id": op_id, "op": "read_tree", "path": path, "view": view}
    if acl:
        op["acl"] = True
    return op


def tree_of(result: dict[str, t.Any], path: str, view: int) -> Tree | None:
    """[(key path, {name: (type, data)})], parents first; None when the key does not exist."""
    if not result.get("ok"):
        raise agent_failure(result.get("error") or {}, registry.display_path(path, view))
    if not result.get("exists"):
        return None
    return [(entry["path"], {value["name"]: registry.from_wire(value) for value in entry.get("values") or []})
            for entry in result.get("keys") or []]


def dacls_of(result: dict[str, t.Any]) -> dict[str, str]:
    """{key path: its own DACL} for the keys of a read_tree answer (acl: true), "D:" for a key that only inherits: a
    restore of the backup then also takes away ACEs added after it (recreate_for_users' grant on a cache that had none)."""
    found = {}
    for entry in result.get("keys") or []:
        if isinstance(entry.get("sddl"), str) and entry["sddl"]:
            found[entry["path"]] = _dacl.explicit(entry["sddl"])
    return found


def reg_keys(tree: Tree, view: int, dacls: dict[str, str] | None = None) -> list[RegKey]:
    """The tree as .reg keys; a key's own DACL is kept where registry_restore may put it back (_dacl.DACL_ROOTS)."""
    keys = []
    for path, values in tree:
        key = RegKey(file_key_path(path, view), values=dict(values))
        if dacls and path in dacls and _dacl.allowed(key.path.partition("\\")[2]):
            key.dacl = dacls[path]
        keys.append(key)
    return keys


def summary(tree: Tree | None) -> dict[str, int]:
    if not tree:
        return {"keys": 0, "values": 0}
    return {"keys": len(tree), "values": sum(len(values) for _path, values in tree)}
