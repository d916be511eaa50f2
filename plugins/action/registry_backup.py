# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.registry_backup: read whole trees in one round trip
and save them as a verified .reg file on the controller (and, if asked, on the host)."""

from __future__ import annotations

import base64
import os
import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.registry_backup import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _registry, _transport, _trees
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        paths = []
        for index, key in enumerate(args["keys"]):
            try:
                path = _registry.normalize_key_path(key)
            except _registry.RegistryInputError as exc:
                raise AnsibleActionFail(f"keys[{index}]: {exc}") from None
            if path.lower() not in (seen.lower() for seen in paths):
                paths.append(path)
        if not paths:
            raise AnsibleActionFail("keys is empty; list at least one key to export.")
        view = args["view"]
        answer = _transport.run_agent(self, [_trees.read_tree_op(f"tree{index}", path, view, acl=True)
                                             for index, path in enumerate(paths)])
        results = _transport.results_by_id(answer)
        keys, exported, missing = [], [], []
        for index, path in enumerate(paths):
            tree = _trees.tree_of(results.get(f"tree{index}") or {}, path, view)
            if tree is None:
                missing.append(_registry.display_path(path, view))
                continue
            keys += _trees.reg_keys(tree, view, _trees.dacls_of(results.get(f"tree{index}") or {}))
            exported.append({"path": _registry.display_path(path), "view": view, **_trees.summary(tree)})
        result: dict[str, t.Any] = {"changed": False, "exported": exported, "missing_keys": missing}
        if missing:
            result["warnings"] = [f"{path} does not exist; nothing to export there." for path in missing]
        if not keys:
            return result
        name = args.get("name") or paths[0].split("\\")[-1]
        comments = [f"Export by {self._task.action} of {self.inventory_host(task_vars)}, {view}-bit view.",
                    "Import with reg import or regedit, or with remote_desktop.licensing.registry_restore."]
        saved = self.save_backup(args, task_vars, name, keys, comments, not_done=None)
        result.update(backup_file=saved["backup_file"], backup_checksum=saved["checksum"], size=saved["size"],
                      content=saved["content"])
        if args["remote_copy"] and not self._task.check_mode:
            with open(saved["backup_file"], "rb") as handle:
                content = base64.b64encode(handle.read()).decode("ascii")
            copy = _transport.results_by_id(_transport.run_agent(self, [{
                "id": "copy", "op": "write_file", "name": os.path.basename(saved["backup_file"]), "content": content}]))["copy"]
            if not copy.get("ok"):
                failure = _transport.agent_failure(copy.get("error") or {}, "the copy under ProgramData")
                failure.result.update(backup_file=saved["backup_file"], content=saved["content"])
                raise failure
            result.update(changed=True, remote_file=copy["path"])
        return result
