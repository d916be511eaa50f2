"""ChangeAction's sequence without a host: a plan whose reads are empty and whose apply is given by the test, so
that the base's own guarantees are checked on real backup files: a failure after the backup names it (an agent
failure, and an exception of the controller's own code while shaping), check mode saves nothing and applies nothing."""

from __future__ import annotations

import hashlib
import types
import typing as t

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._change_action import Backup, ChangeAction, ChangePlan
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._failure import FailedTaskResult
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import AgentError

KEY = RegKey("HKEY_LOCAL_MACHINE\\SOFTWARE\\Contoso", values={"Secret": ("string", "old")})


class Scripted(ChangeAction):
    """A module whose apply and shape do what the test says."""

    def __init__(self, check_mode: bool, apply_does: t.Callable[[], t.Any], shape_does: t.Callable[[], t.Any]):  # pylint: disable=super-init-not-called
        self._task = types.SimpleNamespace(check_mode=check_mode, diff=False, action="remote_desktop.licensing.scripted")
        self._play_context = types.SimpleNamespace(remote_addr="host-a")
        self.apply_does, self.shape_does, self.applied = apply_does, shape_does, 0

    def parse_options(self, args, task_vars):
        return None

    def read_ops(self, request):
        return []

    def decide(self, request, results, args, task_vars):
        return ChangePlan(True, [{"id": "write0"}], Backup("scripted", [KEY], ["made by a test"]))

    def apply(self, request, plan, backup_file):
        self.applied += 1
        return self.apply_does()

    def shape_result(self, request, plan, written):
        return self.shape_does()


def run(tmp_path, check_mode=False, apply_does=lambda: {"write0": {"ok": True}}, shape_does=lambda: {"changed": True}):
    action = Scripted(check_mode, apply_does, shape_does)
    return action, action.run_module({"backup_dir": str(tmp_path)}, {"inventory_hostname": "host-a"})


def saved(tmp_path) -> list[str]:
    return sorted(str(path) for path in tmp_path.rglob("*.reg"))


def test_a_success_returns_the_verified_backup(tmp_path):
    _action, result = run(tmp_path)
    (path,) = saved(tmp_path)
    assert result["backup_file"] == path and result["changed"] is True
    assert result["backup_checksum"] == hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_check_mode_saves_no_backup_and_applies_nothing(tmp_path):
    action, result = run(tmp_path, check_mode=True)
    assert action.applied == 0 and saved(tmp_path) == [] and "backup_file" not in result


def test_an_agent_failure_after_the_backup_names_it(tmp_path):
    def refuse():
        raise AgentError("Access denied on HKLM:\\SOFTWARE\\Contoso. Nothing was changed.", agent_error={"kind": "access_denied"})
    with pytest.raises(FailedTaskResult) as caught:
        run(tmp_path, apply_does=refuse)
    (path,) = saved(tmp_path)
    assert caught.value.result["backup_file"] == path and caught.value.msg.endswith(f"The backup saved before the change is {path}.")
    assert caught.value.result["backup_checksum"] == hashlib.sha256(open(path, "rb").read()).hexdigest()
    assert caught.value.result["agent_error"] == {"kind": "access_denied"}


def test_a_message_that_already_names_the_backup_is_kept(tmp_path):
    def refuse():
        raise AgentError(f"Restore them from {saved(tmp_path)[0]}.", changed=True)
    with pytest.raises(FailedTaskResult) as caught:
        run(tmp_path, apply_does=refuse)
    assert caught.value.msg == f"Restore them from {saved(tmp_path)[0]}." and caught.value.result["changed"] is True


def test_a_controller_exception_while_shaping_names_the_backup_and_the_change(tmp_path):
    def broken():
        raise KeyError("acl_restored")
    with pytest.raises(FailedTaskResult) as caught:
        run(tmp_path, shape_does=broken)
    (path,) = saved(tmp_path)
    assert "KeyError" in caught.value.msg and "The change was applied on the host" in caught.value.msg
    assert path in caught.value.msg and caught.value.result["backup_file"] == path and caught.value.result["changed"] is True


def test_a_controller_exception_while_applying_says_the_outcome_is_unknown(tmp_path):
    def broken():
        raise TypeError("bad answer")
    with pytest.raises(FailedTaskResult) as caught:
        run(tmp_path, apply_does=broken)
    assert "may have been applied" in caught.value.msg and saved(tmp_path)[0] in caught.value.msg


def test_an_exception_before_any_backup_is_not_disguised(tmp_path):
    def broken():
        raise KeyError("changed")
    with pytest.raises(KeyError):
        run(tmp_path, check_mode=True, shape_does=broken)
