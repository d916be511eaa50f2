# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.registry_values: read every key in one round trip,
then write exactly the differences in a second one (none when nothing differs or in check mode)."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.registry_values import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes, _registry
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._value_change_action import KeyValues, Plan, ValueChangeAction


def wanted_values(entries: list[dict[str, t.Any]]) -> list[_changes.Wanted]:
    """Validate every entry before anything is sent; the message names the entry and the fix."""
    if not entries:
        raise AnsibleActionFail("values is empty; list at least one value to manage.")
    wanted = []
    for index, entry in enumerate(entries):
        where = f"values[{index}]"
        try:
            path = _registry.normalize_key_path(entry["path"])
            label = f"{where} ({_registry.display_path(path, entry['view'])} {entry['name']!r})"
            if entry["state"] == "absent":
                if entry.get("data") is not None:
                    raise AnsibleActionFail(f"{label}: state is absent, so data must not be given.")
                wanted.append(_changes.Wanted(path, entry["name"], entry["view"], None))
                continue
            if entry.get("data") is None and entry["type"] != "none":
                raise AnsibleActionFail(f"{label}: data is required to set a {entry['type']} value (or use state: absent).")
            data = _registry.normalize_data(entry["type"], entry.get("data"))
        except _registry.RegistryInputError as exc:
            raise AnsibleActionFail(f"{where}: {exc}") from None
        wanted.append(_changes.Wanted(path, entry["name"], entry["view"], (entry["type"], data)))
    _changes.check_unique(wanted)
    return wanted


class ActionModule(ValueChangeAction):
    DOCUMENTATION = DOCUMENTATION
    BACKUP_NAME = "registry-values"

    def parse_options(self, args: dict[str, t.Any]) -> list[_changes.Wanted]:
        return wanted_values(args["values"])

    def values_to_read(self, request: list[_changes.Wanted]) -> list[_changes.Wanted]:
        return request

    def decide(self, request: list[_changes.Wanted], key_values: KeyValues, results: dict[str, t.Any]) -> Plan:
        return Plan(request, {})

    def shape_result(self, request: list[_changes.Wanted], plan: Plan, changes: list[_changes.Change],
                     changed: bool) -> dict[str, t.Any]:
        result: dict[str, t.Any] = {
            "changed": any(change.changed for change in changes),
            "entries": [{
                "path": _registry.display_path(change.wanted.path), "name": change.wanted.name,
                "view": change.wanted.view, "state": "present" if change.wanted.present else "absent",
                "before": _changes.public(change.before), "after": _changes.public(change.after),
                "changed": change.changed,
            } for change in changes],
        }
        if self._task.diff:
            result["diff"] = _changes.diff(changes, "registry values")
        return result
