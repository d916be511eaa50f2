# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.registry_values: read every key in one round trip,
then write exactly the differences in a second one (none when nothing differs or in check mode)."""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.modules.registry_values import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes, _registry, _secrets
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._value_change_action import KeyValues, NewKey, Plan, ValueChangeAction


class Request(t.NamedTuple):
    values: list[_changes.Wanted]
    keys: list[NewKey]   # bare keys: entries with a path only


def wanted_values(entries: list[dict[str, t.Any]]) -> list[_changes.Wanted]:
    """Validate every entry before anything is sent; the message names the entry and the fix."""
    return parse_entries(entries).values


def parse_entries(entries: list[dict[str, t.Any]]) -> Request:
    if not entries:
        raise AnsibleActionFail("values is empty; list at least one value to manage.")
    wanted, keys = [], []
    for index, entry in enumerate(entries):
        where = f"values[{index}]"
        try:
            path = _registry.normalize_key_path(entry["path"])
            if entry.get("name") is None:
                keys.append(bare_key(entry, f"{where} ({_registry.display_path(path, entry['view'])})", path))
                continue
            _registry.check_value_name(entry["name"])
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
    return Request(wanted, keys)


def bare_key(entry: dict[str, t.Any], label: str, path: str) -> NewKey:
    """An entry without a name: the key must exist (win_regedit's path-only form)."""
    if entry.get("data") is not None:
        raise AnsibleActionFail(f"{label}: data is given without a name. Give name: '' to set the key's default "
                                "value, or the value's name; leave out both name and data to create only the key.")
    if entry["state"] == "absent":
        raise AnsibleActionFail(f"{label}: an entry without a name means the key itself, and this module never deletes "
                                "keys. Give the name of the value to remove, or remove the key with "
                                "ansible.windows.win_regedit (after remote_desktop.licensing.registry_backup).")
    return NewKey(path, entry["view"])


class ActionModule(ValueChangeAction):
    DOCUMENTATION = DOCUMENTATION
    BACKUP_NAME = "registry-values"

    def parse_options(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> Request:
        request = parse_entries(args["values"])
        self.sensitive_values = {
            _secrets.identity(_changes.Wanted(_registry.normalize_key_path(entry["path"]), entry["name"], entry["view"]))
            for entry in args["values"] if entry.get("sensitive") and entry.get("name") is not None}
        # The agent's verbose request/answer logs would carry the data: they are not shown for such a task.
        self.hide_agent_traffic = bool(self.sensitive_values)
        return request

    def is_sensitive(self, change: _changes.Change) -> bool:
        return _secrets.identity(change.wanted) in self.sensitive_values

    def values_to_read(self, request: Request) -> list[_changes.Wanted]:
        # A bare key is read like a value in it: only its key is looked at.
        return request.values + [_changes.Wanted(key.path, "", key.view) for key in request.keys]

    def decide_values(self, request: Request, key_values: KeyValues, results: dict[str, t.Any]) -> Plan:
        # Messages (a conflict, a lost answer) may quote the data as it was or as wanted: it is scrubbed from them.
        self.secret_texts = _secrets.texts(change for change in _changes.plan(request.values, key_values)
                                           if self.is_sensitive(change))
        missing: dict[t.Any, NewKey] = {}
        for key in request.keys:
            identity = _changes.key_identity(key.path, key.view)
            if key_values.get(identity) is None:
                missing.setdefault(identity, key)
        return Plan(request.values, {}, list(missing.values()))

    def shape_values(self, request: Request, plan: Plan, changes: list[_changes.Change], changed: bool) -> dict[str, t.Any]:
        result: dict[str, t.Any] = {
            "changed": any(change.changed for change in changes) or bool(plan.new_keys),
            "keys": [{"path": _registry.display_path(key.path), "view": key.view, "created": key in plan.new_keys}
                     for key in request.keys],
            "entries": [{
                "path": _registry.display_path(change.wanted.path), "name": change.wanted.name,
                "view": change.wanted.view, "state": "present" if change.wanted.present else "absent",
                "before": _secrets.masked(_changes.public(change.before), self.is_sensitive(change)),
                "after": _secrets.masked(_changes.public(change.after), self.is_sensitive(change)),
                "changed": change.changed,
            } for change in changes],
        }
        if self._task.diff:
            result["diff"] = _changes.diff(changes, "registry values", hidden=self.is_sensitive)
            created = "".join(f"[{_registry.display_path(key.path, key.view)}] (key created)\n" for key in plan.new_keys)
            result["diff"]["before"] = "".join(f"[{_registry.display_path(key.path, key.view)}] (absent)\n"
                                               for key in plan.new_keys) + result["diff"]["before"]
            result["diff"]["after"] = created + result["diff"]["after"]
        return result
