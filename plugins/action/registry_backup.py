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
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile, _registry, _secrets, _transport, _trees
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._change_action import ChangeAction, ChangePlan, Results, naming_backup


class Request(t.NamedTuple):
    paths: list[str]
    view: int
    marked: _secrets.Marked


class ActionModule(ChangeAction):
    """Read-only but for remote_copy: the export is saved in decide() (check mode too), the copy is the one write."""

    DOCUMENTATION = DOCUMENTATION

    def parse_options(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Request:
        paths: list[str] = []
        for index, key in enumerate(args["keys"]):
            try:
                path = _registry.normalize_key_path(key)
            except _registry.RegistryInputError as exc:
                raise AnsibleActionFail(f"keys[{index}]: {exc}") from None
            if path.lower() not in (seen.lower() for seen in paths):
                paths.append(path)
        if not paths:
            raise AnsibleActionFail("keys is empty; list at least one key to export.")
        request = Request(paths, args["view"], _secrets.Marked.from_options(args))
        # The read's answer carries the values: it is not logged when any may be a secret.
        self.hide_agent_traffic = bool(request.marked)
        return request

    def read_ops(self, request: Request) -> list[dict[str, t.Any]]:
        return [_trees.read_tree_op(f"tree{index}", path, request.view, acl=True) for index, path in enumerate(request.paths)]

    def decide(self, request: Request, results: Results, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> ChangePlan:
        keys, exported, missing = [], [], []
        for index, path in enumerate(request.paths):
            tree = _trees.tree_of(results.get(f"tree{index}") or {}, path, request.view)
            if tree is None:
                missing.append(_registry.display_path(path, request.view))
                continue
            keys += _trees.reg_keys(tree, request.view, _trees.dacls_of(results.get(f"tree{index}") or {}))
            exported.append({"path": _registry.display_path(path), "view": request.view, **_trees.summary(tree)})
        facts: dict[str, t.Any] = {"exported": exported, "missing": missing, "saved": None}
        if not keys:
            return ChangePlan(False, [], facts=facts)
        comments = [f"Export by {self._task.action} of {self.inventory_host(task_vars)}, {request.view}-bit view.",
                    "Import with reg import or regedit, or with remote_desktop.licensing.registry_restore."]
        name = args.get("name") or request.paths[0].split("\\")[-1]
        saved = self.save_backup(args, task_vars, name, keys, comments, not_done=None)
        if request.marked:
            # No message of this module quotes a value: the content is masked, nothing is scrubbed from text.
            shown = _secrets.masked_keys(keys, request.marked)
            saved["content"] = _regfile.render(shown, [_regfile.source_host_comment(self.inventory_host(task_vars)), *comments])
        facts["saved"] = saved
        return ChangePlan(args["remote_copy"], [self.copy_op(saved["backup_file"])] if args["remote_copy"] else [], facts=facts)

    @staticmethod
    def copy_op(path: str) -> dict[str, t.Any]:
        with open(path, "rb") as handle:
            content = base64.b64encode(handle.read()).decode("ascii")
        return {"id": "copy", "op": "write_file", "name": os.path.basename(path), "content": content}

    def apply(self, request: Request, plan: ChangePlan, backup_file: str | None) -> Results:
        written = _transport.results_by_id(_transport.run_agent(self, plan.ops))
        if not written["copy"].get("ok"):
            saved = plan.facts["saved"]
            failure = _transport.agent_failure(written["copy"].get("error") or {}, "the copy under ProgramData")
            failure.msg += " No copy was written on the host; the export itself is saved on the controller."
            failure.result["content"] = saved["content"]
            raise naming_backup(failure, {"backup_file": saved["backup_file"], "backup_checksum": saved["checksum"]})
        return written

    def shape_result(self, request: Request, plan: ChangePlan, written: Results | None) -> dict[str, t.Any]:
        missing, saved = plan.facts["missing"], plan.facts["saved"]
        result: dict[str, t.Any] = {"changed": written is not None, "exported": plan.facts["exported"], "missing_keys": missing}
        if missing:
            result["warnings"] = [f"{path} does not exist; nothing to export there." for path in missing]
        if saved:
            result.update(backup_file=saved["backup_file"], backup_checksum=saved["checksum"], size=saved["size"],
                          content=saved["content"])
        if written is not None:
            result["remote_file"] = written["copy"]["path"]
        return result
