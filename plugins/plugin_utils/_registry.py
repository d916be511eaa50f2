# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Registry value types: how user input, the agent's wire form and Python values map onto each
other, and how two values compare. Type names follow ansible.windows.win_regedit.
"""

from __future__ import annotations

import base64
import hashlib
import re
import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _protocol

VALUE_TYPES = _protocol.VALUE_TYPES

REG_TYPE_IDS = {"none": 0, "string": 1, "expandstring": 2, "binary": 3, "dword": 4, "multistring": 7, "qword": 11}
REG_TYPE_NAMES = {
    "none": "REG_NONE", "string": "REG_SZ", "expandstring": "REG_EXPAND_SZ", "binary": "REG_BINARY",
    "dword": "REG_DWORD", "multistring": "REG_MULTI_SZ", "qword": "REG_QWORD",
}

_LIMITS = {"dword": 0xFFFFFFFF, "qword": 0xFFFFFFFFFFFFFFFF}
# Binary data longer than this is shortened in diffs.
_SHOWN_BYTES = 32

# Accepted spellings of HKEY_LOCAL_MACHINE, the only hive the collection touches.
_HKLM_SLASH = re.compile(r"^(?:Registry::)?(?:HKLM:?|HKEY_LOCAL_MACHINE:?)/", re.IGNORECASE)
_HKLM_PREFIX = re.compile(r"^(?:Registry::)?(?:HKLM:?|HKEY_LOCAL_MACHINE:?)(?:\\|$)", re.IGNORECASE)


class RegistryInputError(ValueError):
    """User input that cannot be a registry path or value; the message says which and why."""


def normalize_key_path(path: t.Any) -> str:
    """Return the path below HKLM (``SOFTWARE\\Foo``) for any accepted spelling of an HKLM path."""
    if not isinstance(path, str) or not path.strip():
        raise RegistryInputError(f"registry path {path!r} must be a non-empty string such as HKLM:\\SOFTWARE\\Example")
    # `/` is an ordinary character of a Windows key name (SCHANNEL's "RC4 128/128"), never a separator.
    text = path.strip()
    if _HKLM_SLASH.match(text):
        raise RegistryInputError(
            f"registry path {path!r} separates keys with '/'; Windows key names may contain '/', so write the "
            "separators as backslashes: HKLM:\\SOFTWARE\\Example"
        )
    match = _HKLM_PREFIX.match(text)
    if not match:
        raise RegistryInputError(
            f"registry path {path!r} is not under HKEY_LOCAL_MACHINE; write it as HKLM:\\..., HKLM\\... "
            "or HKEY_LOCAL_MACHINE\\... (only HKLM is managed by this collection)"
        )
    rest = text[match.end():]
    parts = [part for part in rest.split("\\") if part]
    if not parts:
        raise RegistryInputError(f"registry path {path!r} names the HKLM root itself; name a key below it")
    if any(part in (".", "..") for part in parts):
        raise RegistryInputError(f"registry path {path!r} contains a relative component ('.' or '..')")
    if any(len(part) > 255 for part in parts):
        raise RegistryInputError(f"registry path {path!r} has a key name longer than 255 characters")
    return "\\".join(parts)


# Windows' limits: a value name of at most 16,383 characters, a key name of at most 255.
MAX_VALUE_NAME = 16383


def check_value_name(name: t.Any) -> str:
    """A value name Windows can store; the empty name is the key's (Default) value."""
    if not isinstance(name, str):
        raise RegistryInputError(f"value name {name!r} must be a string ('' is the key's (Default) value)")
    if len(name) > MAX_VALUE_NAME:
        raise RegistryInputError(f"value name of {len(name)} characters is longer than Windows allows "
                                 f"({MAX_VALUE_NAME}); shorten it")
    if "\x00" in name:
        raise RegistryInputError(f"value name {name[:60]!r} contains a NUL character, which Windows cannot store in a name")
    return name


def display_path(subpath: str, view: int = 64) -> str:
    """The path as an administrator reads it, with the view when it is the 32-bit one."""
    shown = f"HKLM:\\{subpath}"
    return f"{shown} (32-bit view)" if view == 32 else shown


def _integer(value: t.Any, value_type: str) -> int:
    if isinstance(value, bool):
        raise RegistryInputError(f"{value_type} data must be a number, not a boolean ({value!r})")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            number = int(text, 16) if text.lower().startswith("0x") else int(text, 10)
        except ValueError:
            raise RegistryInputError(
                f"{value_type} data {value!r} is not a whole number; use a decimal number or 0x-prefixed hex"
            ) from None
    else:
        raise RegistryInputError(f"{value_type} data must be a number, got {type(value).__name__} {value!r}")
    if not 0 <= number <= _LIMITS[value_type]:
        raise RegistryInputError(f"{value_type} data {value!r} is out of range 0..{_LIMITS[value_type]}")
    return number


def _binary(value: t.Any, value_type: str) -> bytes:
    if value is None:
        return b""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, list):
        if not all(isinstance(item, int) and not isinstance(item, bool) and 0 <= item <= 255 for item in value):
            raise RegistryInputError(f"{value_type} data {value!r} must be a list of integers from 0 to 255")
        return bytes(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lower().startswith("hex:"):
            text = text[4:]
        if not text:
            return b""
        pieces = [piece.strip() for piece in text.split(",")]
        if not all(re.fullmatch(r"[0-9a-fA-F]{1,2}", piece) for piece in pieces):
            raise RegistryInputError(
                f"{value_type} data {value!r} is not in hex:aa,bb,cc form (comma-separated two-digit hex bytes)"
            )
        return bytes(int(piece, 16) for piece in pieces)
    raise RegistryInputError(f"{value_type} data must be a list of bytes or a hex:aa,bb string, got {value!r}")


def normalize_data(value_type: str, value: t.Any) -> t.Any:
    """Canonical Python form of user-supplied data for a type: int, str, list[str] or bytes."""
    if value_type not in VALUE_TYPES:
        raise RegistryInputError(f"unknown registry type {value_type!r}; use one of {', '.join(VALUE_TYPES)}")
    if value_type in _LIMITS:
        return _integer(value, value_type)
    if value_type in ("string", "expandstring"):
        if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
            raise RegistryInputError(f"{value_type} data must be text, got {value!r}")
        text = str(value)
        if "\x00" in text:
            raise RegistryInputError(f"{value_type} data must not contain NUL characters")
        return text
    if value_type == "multistring":
        items = value if isinstance(value, list) else None
        if items is None or not all(isinstance(item, str) for item in items):
            raise RegistryInputError(f"multistring data must be a list of strings, got {value!r}")
        if any(item == "" for item in items):
            raise RegistryInputError(
                f"multistring data {value!r} contains an empty string, which REG_MULTI_SZ cannot store"
            )
        if any("\x00" in item for item in items):
            raise RegistryInputError("multistring entries must not contain NUL characters")
        return list(items)
    return _binary(value, value_type)


def from_wire(entry: dict[str, t.Any]) -> tuple[str, t.Any]:
    """(type, canonical data) of a value as the agent reports it."""
    value_type = entry["type"]
    data = entry.get("data")
    if value_type == _protocol.UNKNOWN_TYPE:
        # A kind outside the seven: "type<N>" with its exact bytes where the agent had them (a .reg file can
        # hold it as hex(N)); otherwise it stays "unknown", which backups and restores refuse.
        if isinstance(entry.get("kind"), int) and entry.get("exact") and data is not None:
            return f"type{entry['kind']}", base64.b64decode(data)
        return value_type, entry
    if value_type in ("binary", "none"):
        return value_type, base64.b64decode(data or "")
    if value_type == "multistring":
        return value_type, list(data or [])
    return value_type, data


def to_wire(value_type: str, data: t.Any) -> t.Any:
    """The agent's wire form of canonical data."""
    if value_type in ("binary", "none"):
        return base64.b64encode(data).decode("ascii")
    return data


def same_value(left: tuple[str, t.Any] | None, right: tuple[str, t.Any] | None) -> bool:
    """Two (type, canonical data) pairs are the same value: same type and same data.

    Strings compare exactly (case matters to the programs that read them); expand strings
    compare unexpanded; a value of another type is a different value even with equal data.
    """
    return left == right


def render(value: tuple[str, t.Any] | None) -> str:
    """A short human form of a value for diffs: ``REG_DWORD 4 (0x4)``."""
    if value is None:
        return "(absent)"
    value_type, data = value
    label = REG_TYPE_NAMES[value_type]
    if value_type in _LIMITS:
        return f"{label} {data} ({hex(data)})"
    if value_type in ("binary", "none"):
        if len(data) > _SHOWN_BYTES:
            # Long blobs (license tokens, timebombs) are shortened; the digest still tells them apart.
            head = ",".join(f"{byte:02x}" for byte in data[:_SHOWN_BYTES])
            return f"{label} hex:{head},... ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]})"
        return f"{label} hex:{','.join(f'{byte:02x}' for byte in data)}"
    return f"{label} {data!r}"
