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
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase
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


def is_timebomb(name: str) -> bool:
    """The agent's L$*TIMEBOMB* pattern (case-insensitive, as PowerShell's -like)."""
    return fnmatch.fnmatchcase(name.upper(), _protocol.TIMEBOMB_PATTERN.upper())


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        reset = args["state"] == "reset"
        if reset and not args["acknowledge_lab_use"]:
            raise AnsibleActionFail(
                "state: reset refuses to run without acknowledge_lab_use: true. Resetting the grace period licenses "
                "nothing and is not supported by Microsoft; it is for lab and test hosts. To license a host, set "
                "its licensing mode and license servers (remote_desktop.licensing.licensing_mode)."
            )
        ops = _host_report.plan_operations(SUBSETS)
        if reset:
            ops.append(_trees.read_tree_op("grace_tree", lic.GRACE_PERIOD_KEY))
        results = _transport.results_by_id(_transport.run_agent(self, ops))
        report = _host_report.build_report(SUBSETS, results, _transport.agent_failure, args["warning_days"])
        servers = report["license_servers"]["effective"] or []
        result: dict[str, t.Any] = {
            "changed": False,
            "grace_period": report["grace_period"],
            "mode": report["mode"]["effective_name"],
            "license_servers": servers,
            "licensing_configured": state_reader.is_configured(report["mode"], report["license_servers"]),
        }
        if reset:
            result.update(self.reset(args, task_vars, results))
        return result

    def reset(self, args: dict[str, t.Any], task_vars: dict[str, t.Any], results: dict[str, t.Any]) -> dict[str, t.Any]:
        read = results.get("grace_tree") or {}
        if not read.get("ok") and (read.get("error") or {}).get("kind") == "access_denied":
            raise AgentError(LOCKED_ADVICE, agent_error=read.get("error"))
        tree = _trees.tree_of(read, lic.GRACE_PERIOD_KEY, 64)
        names = sorted(name for name in (tree[0][1] if tree else {}) if is_timebomb(name))
        restart = bool(names) and args["restart"] == "if_changed"
        outcome: dict[str, t.Any] = {"changed": bool(names), "deleted": names, "restarted": restart,
                                     "restart_required": bool(names) and not restart}
        if self._task.diff:
            outcome["diff"] = {"before_header": "GracePeriod", "after_header": "GracePeriod",
                               "before": "".join(f"{name}\n" for name in names), "after": ""}
        if not names or self._task.check_mode:
            return outcome
        saved = self.save_backup(args, task_vars, "graceperiod", _trees.reg_keys(tree, 64),
                                 [f"The GracePeriod key of {self.inventory_host(task_vars)} before {self._task.action} "
                                  "reset it (lab use)."], not_done="the grace period was not reset")
        outcome.update(backup_file=saved["backup_file"], backup_checksum=saved["checksum"])
        ops = [{"id": "reset", "op": "grace_reset", "path": lic.GRACE_PERIOD_KEY}]
        if restart:
            ops.append({"id": "restart", "op": "restart_service", "names": ["TermService"]})
        written = _transport.results_by_id(self.send_write(ops, saved["backup_file"]))
        done = written.get("reset") or {}
        if done.get("read_back"):
            # The answer was lost and the reset found done on the host; the ACL check's answer went with it.
            outcome["acl_restored"] = None
            return outcome
        if not done.get("ok"):
            error = done.get("error") or {}
            if error.get("kind") == "access_denied":
                advice = LOCKED_ADVICE if error.get("reason") == "grace_key_locked" else OWNERSHIP_ADVICE
                raise AgentError(advice, agent_error=error, backup_file=saved["backup_file"])
            failure = _changes.write_failure([], {"results": [done]}, saved["backup_file"]) or _transport.agent_failure(error)
            failure.result.setdefault("backup_file", saved["backup_file"])
            raise failure
        outcome.update(deleted=done.get("deleted") or [], acl_restored=bool(done.get("acl_restored")))
        if not done.get("acl_restored"):
            outcome.setdefault("warnings", []).append(
                "The GracePeriod key's owner or permissions did not read back exactly as before: "
                f"before {done.get('sddl_before')}, after {done.get('sddl_after')}.")
        if restart and not (written.get("restart") or {}).get("ok"):
            raise AgentError("The timebomb was deleted, but restarting TermService failed; restart it in a maintenance "
                             "window to start the new grace period.", changed=True, restart_required=True,
                             backup_file=saved["backup_file"], deleted=outcome["deleted"])
        return outcome
