# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

ChangeAction for modules that set registry values: the values' keys are read, compared with the
wanted values, backed up as an undo-ready .reg file and written with conditional set_value and
delete_value operations. A module names the values (and keys) it wants; the plan is made here.
"""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._backup import file_key_path
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._change_action import Backup, ChangeAction, ChangePlan, Results
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey

KeyValues = t.Dict[t.Any, t.Any]


class NewKey(t.NamedTuple):
    """A key that must exist, with or without values."""

    path: str
    view: int = 64


class Plan(t.NamedTuple):
    """What decide_values() chose: the values to hold, what it learned for shape_values(), and the missing
    keys to create (a created key is a change of its own)."""

    wanted: list[_changes.Wanted]
    facts: dict[str, t.Any]
    new_keys: t.Sequence[NewKey] = ()


class ValueChangeAction(ChangeAction):
    """Base for modules that set registry values; subclasses implement the value hooks below."""

    def read_ops(self, request: t.Any) -> list[dict[str, t.Any]]:
        self._key_reads = _changes.KeyReads(self.values_to_read(request))
        return self._key_reads.ops() + self.extra_reads(request)

    def decide(self, request: t.Any, results: Results, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> ChangePlan:
        key_values = self._key_reads.values(results)
        plan = self.decide_values(request, key_values, results)
        changes = _changes.plan(plan.wanted, key_values)
        changed = any(change.changed for change in changes) or bool(plan.new_keys)
        ops = self.create_key_ops(plan.new_keys) + _changes.write_ops(changes) + self.follow_up_ops(request, plan, changes)
        return ChangePlan(changed, ops, self.undo_backup(task_vars, changes, key_values, plan.new_keys), changes, plan)

    def shape_result(self, request: t.Any, plan: ChangePlan, written: Results | None) -> dict[str, t.Any]:
        changes = _changes.applied(plan.changes, written) if written is not None else plan.changes
        return self.shape_values(request, plan.facts, changes, plan.changed)

    @staticmethod
    def create_key_ops(keys: t.Sequence[NewKey]) -> list[dict[str, t.Any]]:
        return [{"id": f"create_key{index}", "op": "create_key", "path": key.path, "view": key.view}
                for index, key in enumerate(keys)]

    def undo_backup(self, task_vars: dict[str, t.Any], changes: list[_changes.Change], key_values: KeyValues,
                    keys: t.Sequence[NewKey]) -> Backup:
        """The undo-ready backup; a key the task creates is a [-key] block (importing it deletes the key
        and what the task put in it), so no value block for that key follows it."""
        created = {_changes.key_identity(key.path, key.view) for key in keys}
        kept = [change for change in changes if _changes.key_identity(change.wanted.path, change.wanted.view) not in created]
        blocks = _changes.backup_keys(kept, key_values) + [RegKey(file_key_path(key.path, key.view), delete=True)
                                                           for key in keys]
        comments = [f"Backup made by {self._task.action} on {self.inventory_host(task_vars)} before changing these values.",
                    "Importing this file (reg import, or regedit) puts the values back as they were"
                    + (" and deletes the keys the task created." if keys else ".")]
        return Backup(self.BACKUP_NAME, blocks, comments)

    # Value hooks, in the order the sequence calls them (parse_options comes first, from ChangeAction).

    def values_to_read(self, request: t.Any) -> list[_changes.Wanted]:
        """The values whose keys the first round trip reads."""
        raise NotImplementedError

    def extra_reads(self, request: t.Any) -> list[dict[str, t.Any]]:
        """Other read operations for the same round trip (their results reach decide_values())."""
        return []

    def decide_values(self, request: t.Any, key_values: KeyValues, results: Results) -> Plan:
        """The values to hold; raise FailedTaskResult to refuse (nothing has been written yet)."""
        raise NotImplementedError

    def follow_up_ops(self, request: t.Any, plan: Plan, changes: list[_changes.Change]) -> list[dict[str, t.Any]]:
        """Operations sent after the writes in the same request, such as a service restart."""
        return []

    def shape_values(self, request: t.Any, plan: Plan, changes: list[_changes.Change], changed: bool) -> dict[str, t.Any]:
        """The module's documented result (besides backup_file and backup_checksum)."""
        raise NotImplementedError
