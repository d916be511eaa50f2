# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.mslicensing: read both views' trees, save and verify
the backup on the controller, then delete (and optionally re-create for users) in one more call."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.mslicensing import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _registry, _transport, _trees
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase
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


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        views = sorted(set(args["views"]), reverse=True)
        if not views:
            raise AnsibleActionFail("views is empty; give 64, 32 or both.")
        recreate = args["recreate_for_users"]
        results = _transport.results_by_id(_transport.run_agent(
            self, [_trees.read_tree_op(f"v{view}", MSLICENSING_KEY, view, acl=True) for view in views]))
        trees = {view: _trees.tree_of(results.get(f"v{view}") or {}, MSLICENSING_KEY, view) for view in views}
        doomed = [view for view in views if trees[view] is not None and not (recreate and view == 64 and left_for_users(trees[view]))]
        create = recreate and 64 in views and (trees[64] is None or 64 in doomed)
        result: dict[str, t.Any] = {
            "changed": bool(doomed) or create,
            "removed": {str(view): removal(trees[view] if view in doomed else None) for view in views},
            "recreated": create,
        }
        if self._task.diff:
            lines = "".join(f"[{_registry.display_path(MSLICENSING_KEY, view)}] {_trees.summary(trees[view])['keys']} key(s)\n"
                            for view in doomed)
            result["diff"] = {"before_header": "MSLicensing", "after_header": "MSLicensing", "before": lines,
                              "after": "(removed)\n" if doomed else ""}
        if not result["changed"] or self._task.check_mode:
            return result
        if not doomed:
            self.write_all_or_nothing([self.recreate_op()], [], None)
            return result

        # The backup carries each key's own DACL (recreate_for_users' grant), which registry_restore puts back.
        keys = [key for view in doomed for key in _trees.reg_keys(trees[view], view, _trees.dacls_of(results.get(f"v{view}") or {}))]
        host = self.inventory_host(task_vars)
        saved = self.save_backup(args, task_vars, "mslicensing", keys,
                                 [f"MSLicensing of {host} before {self._task.action} removed it.",
                                  "Restore with remote_desktop.licensing.registry_restore, reg import or regedit."],
                                 not_done="the license cache was not removed")
        result.update(backup_file=saved["backup_file"], backup_checksum=saved["checksum"])

        ops = [{"id": f"delete{view}", "op": "delete_tree", "path": MSLICENSING_KEY, "view": view} for view in doomed]
        if create:
            ops.append(self.recreate_op())
        self.write_all_or_nothing(ops, [], saved["backup_file"])
        return result

    @staticmethod
    def recreate_op() -> dict[str, t.Any]:
        return {"id": "recreate", "op": "create_key", "path": MSLICENSING_KEY, "view": 64, "grant_users": True}
