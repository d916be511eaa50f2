# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The shared shape of every module's action plugin: validate the task's arguments against the
module's own DOCUMENTATION (one source for docs and validation), refuse connections the agent
cannot use, and turn a FailedTaskResult (AgentError is one) into a failed task result instead of a
traceback. Option errors are AnsibleActionFail, raised before anything is sent.
"""

from __future__ import annotations

import importlib
import typing as t

import yaml

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import (
    _backup, _changes, _outcome, _regfile, _role_options, _secrets)
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._failure import FailedTaskResult
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import (
    NOT_ELEVATED_WARNING, AgentError, NoAnswer, check_connection, results_by_id, run_agent)

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


_OWN_FRAGMENTS = "remote_desktop.licensing."


def fragment_options(names: list[str]) -> dict[str, t.Any]:
    """The options the collection's own doc fragments add, so that they are validated as documented."""
    options: dict[str, t.Any] = {}
    for name in names:
        if not name.startswith(_OWN_FRAGMENTS):
            continue
        module_name, _dot, variant = name[len(_OWN_FRAGMENTS):].partition(".")
        fragment = importlib.import_module(f"ansible_collections.remote_desktop.licensing.plugins.doc_fragments.{module_name}")
        text = getattr(fragment.ModuleDocFragment, variant.upper() or "DOCUMENTATION")
        options.update(yaml.safe_load(text).get("options") or {})
    return options


def argument_spec_from_doc(documentation: str | dict[str, t.Any]) -> dict[str, t.Any]:
    doc = yaml.safe_load(documentation) if isinstance(documentation, str) else documentation
    options = fragment_options(doc.get("extends_documentation_fragment") or [])
    options.update(doc.get("options") or {})
    return options_to_argument_spec(options)


class LicensingActionBase(ActionBase):
    """Base for the collection's action plugins; subclasses implement ``run_module``."""

    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False
    DOCUMENTATION = ""
    # Built from DOCUMENTATION once, when the plugin is imported: ansible-core imports action plugins
    # in the main process before it forks a worker per host and task, so every worker inherits it.
    ARGUMENT_SPEC: dict[str, t.Any] = {}
    # False for plugins that only work on the controller (no agent, any connection).
    NEEDS_AGENT = True
    # Options of the group_defaults doc fragment this module accepts and ignores (it makes no backup).
    IGNORED_GROUP_OPTIONS: tuple[str, ...] = ()
    # Appended to ansible-core's message for an option it refuses: what the options take, in the words of the roles.
    OPTION_HINT = ""

    # The module's short name (DOCUMENTATION's `module`): which roles may name it in options_from_role.
    MODULE_NAME = ""

    def __init_subclass__(cls, **kwargs: t.Any) -> None:
        super().__init_subclass__(**kwargs)
        if "DOCUMENTATION" in cls.__dict__:
            doc = yaml.safe_load(cls.DOCUMENTATION)
            cls.ARGUMENT_SPEC = argument_spec_from_doc(doc)
            cls.MODULE_NAME = doc["module"]

    def run(self, tmp: str | None = None, task_vars: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        result = super().run(tmp, task_vars)
        del tmp
        # Set by send_write when a write's answer was lost and the host was read back.
        self.lost_answer: dict[str, t.Any] | None = None
        # Set by modules with sensitive values (registry_values, registry_restore): data scrubbed from the result,
        # agent logs hidden.
        self.secret_texts: list[str] = []
        self.hide_agent_traffic = False
        role = self._task.args.get("options_from_role")
        if role is not None:
            # The role's variables, read here instead of through one template per argument (see _role_options).
            # A host the role's task is not for is skipped first, as its `when` was evaluated before its arguments.
            skipped = _role_options.skip_reason(role, task_vars or {}, self._templar.template)
            if skipped:
                return {**result, "changed": False, "skipped": True, "skip_reason": skipped}
            self._task.args = _role_options.task_args(role, self.MODULE_NAME, self._task.args, task_vars or {},
                                                      self._templar.template)
        # Raises AnsibleActionFail with ansible-core's own validation message, and this module's hint after it.
        try:
            _validation, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        except AnsibleActionFail as exc:
            if not self.OPTION_HINT:
                raise
            raise AnsibleActionFail(f"{exc.message}. {self.OPTION_HINT}") from None
        for name in (*self.IGNORED_GROUP_OPTIONS, "options_from_role"):
            args.pop(name, None)
        try:
            if self.NEEDS_AGENT:
                check_connection(self._connection, self._play_context, self._task.action)
            if args.get("backup_dir"):
                # Refused before the host is contacted, not only when a backup is due.
                self.backup_dir(args)
            result.update(self.run_module(args, task_vars or {}))
        except FailedTaskResult as exc:
            result.update(exc.result)
            result.update(failed=True, msg=exc.msg)
        if self.lost_answer:
            result["lost_answer"] = self.lost_answer
            if not result.get("failed"):
                result["warnings"] = [*result.get("warnings", []), self.lost_answer["message"]]
        # Once per task: not again when the failure itself already names the non-elevated token.
        if getattr(self, "agent_elevated", None) is False and "agent.elevated is false" not in str(result.get("msg", "")):
            result["warnings"] = [*result.get("warnings", []), NOT_ELEVATED_WARNING]
        return _secrets.scrub_result(result, self.secret_texts)

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        raise NotImplementedError

    # The file name stem of this module's backups.
    BACKUP_NAME = "registry"

    def inventory_host(self, task_vars: dict[str, t.Any]) -> str:
        return task_vars.get("inventory_hostname") or self._play_context.remote_addr or "host"

    def save_backup(self, args: dict[str, t.Any], task_vars: dict[str, t.Any], name: str, keys: list[t.Any],
                    comments: list[str], not_done: str | None = "nothing was changed") -> dict[str, t.Any]:
        """Write and verify a .reg backup under backup_dir; if it cannot be, fail the task saying what was not done."""
        directory = self.backup_dir(args)
        try:
            return _backup.save(directory, self.inventory_host(task_vars), name, keys, comments)
        except _backup.BackupError as exc:
            raise AgentError(f"Backup failed{', so ' + not_done if not_done else ''}: {exc}") from None

    @staticmethod
    def backup_dir(args: dict[str, t.Any]) -> str:
        """The task's backup directory (the collection's default when unset); one inside an installed
        collection is refused."""
        try:
            return _backup.check_dir(args.get("backup_dir") or _backup.default_dir())
        except _backup.BackupError as exc:
            raise AgentError(f"Backup refused: {exc}") from None

    def write_all_or_nothing(self, ops: list[dict[str, t.Any]], changes: list[_changes.Change],
                             backup_file: str | None) -> dict[str, dict[str, t.Any]]:
        """Send the write operations in one call with rollback; fail the task, saying what is left
        changed, if any of them failed. Returns the results by operation id."""
        answer = self.send_write(ops, backup_file)
        failure = _changes.write_failure(changes, answer, backup_file)
        if failure:
            raise failure
        return results_by_id(answer)

    def send_write(self, ops: list[dict[str, t.Any]], backup_file: str | None) -> dict[str, t.Any]:
        """The one way every module sends writes: one call with rollback. When its answer is lost, the
        outcome is read back from the host instead of guessed (see _outcome); returns the answer, or an
        answer made from the read-back when every write is found on the host."""
        try:
            return run_agent(self, ops, rollback_on_error=True)
        except NoAnswer as exc:
            cause = exc.msg
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Connection plugins raise their own types (requests, pywinrm, pypsrp, Ansible's); any of
            # them after the request left means the outcome is unknown, not that nothing happened.
            cause = f"{type(exc).__name__}: {exc}"
        return self.read_back(ops, backup_file, cause)

    def read_back(self, ops: list[dict[str, t.Any]], backup_file: str | None, cause: str) -> dict[str, t.Any]:
        lost = f"The answer to the write request was lost ({cause[:300]})"
        kept = f" The backup is {backup_file}." if backup_file else " No backup was made (backup is off)."
        reads = _outcome.read_ops(ops)
        try:
            # Reconnect once: the old shell or socket may be dead. winrm, psrp and ssh all implement reset().
            self._connection.reset()
            results = results_by_id(run_agent(self, reads))
        except Exception as exc:  # pylint: disable=broad-exception-caught
            message = (f"{lost}, and reading the host back after reconnecting failed too ({type(exc).__name__}: "
                       f"{str(exc)[:300]}). The change may be PARTLY APPLIED; check the host before rerunning.{kept}")
            self.lost_answer = {"cause": cause, "outcome": _outcome.UNKNOWN, "found": [], "message": message}
            raise AgentError(message, changed=True, **({"backup_file": backup_file} if backup_file else {})) from None
        checks = _outcome.verify(ops, reads, results, self._backup_keys(backup_file))
        verdict = _outcome.verdict(checks)
        found = _outcome.summary(checks)
        self.lost_answer = {"cause": cause, "outcome": verdict, "found": _outcome.public(checks)}
        backup = {"backup_file": backup_file} if backup_file else {}
        if verdict == _outcome.DONE:
            self.lost_answer["message"] = (f"{lost}; after reconnecting, the host was read back and every change is in "
                                           f"place: {found}.{kept}")
            return {"ok": True, "results": [{"id": op.get("id"), "ok": True, "read_back": True} for op in ops]}
        if verdict == _outcome.NOT_DONE:
            self.lost_answer["message"] = (f"{lost}; after reconnecting, the host was read back and nothing was "
                                           f"changed: {found}. Rerun the task.{kept}")
            raise AgentError(self.lost_answer["message"], changed=False, **backup)
        self.lost_answer["message"] = (f"{lost}; after reconnecting, the host was read back and the change may be PARTLY "
                                       f"APPLIED: {found}. Rerun the task to finish it"
                                       f"{', or put the keys back from the backup' if backup_file else ''}.{kept}")
        raise AgentError(self.lost_answer["message"], changed=True, **backup)

    @staticmethod
    def _backup_keys(backup_file: str | None) -> list[_regfile.RegKey] | None:
        """What the backup recorded (the state before the write), for writes that are judged against it."""
        if not backup_file:
            return None
        try:
            with open(backup_file, "rb") as handle:
                return _regfile.parse(_regfile.decode(handle.read()))
        except (OSError, ValueError):
            return None
