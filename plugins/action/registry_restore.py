# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.registry_restore: parse a .reg file on the controller,
read the keys it names in one round trip, and write only what differs in a second."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleError

from ansible_collections.remote_desktop.licensing.plugins.modules.registry_restore import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile, _transport
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _restore_plan as restore
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import AgentError


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION
    BACKUP_NAME = "before-restore"

    def read_source(self, src: str) -> list[_regfile.RegKey]:
        try:
            path = self._find_needle("files", src)
            with open(path, "rb") as handle:
                raw = handle.read()
        except (AnsibleError, OSError) as exc:
            raise AgentError(f"Cannot read src {src!r}: {exc}") from None
        try:
            return _regfile.parse(_regfile.decode(raw))
        except _regfile.RegFileError as exc:
            raise AgentError(f"{src} is not a valid .reg file: {exc}. Nothing was sent to the host.") from None

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        blocks = restore.blocks_from(self.read_source(args["src"]))
        if not blocks:
            raise AgentError(f"{args['src']} holds no [key] blocks; nothing to restore.")
        ops, ids = restore.read_ops(blocks)
        plan = restore.Plan(blocks, _transport.results_by_id(_transport.run_agent(self, ops)), ids)
        result: dict[str, t.Any] = {}
        if plan.changed and not self._task.check_mode:
            if args["backup"]:
                result.update(self.restore_backup(args, task_vars, plan))
            self.write_all_or_nothing(plan.ops, plan.changes, result.get("backup_file"))
        result.update(changed=plan.changed, operations=len(plan.ops),
                      keys_deleted=sum(1 for op in plan.ops if op["op"] == "delete_tree"),
                      keys_created=sum(1 for op in plan.ops if op["op"] == "create_key"),
                      values_set=sum(1 for op in plan.ops if op["op"] == "set_value"),
                      values_deleted=sum(1 for op in plan.ops if op["op"] == "delete_value"))
        if self._task.diff:
            result["diff"] = plan.diff(f"registry from {args['src']}")
        return result

    def restore_backup(self, args: dict[str, t.Any], task_vars: dict[str, t.Any], plan: restore.Plan) -> dict[str, t.Any]:
        comments = [f"Keys as they were before {self._task.action} applied {args['src']} on {self.inventory_host(task_vars)}."]
        saved = self.save_backup(args, task_vars, self.BACKUP_NAME, plan.backup_keys(), comments)
        return {"backup_file": saved["backup_file"], "backup_checksum": saved["checksum"]}
