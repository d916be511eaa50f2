# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Registry values marked sensitive (registry_values' per-entry `sensitive`): their data is never shown in a
result, a diff, a message or the agent's verbose logs, as Ansible's no_log would hide it.
"""

from __future__ import annotations

import typing as t

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


def texts(changes: t.Iterable[t.Any]) -> list[str]:
    """Every spelling of the sensitive data that a message could quote (each string, list item, number)."""
    found: set[str] = set()
    for change in changes:
        for value in (change.before, change.after):
            if value is None:
                continue
            data = value[1]
            items = data if isinstance(data, (list, tuple)) else [data]
            for item in items:
                text = item.hex() if isinstance(item, (bytes, bytearray)) else str(item)
                if len(text) >= _MIN_SCRUBBED:
                    found.add(text)
    return sorted(found, key=len, reverse=True)


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
