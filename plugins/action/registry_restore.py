# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.registry_restore: parse a .reg file on the controller,
read the keys it names in one round trip, and write only what differs in a second."""

from __future__ import annotations

import os
import typing as t

from ansible.errors import AnsibleError

from ansible_collections.remote_desktop.licensing.plugins.modules.registry_restore import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _backup, _regfile, _secrets
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _restore_plan as restore
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._change_action import Backup, ChangeAction, ChangePlan, Results
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._failure import FailedTaskResult


class Request(t.NamedTuple):
    src: str
    blocks: list[restore.Block]
    source: str | None         # the host the file says it was taken on
    warnings: list[str]
    marked: _secrets.Marked


class ActionModule(ChangeAction):
    DOCUMENTATION = DOCUMENTATION
    BACKUP_NAME = "before-restore"

    def find_source(self, src: str, host_backups: str) -> str:
        """src as ansible.builtin.copy finds it; a bare file name not found there is looked up among this host's
        backups (<backup_dir>/<inventory_hostname>/), where the modules save them."""
        try:
            return self._find_needle("files", src)
        except AnsibleError:
            pass
        backup = os.path.join(host_backups, src)
        if os.path.basename(src) == src and os.path.isfile(backup):
            return backup
        # ansible-core's own message points at a remote_src option this module does not have.
        raise FailedTaskResult(
            f"src {src!r} was not found on the controller (a relative path is looked up in the role's or the "
            "playbook's files directory, then beside the playbook; a bare file name also among this host's backups, "
            f"{host_backups}). src must be a .reg file on the controller; to apply a file that is on the host, fetch "
            "it first (ansible.builtin.fetch). Nothing was sent to the host.")

    def read_source(self, src: str, limit_kb: int, host_backups: str) -> tuple[list[_regfile.RegKey], str | None]:
        """The file's keys and the host it names as its source (None for files without that line)."""
        path = self.find_source(src, host_backups)
        try:
            size = os.path.getsize(path)
            if size > limit_kb * 1024:
                raise FailedTaskResult(f"src {path} is {size // 1024} KiB, above max_file_size_kb={limit_kb}; it was not read and "
                                       "nothing was sent to the host. Raise max_file_size_kb if this file is really meant.")
            with open(path, "rb") as handle:
                return _regfile.read(handle)
        except OSError as exc:
            raise FailedTaskResult(f"Cannot read src {path}: {exc.strerror or exc}. Nothing was sent to the host.") from None
        except _regfile.RegFileError as exc:
            raise FailedTaskResult(f"{src} is not a valid .reg file: {exc}. Nothing was sent to the host.") from None

    def check_source(self, args: dict[str, t.Any], source: str | None, target: str) -> list[str]:
        """Refuse a backup taken on another host unless allowed; warnings for what is applied anyway."""
        if source is None:
            return [f"{args['src']} does not say which host it was taken on (no '; {_regfile.SOURCE_HOST_PREFIX}' line, "
                    "as in regedit exports), so it was applied without checking that it belongs to this host."]
        if source.lower() == target.lower():
            return []
        if not args["allow_other_host"]:
            raise FailedTaskResult(
                f"{args['src']} was taken on {source}, not on {target}: applying it would copy {source}'s values (for "
                f"MSLicensing, its HardwareID and client licenses) to {target}. Nothing was sent to the host; {target} "
                f"is unchanged. Restore {target}'s own backup (under <backup_dir>/{target}/), or set "
                "allow_other_host: true if copying is really meant.", source_host=source)
        return [f"{args['src']} was taken on {source} and applied to {target} (allow_other_host: true)."]

    def parse_options(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Request:
        if args["max_file_size_kb"] < 1:
            raise FailedTaskResult(f"max_file_size_kb must be at least 1, not {args['max_file_size_kb']}.")
        host_backups = _backup.host_dir(self.backup_dir(args), self.inventory_host(task_vars))
        keys, source = self.read_source(args["src"], args["max_file_size_kb"], host_backups)
        blocks = restore.blocks_from(keys)
        if not blocks:
            raise FailedTaskResult(f"{args['src']} holds no [key] blocks; nothing to restore.")
        warnings = self.check_source(args, source, self.inventory_host(task_vars))
        request = Request(args["src"], blocks, source, warnings, _secrets.Marked.from_options(args))
        # The read's answer carries the host's values: it is not logged when any may be a secret.
        self.hide_agent_traffic = bool(request.marked)
        return request

    def read_ops(self, request: Request) -> list[dict[str, t.Any]]:
        self._read_ops, self._read_ids = restore.read_ops(request.blocks)
        return self._read_ops

    def decide(self, request: Request, results: Results, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> ChangePlan:
        plan = restore.Plan(request.blocks, results, self._read_ids)
        secret = [change for change in plan.changes if request.marked(change.wanted.name)]
        self.secret_texts = _secrets.texts(secret)
        comments = [f"Keys as they were before {self._task.action} applied {args['src']} on {self.inventory_host(task_vars)}."]
        return ChangePlan(plan.changed, plan.ops, Backup(self.BACKUP_NAME, plan.backup_keys(), comments), plan.changes,
                          facts={"plan": plan, "secret": secret})

    def shape_result(self, request: Request, plan: ChangePlan, written: Results | None) -> dict[str, t.Any]:
        ops = plan.ops
        result: dict[str, t.Any] = {"source_host": request.source, "changed": plan.changed, "operations": len(ops),
                                    "keys_deleted": sum(1 for op in ops if op["op"] == "delete_tree"),
                                    "keys_created": sum(1 for op in ops if op["op"] == "create_key"),
                                    "values_set": sum(1 for op in ops if op["op"] == "set_value"),
                                    "values_deleted": sum(1 for op in ops if op["op"] == "delete_value"),
                                    "dacls_set": sum(1 for op in ops if op["op"] == "set_key_dacl")}
        if plan.changed and request.warnings:
            result["warnings"] = request.warnings
        if self._task.diff:
            diff = plan.facts["plan"].diff(f"registry from {request.src}")
            result["diff"] = _secrets.masked_diff(diff, plan.facts["secret"])
        return result
