# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The sequence every module that reads the host and may change it follows, owned in one place:
parse the options -> read (one round trip) -> decide a plan -> save a verified backup when a write
will happen (never in check mode) -> apply (one all-or-nothing round trip) -> shape the result.
A module fills the small hooks below; it never sends anything itself. Once a backup is saved, every
failure of the task names it (in ``backup_file`` and in the message), whatever failed.
"""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._failure import FailedTaskResult
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import results_by_id, run_agent

Results = t.Dict[str, t.Dict[str, t.Any]]


class Backup(t.NamedTuple):
    """The undo-ready backup a plan saves before it writes."""

    name: str                 # the file name stem
    keys: list[RegKey]
    comments: list[str]
    not_done: str = "nothing was changed"   # what the failure of the backup means for the task


class ChangePlan(t.NamedTuple):
    """What decide() chose. ops are sent in one all-or-nothing request when changed and not in check mode."""

    changed: bool
    ops: list[dict[str, t.Any]]
    backup: Backup | None = None                       # None: nothing to keep before writing
    changes: list[_changes.Change] = []                # the value changes the ops make (they name a failed write)
    facts: t.Any = None                                # what decide() learned, for shape_result()


def naming_backup(failure: FailedTaskResult, saved: dict[str, t.Any]) -> FailedTaskResult:
    """The failure, carrying the saved backup in its result and naming it in its message."""
    failure.result.setdefault("backup_file", saved["backup_file"])
    failure.result.setdefault("backup_checksum", saved["backup_checksum"])
    if saved["backup_file"] not in failure.msg:
        failure.msg = f"{failure.msg.rstrip()} The backup saved before the change is {saved['backup_file']}."
    return failure


def controller_failure(exc: Exception, saved: dict[str, t.Any], applied: bool | None) -> FailedTaskResult:
    """A failure of the controller's own code after the backup was saved: the task fails naming the backup,
    and says whether the host was changed (None: the request was sent, its outcome is not known)."""
    state = {True: "The change was applied on the host", False: "Nothing was sent to the host",
             None: "The change may have been applied on the host"}[applied]
    return FailedTaskResult(
        f"The task failed on the controller after its backup was saved ({type(exc).__name__}: {str(exc)[:500]}). {state}; "
        f"check the host before running again. The backup saved before the change is {saved['backup_file']}.",
        changed=applied is not False, **saved)


class ChangeAction(LicensingActionBase):
    """Base for modules that read the host and may change it; subclasses implement the hooks."""

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        request = self.parse_options(args, task_vars)
        reads = self.read_ops(request)
        results = results_by_id(run_agent(self, reads)) if reads else {}
        plan = self.decide(request, results, args, task_vars)
        saved: dict[str, t.Any] = {}
        applied: bool | None = False
        try:
            written: Results | None = None
            if plan.changed and plan.ops and not self._task.check_mode:
                if plan.backup is not None and self.wants_backup(args):
                    saved = self.save_plan_backup(args, task_vars, plan.backup)
                applied = None
                written = self.apply(request, plan, saved.get("backup_file"))
                applied = True
            result = self.shape_result(request, plan, written)
        except FailedTaskResult as exc:
            raise naming_backup(exc, saved) if saved else exc
        except Exception as exc:  # pylint: disable=broad-exception-caught
            if not saved:
                raise
            raise controller_failure(exc, saved, applied) from exc
        return {**saved, **result}

    def save_plan_backup(self, args: dict[str, t.Any], task_vars: dict[str, t.Any], backup: Backup) -> dict[str, t.Any]:
        saved = self.save_backup(args, task_vars, backup.name, backup.keys, backup.comments, not_done=backup.not_done)
        return {"backup_file": saved["backup_file"], "backup_checksum": saved["checksum"]}

    # Hooks, in the order run_module calls them.

    def parse_options(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> t.Any:
        """The validated request; raise AnsibleActionFail for a bad option, before anything is sent."""
        raise NotImplementedError

    def read_ops(self, request: t.Any) -> list[dict[str, t.Any]]:
        """The operations of the one read round trip (none: nothing is read)."""
        raise NotImplementedError

    def decide(self, request: t.Any, results: Results, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> ChangePlan:
        """The plan; raise FailedTaskResult to refuse (nothing has been written yet)."""
        raise NotImplementedError

    def wants_backup(self, args: dict[str, t.Any]) -> bool:
        """Whether the plan's backup is saved; modules with a backup option follow it, the others always back up."""
        return bool(args.get("backup", True))

    def apply(self, request: t.Any, plan: ChangePlan, backup_file: str | None) -> Results:
        """Send the plan's writes in one all-or-nothing request; the results by operation id."""
        return self.write_all_or_nothing(plan.ops, plan.changes, backup_file)

    def shape_result(self, request: t.Any, plan: ChangePlan, written: Results | None) -> dict[str, t.Any]:
        """The module's documented result (the base adds backup_file and backup_checksum). written is None
        when nothing was sent (no change, or check mode)."""
        raise NotImplementedError
