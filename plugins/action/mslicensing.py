# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.mslicensing: read both views' trees, save and verify
the backup on the controller, then delete (and optionally re-create for users) in one more call."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.mslicensing import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _registry, _trees
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._change_action import Backup, ChangeAction, ChangePlan, Results
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._licensing import MSLICENSING_KEY


def removal(tree: _trees.Tree | None) -> dict[str, t.Any]:
    """What a tree holds in the administrator's terms: the hardware ID and the stored licenses."""
    below = {path.lower().split("mslicensing", 1)[-1]: values for path, values in tree or []}
    store = [path for path in below if path.startswith("\\store\\") and path.count("\\") == 2]
    hardware = below.get("\\hardwareid", {})
    return {"hardware_id": any(name.lower() == "clienthwid" for name in hardware),
            "store_entries": len(store), **_trees.summary(tree)}


def left_for_users(tree: _trees.Tree | None) -> bool:
    """The empty key recreate_for_users leaves behind: nothing to clear."""
    return tree is not None and len(tree) == 1 and not tree[0][1]


class Request(t.NamedTuple):
    views: list[int]     # 64 first
    recreate: bool


class ActionModule(ChangeAction):
    DOCUMENTATION = DOCUMENTATION

    def parse_options(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Request:
        views = sorted(set(args["views"]), reverse=True)
        if not views:
            raise AnsibleActionFail("views is empty; give 64, 32 or both.")
        return Request(views, args["recreate_for_users"])

    def read_ops(self, request: Request) -> list[dict[str, t.Any]]:
        return [_trees.read_tree_op(f"v{view}", MSLICENSING_KEY, view, acl=True) for view in request.views]

    def decide(self, request: Request, results: Results, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> ChangePlan:
        views, recreate = request.views, request.recreate
        trees = {view: _trees.tree_of(results.get(f"v{view}") or {}, MSLICENSING_KEY, view) for view in views}
        doomed = [view for view in views if trees[view] is not None and not (recreate and view == 64 and left_for_users(trees[view]))]
        create = recreate and 64 in views and (trees[64] is None or 64 in doomed)
        ops = [{"id": f"delete{view}", "op": "delete_tree", "path": MSLICENSING_KEY, "view": view} for view in doomed]
        ops += [{"id": "recreate", "op": "create_key", "path": MSLICENSING_KEY, "view": 64, "grant_users": True}] if create else []
        # The backup carries each key's own DACL (recreate_for_users' grant), which registry_restore puts back.
        keys = [key for view in doomed for key in _trees.reg_keys(trees[view], view, _trees.dacls_of(results.get(f"v{view}") or {}))]
        backup = Backup("mslicensing", keys,
                        [f"MSLicensing of {self.inventory_host(task_vars)} before {self._task.action} removed it.",
                         "Restore with remote_desktop.licensing.registry_restore, reg import or regedit."],
                        not_done="the license cache was not removed") if doomed else None
        return ChangePlan(bool(ops), ops, backup, facts={"trees": trees, "doomed": doomed, "created": create})

    def shape_result(self, request: Request, plan: ChangePlan, written: Results | None) -> dict[str, t.Any]:
        trees, doomed = plan.facts["trees"], plan.facts["doomed"]
        result: dict[str, t.Any] = {
            "changed": plan.changed,
            "removed": {str(view): removal(trees[view] if view in doomed else None) for view in request.views},
            "recreated": plan.facts["created"],
        }
        if self._task.diff:
            lines = "".join(f"[{_registry.display_path(MSLICENSING_KEY, view)}] {_trees.summary(trees[view])['keys']} key(s)\n"
                            for view in doomed)
            result["diff"] = {"before_header": "MSLicensing", "after_header": "MSLicensing", "before": lines,
                              "after": "(removed)\n" if doomed else ""}
        return result
