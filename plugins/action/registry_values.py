# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.registry_values: read every key in one round trip,
then write exactly the differences in a second one (none when nothing differs or in check mode)."""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.modules.registry_values import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes, _registry, _secrets, _transport
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._transport import AgentError


def wanted_values(entries: list[dict[str, t.Any]]) -> list[_changes.Wanted]:
    """Validate every entry before anything is sent; the message names the entry and the fix."""
    if not entries:
        raise AgentError("values is empty; list at least one value to manage.")
    wanted = []
    for index, entry in enumerate(entries):
        where = f"values[{index}]"
        try:
            path = _registry.normalize_key_path(entry["path"])
            _registry.check_value_name(entry["name"])
            label = f"{where} ({_registry.display_path(path, entry['view'])} {entry['name']!r})"
            if entry["state"] == "absent":
                if entry.get("data") is not None:
                    raise AgentError(f"{label}: state is absent, so data must not be given.")
                wanted.append(_changes.Wanted(path, entry["name"], entry["view"], None))
                continue
            if entry.get("data") is None and entry["type"] != "none":
                raise AgentError(f"{label}: data is required to set a {entry['type']} value (or use state: absent).")
            data = _registry.normalize_data(entry["type"], entry.get("data"))
        except _registry.RegistryInputError as exc:
            raise AgentError(f"{where}: {exc}") from None
        except AgentError:
            raise
        wanted.append(_changes.Wanted(path, entry["name"], entry["view"], (entry["type"], data)))
    _changes.check_unique(wanted)
    return wanted


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION
    BACKUP_NAME = "registry-values"

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        wanted = wanted_values(args["values"])
        self.sensitive_values = {_secrets.identity(item) for item, entry in zip(wanted, args["values"]) if entry.get("sensitive")}
        # The agent's verbose request/answer logs would carry the data: they are not shown for such a task.
        self.hide_agent_traffic = bool(self.sensitive_values)
        reads = _changes.KeyReads(wanted)
        key_values = reads.values(_transport.results_by_id(_transport.run_agent(self, reads.ops())))
        changes = _changes.plan(wanted, key_values)
        # Messages (a conflict, a lost answer) may quote the data as it was or as wanted: it is scrubbed from them.
        self.secret_texts = _secrets.texts(change for change in changes if self.is_sensitive(change))
        result: dict[str, t.Any] = {}
        if any(change.changed for change in changes) and not self._task.check_mode:
            if args["backup"]:
                result.update(self.backup(args, task_vars, changes, key_values))
            written = self.write_all_or_nothing(_changes.write_ops(changes), changes, result.get("backup_file"))
            changes = _changes.applied(changes, written)
        result.update(
            changed=any(change.changed for change in changes),
            entries=[{
                "path": _registry.display_path(change.wanted.path), "name": change.wanted.name,
                "view": change.wanted.view, "state": "present" if change.wanted.present else "absent",
                "before": _secrets.masked(_changes.public(change.before), self.is_sensitive(change)),
                "after": _secrets.masked(_changes.public(change.after), self.is_sensitive(change)),
                "changed": change.changed,
            } for change in changes],
        )
        if self._task.diff:
            result["diff"] = _changes.diff(changes, "registry values", hidden=self.is_sensitive)
        return result

    def is_sensitive(self, change: _changes.Change) -> bool:
        return _secrets.identity(change.wanted) in self.sensitive_values
