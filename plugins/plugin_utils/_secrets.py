# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Registry values marked sensitive (registry_values' per-entry `sensitive`, registry_restore's and registry_backup's
`sensitive_values` and `hide_values`): their data is never shown in a result, a diff, a message or the agent's
verbose logs, as Ansible's no_log would hide it.
"""

from __future__ import annotations

import dataclasses
import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _registry as registry

# The text ansible-core itself puts where it hid a no_log value.
HIDDEN = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
# Shorter data would scrub ordinary words and numbers out of messages; it is hidden in results and diffs only.
_MIN_SCRUBBED = 4


def identity(wanted: t.Any) -> tuple[str, int, str]:
    """A wanted value as Windows tells values apart (names and paths without case)."""
    return wanted.path.lower(), int(wanted.view), wanted.name.lower()


def masked(public: dict[str, t.Any] | None, sensitive: bool) -> dict[str, t.Any] | None:
    if public is None or not sensitive:
        return public
    return {**public, "data": HIDDEN}


class Marked(t.NamedTuple):
    """The values a task marks sensitive by name (sensitive_values, without case), or all of them (hide_values)."""

    names: frozenset[str] = frozenset()
    every: bool = False

    @classmethod
    def from_options(cls, args: dict[str, t.Any]) -> Marked:
        return cls(frozenset(str(name).lower() for name in args.get("sensitive_values") or []), bool(args.get("hide_values")))

    def __bool__(self) -> bool:
        return self.every or bool(self.names)

    def __call__(self, name: str) -> bool:
        return self.every or name.lower() in self.names


def texts(changes: t.Iterable[t.Any]) -> list[str]:
    """Every spelling of the sensitive data that a message could quote (each string, list item, number)."""
    return value_texts(value for change in changes for value in (change.before, change.after))


def value_texts(values: t.Iterable[t.Any]) -> list[str]:
    """Every spelling of these (type, data) values that a message could quote, longest first."""
    found: set[str] = set()
    for value in values:
        if value is None:
            continue
        data = value[1]
        items = data if isinstance(data, (list, tuple)) else [data]
        for item in items:
            text = item.hex() if isinstance(item, (bytes, bytearray)) else str(item)
            if len(text) >= _MIN_SCRUBBED:
                found.add(text)
    return sorted(found, key=len, reverse=True)


def hidden_value(value: t.Any) -> str:
    """How a diff line shows a sensitive value."""
    return f"(sensitive {value[0]} value hidden)"


def masked_keys(keys: t.Iterable[t.Any], marked: Marked) -> list[t.Any]:
    """.reg keys with the marked values' data replaced by HIDDEN (a string value), for showing, never for writing."""
    return [dataclasses.replace(key, values={name: ("string", HIDDEN) if value is not None and marked(name) else value
                                             for name, value in key.values.items()}) for key in keys]


# Controller paths the task made: a secret that happens to spell part of one (a host name) must not break them.
KEPT_KEYS = ("backup_file", "remote_file")


def scrub_result(result: dict[str, t.Any], secrets: list[str]) -> dict[str, t.Any]:
    """A task result scrubbed by scrub(), its KEPT_KEYS as they were."""
    return {key: item if key in KEPT_KEYS else scrub(item, secrets) for key, item in result.items()}


def scrub(value: t.Any, secrets: list[str]) -> t.Any:
    """value with every secret text replaced by HIDDEN, in every string of nested dicts and lists."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, HIDDEN)
        return value
    if isinstance(value, dict):
        return {key: scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item, secrets) for item in value]
    return value


def masked_diff(diff: dict[str, str], changes: t.Sequence[t.Any]) -> dict[str, str]:
    """A diff whose '<label>: <value>' lines for these changes show hidden_value() instead of the data."""
    if not changes:
        return diff
    shown = dict(diff)
    for change in changes:
        label = change.wanted.label()
        for side, value in (("before", change.before), ("after", change.after)):
            if value is not None:
                shown[side] = shown[side].replace(f"{label}: {registry.render(value)}\n", f"{label}: {hidden_value(value)}\n")
    return shown
