# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The shared shape of every module's action plugin: validate the task's arguments against the
module's own DOCUMENTATION (one source for docs and validation), refuse connections the agent
cannot use, and turn AgentError into a failed task result instead of a traceback.
"""

from __future__ import annotations

import typing as t

import yaml

from ansible.plugins.action import ActionBase

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _backup, _changes
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import (
    NOT_ELEVATED_WARNING, AgentError, check_connection, results_by_id, run_agent)

# DOCUMENTATION keys that are also argument-spec keys.
_SPEC_KEYS = ("type", "required", "default", "choices", "elements", "aliases", "no_log")


def options_to_argument_spec(options: dict[str, t.Any]) -> dict[str, t.Any]:
    """Convert a DOCUMENTATION ``options`` mapping into an ansible-core argument spec."""
    spec: dict[str, t.Any] = {}
    for name, doc in (options or {}).items():
        entry = {key: doc[key] for key in _SPEC_KEYS if key in doc}
        entry.setdefault("type", "str")
        if "suboptions" in doc:
            entry["options"] = options_to_argument_spec(doc["suboptions"])
        spec[name] = entry
    return spec


def argument_spec_from_doc(documentation: str) -> dict[str, t.Any]:
    return options_to_argument_spec(yaml.safe_load(documentation).get("options") or {})


class LicensingActionBase(ActionBase):
    """Base for the collection's action plugins; subclasses implement ``run_module``."""

    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False
    DOCUMENTATION = ""
    # False for plugins that only work on the controller (no agent, any connection).
    NEEDS_AGENT = True

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        del tmp
        # Raises AnsibleActionFail with ansible-core's own validation message.
        _validation, args = self.validate_argument_spec(argument_spec=argument_spec_from_doc(self.DOCUMENTATION))
        try:
            if self.NEEDS_AGENT:
                check_connection(self._connection, self._play_context, self._task.action)
            result.update(self.run_module(args, task_vars or {}))
        except AgentError as exc:
            result.update(exc.result)
            result.update(failed=True, msg=exc.msg)
        if getattr(self, "agent_elevated", None) is False:
            result["warnings"] = [*result.get("warnings", []), NOT_ELEVATED_WARNING]
        return result

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        raise NotImplementedError

    # The file name stem of this module's backups.
    BACKUP_NAME = "registry"

    def inventory_host(self, task_vars: dict[str, t.Any]) -> str:
        return task_vars.get("inventory_hostname") or self._play_context.remote_addr or "host"

    def save_backup(self, args: dict[str, t.Any], task_vars: dict[str, t.Any], name: str, keys: list[t.Any],
                    comments: list[str], not_done: str | None = "nothing was changed") -> dict[str, t.Any]:
        """Write and verify a .reg backup under backup_dir; if it cannot be, fail the task saying what was not done."""
        try:
            return _backup.save(args.get("backup_dir") or _backup.default_dir(task_vars), self.inventory_host(task_vars),
                                name, keys, comments)
        except _backup.BackupError as exc:
            raise AgentError(f"Backup failed{', so ' + not_done if not_done else ''}: {exc}") from None

    def backup(self, args: dict[str, t.Any], task_vars: dict[str, t.Any], changes: list[_changes.Change],
               key_values: dict[t.Any, t.Any]) -> dict[str, t.Any]:
        """Save and verify the undo-ready backup of what is about to change; fail the task if it cannot be."""
        comments = [
            f"Backup made by {self._task.action} on {self.inventory_host(task_vars)} before changing these values.",
            "Importing this file (reg import, or regedit) puts the values back as they were.",
        ]
        saved = self.save_backup(args, task_vars, self.BACKUP_NAME, _changes.backup_keys(changes, key_values), comments)
        return {"backup_file": saved["backup_file"], "backup_checksum": saved["checksum"]}

    def write_all_or_nothing(self, ops: list[dict[str, t.Any]], changes: list[_changes.Change],
                             backup_file: str | None) -> dict[str, dict[str, t.Any]]:
        """Send the write operations in one call with rollback; fail the task, saying what is left
        changed, if any of them failed. Returns the results by operation id."""
        answer = run_agent(self, ops, rollback_on_error=True)
        failure = _changes.write_failure(changes, answer, backup_file)
        if failure:
            raise failure
        return results_by_id(answer)
