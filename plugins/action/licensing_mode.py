# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.licensing_mode: read the licensing state in one round
trip, decide (Group Policy included), then write and optionally restart TermService in a second, or
reboot the host through ansible.windows.win_reboot after it."""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.modules.licensing_mode import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes, _mode_plan as mode_plan, _reboot, _wmi_reads
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._failure import FailedTaskResult
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._value_change_action import KeyValues, Plan, ValueChangeAction

RESTART_SERVICES = ["TermService"]


class Options(t.NamedTuple):
    asked: mode_plan.Request
    policy_conflict: str    # fail | warn | ignore
    restart: bool           # restart TermService after a change
    reboot: bool            # reboot the host after a change


class ActionModule(ValueChangeAction):
    DOCUMENTATION = DOCUMENTATION
    BACKUP_NAME = "licensing-mode"

    def parse_options(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Options:
        if args["restart"] == "reboot":
            _reboot.require(self)
        return Options(mode_plan.parse_request(args), args["policy_conflict"], args["restart"] == "if_changed",
                       args["restart"] == "reboot")

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        result = super().run_module(args, task_vars)
        if result.get("rebooted") and not self._task.check_mode:
            self.reboot_after_change(result, task_vars)
        return result

    def reboot_after_change(self, result: dict[str, t.Any], task_vars: dict[str, t.Any]) -> None:
        """Reboot once the change is written; a failed reboot fails the task, saying that the change is in place."""
        try:
            win_result = _reboot.reboot(self, task_vars)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            win_result = {"failed": True, "rebooted": False, "msg": f"{type(exc).__name__}: {exc}"}
        if not win_result.get("failed"):
            return
        backup = f" The backup saved before the change is {result['backup_file']}." if result.get("backup_file") else ""
        why = _reboot.failure_text(win_result)
        if win_result.get("rebooted"):
            # The shutdown was accepted: the host rebooted (or is still booting) but was not seen back in time.
            result.update(rebooted=True, restart_required=False)
            raise FailedTaskResult(
                f"The licensing change was written and the host was rebooted, but it was not confirmed back within "
                f"{_reboot.TIMEOUT_S} s ({why}). Check that it is up before anything else; do not reboot it again for "
                f"this change (running the task again reports no change and does not reboot).{backup}", **result)
        result.update(rebooted=False, restart_required=True)
        raise FailedTaskResult(
            f"The licensing change was written, but the reboot through {_reboot.WIN_REBOOT} did not start ({why}). "
            f"The host holds the new values (see after); they take effect once TermService restarts. Reboot the host "
            f"(or restart TermService); running the task again reports no change and does not reboot.{backup}", **result)

    def values_to_read(self, request: Options) -> list[_changes.Wanted]:
        return list(mode_plan.STATE_VALUES) + (list(mode_plan.OS_VALUES) if request.asked.mode == 6 else [])

    def extra_reads(self, request: Options) -> list[dict[str, t.Any]]:
        return [_wmi_reads.computer_system("domain")]

    def decide_values(self, request: Options, key_values: KeyValues, results: dict[str, t.Any]) -> Plan:
        lookup = mode_plan.lookup_in(key_values)
        domain = self.domain(_wmi_reads.computer_system_answer(results.get("domain") or {}))
        if request.asked.mode == 6:
            mode_plan.check_aad_supported(lookup)
        before = mode_plan.state(lookup)
        conflicts = mode_plan.policy_conflicts(request.asked, before)
        if conflicts and request.policy_conflict == "fail":
            raise FailedTaskResult("; ".join(conflicts) + ". A local change would have no effect. " + mode_plan.GPO_ADVICE,
                                   policy_conflicts=conflicts, before=before, domain=domain)
        warnings = [conflict + "; the local value is set, but it has no effect while the policy is set."
                    for conflict in conflicts] if request.policy_conflict == "warn" else []
        if request.asked.mode == 4 and domain.get("part_of_domain") is False:
            warnings.append("This host is in a workgroup: Per User licensing needs Active Directory to track CALs, "
                            "and workgroup hosts must use per_device (Microsoft: RDS licensing troubleshooting).")
        facts = {"lookup": lookup, "before": before, "conflicts": conflicts, "warnings": warnings, "domain": domain}
        return Plan(mode_plan.wanted(request.asked, lookup), facts)

    def follow_up_ops(self, request: Options, plan: Plan, changes: list[_changes.Change]) -> list[dict[str, t.Any]]:
        # A failed restart fails the task and its writes are undone.
        if request.restart and self.takes_effect(plan.facts, changes):
            return [{"id": "restart", "op": "restart_service", "names": RESTART_SERVICES}]
        return []

    @staticmethod
    def takes_effect(facts: dict[str, t.Any], changes: list[_changes.Change]) -> bool:
        """Whether the changes alter what TermService uses: a local value Group Policy overrides does not, so
        restarting the service (which ends every session) for it would only disrupt users."""
        after = mode_plan.state(mode_plan.after_lookup(facts["lookup"], changes))
        before = facts["before"]
        return (before["mode"], before["license_servers"]) != (after["mode"], after["license_servers"])

    def shape_values(self, request: Options, plan: Plan, changes: list[_changes.Change], changed: bool) -> dict[str, t.Any]:
        facts = plan.facts
        effective = changed and self.takes_effect(facts, changes)
        before, restart, reboot = facts["before"], effective and request.restart, effective and request.reboot
        after = mode_plan.state(mode_plan.after_lookup(facts["lookup"], changes))
        warnings = list(facts["warnings"])
        if changed and not effective:
            warnings.append(self.no_restart_warning(request, before))
        result: dict[str, t.Any] = dict(
            changed=changed,
            before=before,
            after=after,
            policy_controlled=before["policy_mode"] is not None or before["policy_license_servers"] is not None,
            policy_overrides=bool(facts["conflicts"]),
            policy_conflicts=facts["conflicts"],
            restart_required=effective and not (restart or reboot),
            restarted=restart,
            rebooted=reboot,
            domain=facts["domain"],
        )
        if restart and self.lost_answer:
            # The writes were read back after a lost answer; whether the restart ran cannot be read back.
            result.update(restarted=None, restart_required=True)
        if warnings:
            result["warnings"] = warnings
        if self._task.diff:
            header = f"licensing ({request.asked.scope} values)"
            result["diff"] = {"before_header": header, "after_header": header,
                              "before": mode_plan.diff_text(before, request.asked.scope) if changed else "",
                              "after": mode_plan.diff_text(after, request.asked.scope) if changed else ""}
        return result

    @staticmethod
    def no_restart_warning(request: Options, before: dict[str, t.Any]) -> str:
        """Why no restart is asked for, whichever restart was asked for."""
        not_restarted = ("TermService was not restarted and " if request.restart else
                         "the host was not rebooted and " if request.reboot else "")
        if request.asked.scope == "local" and (before["policy_mode"] is not None or before["policy_license_servers"] is not None):
            return ("Group Policy overrides the local values this task changed, so the licensing TermService uses stays "
                    f"the same: {not_restarted}no restart is required. The local values take effect once the policy is "
                    "removed; restart TermService then.")
        return ("The licensing TermService uses stays the same after this change (same mode and license servers), so "
                f"{not_restarted}no restart is required.")

    @staticmethod
    def domain(system: dict[str, t.Any]) -> dict[str, t.Any]:
        if not system.get("ok"):
            return {"part_of_domain": None, "domain": None}
        return {"part_of_domain": system.get("part_of_domain"), "domain": system.get("domain")}
