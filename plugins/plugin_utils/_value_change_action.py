# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The sequence every module that sets registry values follows, owned in one place:
read (one round trip) -> decide -> back up -> apply (one all-or-nothing round trip) -> shape the
result. A module fills the small hooks below; it never sends anything itself.
"""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._backup import file_key_path
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import results_by_id, run_agent

KeyValues = t.Dict[t.Any, t.Any]


class NewKey(t.NamedTuple):
    """A key that must exist, with or without values."""

    path: str
    view: int = 64


class Plan(t.NamedTuple):
    """What decide() chose: the values to hold, what it learned for shape_result(), and the missing
    keys to create (a created key is a change of its own)."""

    wanted: list[_changes.Wanted]
    facts: dict[str, t.Any]
    new_keys: t.Sequence[NewKey] = ()


class ValueChangeAction(LicensingActionBase):
    """Base for modules that set registry values; subclasses implement the hooks."""

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        request = self.parse_options(args)
        reads = _changes.KeyReads(self.values_to_read(request))
        results = results_by_id(run_agent(self, reads.ops() + self.extra_reads(request)))
        key_values = reads.values(results)
        plan = self.decide(request, key_values, results)
        changes = _changes.plan(plan.wanted, key_values)
        changed = any(change.changed for change in changes) or bool(plan.new_keys)
        result: dict[str, t.Any] = {}
        if changed and not self._task.check_mode:
            if args["backup"]:
                result.update(self.backup_with_new_keys(args, task_vars, changes, key_values, plan.new_keys))
            ops = self.create_key_ops(plan.new_keys) + _changes.write_ops(changes) + self.follow_up_ops(request, plan)
            # All or nothing: a failed operation fails the task and the writes before it are undone.
            changes = _changes.applied(changes, self.write_all_or_nothing(ops, changes, result.get("backup_file")))
        result.update(self.shape_result(request, plan, changes, changed))
        return result

    @staticmethod
    def create_key_ops(keys: t.Sequence[NewKey]) -> list[dict[str, t.Any]]:
        return [{"id": f"create_key{index}", "op": "create_key", "path": key.path, "view": key.view}
                for index, key in enumerate(keys)]

    def backup_with_new_keys(self, args: dict[str, t.Any], task_vars: dict[str, t.Any], changes: list[_changes.Change],
                             key_values: KeyValues, keys: t.Sequence[NewKey]) -> dict[str, t.Any]:
        """The undo-ready backup; a key the task creates is a [-key] block (importing it deletes the key
        and what the task put in it), so no value block for that key follows it."""
        if not keys:
            return self.backup(args, task_vars, changes, key_values)
        created = {_changes.key_identity(key.path, key.view) for key in keys}
        kept = [change for change in changes if _changes.key_identity(change.wanted.path, change.wanted.view) not in created]
        blocks = _changes.backup_keys(kept, key_values) + [RegKey(file_key_path(key.path, key.view), delete=True)
                                                           for key in keys]
        comments = [
            f"Backup made by {self._task.action} on {self.inventory_host(task_vars)} before changing these values.",
            "Importing this file (reg import, or regedit) puts the values back as they were and deletes the keys "
            "the task created.",
        ]
        saved = self.save_backup(args, task_vars, self.BACKUP_NAME, blocks, comments)
        return {"backup_file": saved["backup_file"], "backup_checksum": saved["checksum"]}

    # Hooks, in the order run_module calls them.

    def parse_options(self, args: dict[str, t.Any]) -> t.Any:
        """The validated request; raise AnsibleActionFail for a bad option, before anything is sent."""
        raise NotImplementedError

    def values_to_read(self, request: t.Any) -> list[_changes.Wanted]:
        """The values whose keys the first round trip reads."""
        raise NotImplementedError

    def extra_reads(self, request: t.Any) -> list[dict[str, t.Any]]:
        """Other read operations for the same round trip (their results reach decide())."""
        return []

    def decide(self, request: t.Any, key_values: KeyValues, results: dict[str, dict[str, t.Any]]) -> Plan:
        """The values to hold; raise FailedTaskResult to refuse (nothing has been written yet)."""
        raise NotImplementedError

    def follow_up_ops(self, request: t.Any, plan: Plan) -> list[dict[str, t.Any]]:
        """Operations sent after the writes in the same request, such as a service restart."""
        return []

    def shape_result(self, request: t.Any, plan: Plan, changes: list[_changes.Change], changed: bool) -> dict[str, t.Any]:
        """The module's documented result (besides backup_file and backup_checksum)."""
        raise NotImplementedError
