# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.licensing_mode: read the licensing state in one round
trip, decide (Group Policy included), then write and optionally restart TermService in a second."""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.modules.licensing_mode import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes, _mode_plan as plan, _transport
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import AgentError

RESTART_SERVICES = ["TermService"]


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION
    BACKUP_NAME = "licensing-mode"

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        request = plan.parse_request(args)
        probes = list(plan.STATE_VALUES) + (list(plan.OS_VALUES) if request.mode == 6 else [])
        reads = _changes.KeyReads(probes)
        answer = _transport.run_agent(self, reads.ops() + [{"id": "domain", "op": "computer_system"}])
        results = _transport.results_by_id(answer)
        key_values = reads.values(results)
        lookup = plan.lookup_in(key_values)
        domain = self.domain(results.get("domain") or {})
        if request.mode == 6:
            plan.check_aad_supported(lookup)

        before = plan.state(lookup)
        conflicts = plan.policy_conflicts(request, before)
        if conflicts and args["policy_conflict"] == "fail":
            raise AgentError("; ".join(conflicts) + ". A local change would have no effect. " + plan.GPO_ADVICE,
                             policy_conflicts=conflicts, before=before, domain=domain)
        warnings = [conflict + "; the local value is set, but it has no effect while the policy is set."
                    for conflict in conflicts] if args["policy_conflict"] == "warn" else []
        if request.mode == 4 and domain.get("part_of_domain") is False:
            warnings.append("This host is in a workgroup: Per User licensing needs Active Directory to track CALs, "
                            "and workgroup hosts must use per_device (Microsoft: RDS licensing troubleshooting).")

        changes = _changes.plan(plan.wanted(request, lookup), key_values)
        changed = any(change.changed for change in changes)
        restart = changed and args["restart"] == "if_changed"
        result: dict[str, t.Any] = {}
        if changed and not self._task.check_mode:
            if args["backup"]:
                result.update(self.backup(args, task_vars, changes, key_values))
            ops = _changes.write_ops(changes)
            if restart:
                ops.append({"id": "restart", "op": "restart_service", "names": RESTART_SERVICES})
            # All or nothing: a failed restart fails the task and its writes are undone.
            changes = _changes.applied(changes, self.write_all_or_nothing(ops, changes, result.get("backup_file")))

        after = plan.state(plan.after_lookup(lookup, changes))
        result.update(
            changed=changed,
            before=before,
            after=after,
            policy_controlled=before["policy_mode"] is not None or before["policy_license_servers"] is not None,
            policy_overrides=bool(conflicts),
            policy_conflicts=conflicts,
            restart_required=changed and not restart,
            restarted=restart,
            domain=domain,
        )
        if warnings:
            result["warnings"] = warnings
        if self._task.diff:
            header = f"licensing ({request.scope} values)"
            result["diff"] = {"before_header": header, "after_header": header,
                              "before": plan.diff_text(before, request.scope) if changed else "",
                              "after": plan.diff_text(after, request.scope) if changed else ""}
        return result

    @staticmethod
    def domain(system: dict[str, t.Any]) -> dict[str, t.Any]:
        if not system.get("ok"):
            return {"part_of_domain": None, "domain": None}
        return {"part_of_domain": system.get("part_of_domain"), "domain": system.get("domain")}
