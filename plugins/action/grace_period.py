# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.grace_period: query in one round trip; a lab reset
reads and backs up the GracePeriod key, then resets it (and restarts TermService) in a second."""

from __future__ import annotations

import fnmatch
import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.grace_period import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes, _host_report, _protocol, _transport, _trees
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing as lic
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing_state as state_reader
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._change_action import Backup, ChangeAction, ChangePlan, Results
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import AgentError

SUBSETS = ["mode", "license_servers", "grace"]

OWNERSHIP_ADVICE = (
    "Administrators could not take ownership of the GracePeriod key, so nothing was changed. Hardened "
    "Windows Server 2022/2025 hosts, or security baselines that remove SeTakeOwnershipPrivilege from "
    "administrators, only let SYSTEM change it: run the reset as SYSTEM (for example from a scheduled task), "
    "or rebuild the lab host. Better still, point the host at a license server."
)

LOCKED_ADVICE = (
    "The GracePeriod key of this host grants Administrators no access at all (not even to read it or its owner "
    "and permissions), as reported for hardened Windows Server 2022/2025 hosts. Taking ownership would work, but "
    "the original owner could not be put back, so nothing was changed. Only SYSTEM can reset this key: run the "
    "reset as SYSTEM (for example from a scheduled task), or rebuild the lab host. Better still, point the host "
    "at a license server."
)

NOT_ELEVATED_ADVICE = (
    "The agent ran without administrator rights (agent.elevated is false), so nothing was changed: the GracePeriod "
    "key grants its read to Administrators only, and a UAC-filtered token (Administrators deny-only) or a standard "
    "user holds neither that nor SeTakeOwnershipPrivilege. Connect with an account whose WinRM token is elevated, "
    f"{_transport.ELEVATED_ACCOUNTS}, and run the reset again."
)


def is_timebomb(name: str) -> bool:
    """The agent's L$*TIMEBOMB* pattern (case-insensitive, as PowerShell's -like)."""
    return fnmatch.fnmatchcase(name.upper(), _protocol.TIMEBOMB_PATTERN.upper())


class Request(t.NamedTuple):
    reset: bool
    restart: bool        # restart TermService after a reset
    warning_days: int


class ActionModule(ChangeAction):
    DOCUMENTATION = DOCUMENTATION

    def parse_options(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Request:
        reset = args["state"] == "reset"
        if reset and not args["acknowledge_lab_use"]:
            raise AnsibleActionFail(
                "state: reset refuses to run without acknowledge_lab_use: true. Resetting the grace period licenses "
                "nothing and is not supported by Microsoft; it is for lab and test hosts. To license a host, set "
                "its licensing mode and license servers (remote_desktop.licensing.licensing_mode)."
            )
        return Request(reset, args["restart"] == "if_changed", args["warning_days"])

    def read_ops(self, request: Request) -> list[dict[str, t.Any]]:
        return _host_report.plan_operations(SUBSETS) + ([_trees.read_tree_op("grace_tree", lic.GRACE_PERIOD_KEY)]
                                                        if request.reset else [])

    def decide(self, request: Request, results: Results, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> ChangePlan:
        report = _host_report.build_report(SUBSETS, results, _transport.agent_failure, request.warning_days)
        if not request.reset:
            return ChangePlan(False, [], facts={"report": report, "names": []})
        read = results.get("grace_tree") or {}
        if not read.get("ok") and (read.get("error") or {}).get("kind") == "access_denied":
            raise AgentError(self.refusal_advice(LOCKED_ADVICE), agent_error=read.get("error"))
        tree = _trees.tree_of(read, lic.GRACE_PERIOD_KEY, 64)
        names = sorted(name for name in (tree[0][1] if tree else {}) if is_timebomb(name))
        ops = [{"id": "reset", "op": "grace_reset", "path": lic.GRACE_PERIOD_KEY}] if names else []
        if names and request.restart:
            ops.append({"id": "restart", "op": "restart_service", "names": ["TermService"]})
        backup = Backup("graceperiod", _trees.reg_keys(tree, 64) if tree else [],
                        [f"The GracePeriod key of {self.inventory_host(task_vars)} before {self._task.action} reset it (lab use)."],
                        not_done="the grace period was not reset")
        return ChangePlan(bool(names), ops, backup, facts={"report": report, "names": names})

    def refusal_advice(self, advice: str) -> str:
        """Why the key refused the agent: its token when the agent was not elevated, else the key's own ACL."""
        return NOT_ELEVATED_ADVICE if getattr(self, "agent_elevated", None) is False else advice

    def apply(self, request: Request, plan: ChangePlan, backup_file: str | None) -> Results:
        written = _transport.results_by_id(self.send_write(plan.ops, backup_file))
        done = written.get("reset") or {}
        if done.get("read_back"):
            return written
        if not done.get("ok"):
            error = done.get("error") or {}
            if error.get("kind") == "access_denied":
                advice = LOCKED_ADVICE if error.get("reason") == "grace_key_locked" else OWNERSHIP_ADVICE
                raise AgentError(self.refusal_advice(advice), agent_error=error)
            raise _changes.write_failure([], {"results": [done]}, backup_file) or _transport.agent_failure(error)
        if request.restart and not (written.get("restart") or {}).get("ok"):
            raise AgentError("The timebomb was deleted, but restarting TermService failed; restart it in a maintenance "
                             "window to start the new grace period.", changed=True, restart_required=True,
                             deleted=done.get("deleted") or [])
        return written

    def shape_result(self, request: Request, plan: ChangePlan, written: Results | None) -> dict[str, t.Any]:
        report, names = plan.facts["report"], plan.facts["names"]
        result: dict[str, t.Any] = {
            "changed": plan.changed,
            "grace_period": report["grace_period"],
            "mode": report["mode"]["effective_name"],
            "license_servers": report["license_servers"]["effective"] or [],
            "licensing_configured": state_reader.is_configured(report["mode"], report["license_servers"]),
        }
        if not request.reset:
            return result
        restart = bool(names) and request.restart
        result.update(deleted=names, restarted=restart, restart_required=bool(names) and not restart)
        if self._task.diff:
            result["diff"] = {"before_header": "GracePeriod", "after_header": "GracePeriod",
                              "before": "".join(f"{name}\n" for name in names), "after": ""}
        done = (written or {}).get("reset")
        if done is None:
            return result
        if done.get("read_back"):
            # The answer was lost and the reset found done on the host; the ACL check's answer went with it, and
            # whether the restart ran cannot be read back.
            return {**result, "acl_restored": None, **({"restarted": None, "restart_required": True} if restart else {})}
        result.update(deleted=done.get("deleted") or [], acl_restored=bool(done.get("acl_restored")))
        if not done.get("acl_restored"):
            result["warnings"] = ["The GracePeriod key's owner or permissions did not read back exactly as before: "
                                  f"before {done.get('sddl_before')}, after {done.get('sddl_after')}."]
        return result
