# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Writer and parser of regedit's export format (.reg). We write what regedit writes: the
"Windows Registry Editor Version 5.00" header, UTF-16 LE with a BOM, CRLF line ends, hex lines
folded at regedit's width. We read that, UTF-8 files, and the older ANSI "REGEDIT4" files.

Values are (type, data) pairs in the canonical form of _registry: str for string/expandstring,
list[str] for multistring, int for dword/qword, bytes for binary/none. Other registry types are
kept as ("type<N>", bytes) so that a file regedit wrote parses and writes back unchanged.
A value of None in a key's values is a deletion entry ("name"=-).
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field

HEADER_V5 = "Windows Registry Editor Version 5.00"
HEADER_V4 = "REGEDIT4"
HIVE = "HKEY_LOCAL_MACHINE"

# hex(N) type numbers; binary uses the bare "hex:" prefix.
_HEX_TYPES = {"none": 0, "string": 1, "expandstring": 2, "binary": 3, "dword": 4, "multistring": 7, "qword": 11}
_HEX_NAMES = {number: name for name, number in _HEX_TYPES.items()}
# regedit cuts a hex line once it reaches this many characters (25 bytes on a continuation line).
_FOLD_AT = 77
# The comment line that names the host a backup was taken on (regedit ignores comments).
SOURCE_HOST_PREFIX = "Source host: "
# The only characters taken as blank around entries; names and data keep every other one.
_BLANK = " \t"

Value = t.Tuple[str, t.Any]


class RegFileError(ValueError):
    """A .reg text that cannot be parsed, or data that cannot be written; says where and why."""


@dataclass
class RegKey:
    """One [key] block: a full path starting with HKEY_..., or a [-key] deletion."""

    path: str
    delete: bool = False
    values: dict[str, Value | None] = field(default_factory=dict)


# Writing -------------------------------------------------------------------------------------

def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _name_token(name: str) -> str:
    if "\r" in name or "\n" in name:
        raise RegFileError(f"value name {name!r} contains a line break, which a .reg file cannot hold")
    return "@" if name == "" else _quote(name)


def _hex_lines(prefix: str, data: bytes) -> str:
    """prefix + comma-separated bytes, folded the way regedit folds: a line is cut after the comma
    that brings it to _FOLD_AT characters, and continues on the next line after two spaces."""
    lines = []
    line = prefix
    for index, byte in enumerate(data):
        line += f"{byte:02x}"
        if index == len(data) - 1:
            break
        line += ","
        if len(line) >= _FOLD_AT:
            lines.append(line + "\\")
            line = "  "
    lines.append(line)
    return "\r\n".join(lines)


def _utf16z(text: str) -> bytes:
    return text.encode("utf-16-le") + b"\x00\x00"


def value_line(name: str, value: Value | None) -> str:
    """One value entry of a [key] block, folded over several lines when it is long hex data."""
    head = _name_token(name) + "="
    if value is None:
        return head + "-"
    value_type, data = value
    if value_type == "string":
        if "\r" in data or "\n" in data:
            # regedit would break the line; hex(1) keeps the exact text.
            return _hex_lines(head + "hex(1):", _utf16z(data))
        return head + _quote(data)
    if value_type == "dword":
        return head + f"dword:{data:08x}"
    if value_type == "qword":
        return _hex_lines(head + "hex(b):", int(data).to_bytes(8, "little"))
    if value_type == "expandstring":
        return _hex_lines(head + "hex(2):", _utf16z(data))
    if value_type == "multistring":
        raw = b"".join(_utf16z(item) for item in data) + b"\x00\x00"
        return _hex_lines(head + "hex(7):", raw)
    if value_type == "binary":
        return _hex_lines(head + "hex:", bytes(data))
    if value_type == "none":
        return _hex_lines(head + "hex(0):", bytes(data))
    match = re.fullmatch(r"type(\d+)", value_type)
    if match:
        return _hex_lines(head + f"hex({int(match.group(1)):x}):", bytes(data))
    if value_type == "unknown":
        raise RegFileError(
            f"value {name!r} is of registry kind {data.get('kind')} and the agent could not read its exact bytes "
            "(REG_LINK and REG_RESOURCE_* come back from .NET without data; a REG_DWORD longer than 4 bytes loses "
            "its length), so no backup could hold it; remove or convert that value on the host first")
    raise RegFileError(f"value {name!r} has a type {value_type!r} that a .reg file cannot hold")


def render(keys: t.Iterable[RegKey], comments: t.Iterable[str] = ()) -> str:
    """The text of a version 5.00 .reg file (CRLF line ends); encode it with encode()."""
    lines = [HEADER_V5, ""]
    for comment in comments:
        lines.append("; " + comment.replace("\r", " ").replace("\n", " "))
    if comments:
        lines.append("")
    for key in keys:
        lines.append(f"[-{key.path}]" if key.delete else f"[{key.path}]")
        if not key.delete:
            lines.extend(value_line(name, value) for name, value in key.values.items())
        lines.append("")
    return "\r\n".join(lines) + "\r\n"


def source_host_comment(host: str) -> str:
    return SOURCE_HOST_PREFIX + host


def encode(text: str) -> bytes:
    """What regedit writes: UTF-16 LE with a byte order mark."""
    return b"\xff\xfe" + text.encode("utf-16-le")


# Reading -------------------------------------------------------------------------------------

def decode(raw: bytes) -> str:
    """The text of a .reg file: UTF-16 LE with its BOM (regedit), UTF-8 with or without a BOM, else cp1252."""
    try:
        if raw.startswith(b"\xff\xfe"):
            return raw[2:].decode("utf-16-le")
        if raw.startswith(b"\xef\xbb\xbf"):
            return raw[3:].decode("utf-8")
    except UnicodeDecodeError as exc:
        encoding = "UTF-16" if raw.startswith(b"\xff\xfe") else "UTF-8"
        raise RegFileError(f"it starts with a {encoding} byte order mark but is not valid {encoding} from byte "
                           f"{exc.start + (2 if encoding == 'UTF-16' else 3)} ({exc.reason}); the file is damaged or "
                           "truncated: export or copy it again") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def _unquote(text: str, start: int, where: str) -> tuple[str, int]:
    """A quoted string beginning at text[start] == '"'; returns (content, index after the quote)."""
    out = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(out), index + 1
        out.append(char)
        index += 1
    raise RegFileError(f"{where}: unterminated quoted string")


def _hex_bytes(text: str, where: str) -> bytes:
    cleaned = re.sub(r"[ \t]", "", text)
    if not cleaned:
        return b""
    pieces = cleaned.rstrip(",").split(",")
    if not all(re.fullmatch(r"[0-9a-fA-F]{1,2}", piece) for piece in pieces):
        raise RegFileError(f"{where}: hex data is not comma-separated bytes")
    return bytes(int(piece, 16) for piece in pieces)


def _text_from(raw: bytes, wide: bool) -> str:
    """Version 5 files hold UTF-16 LE strings in hex data; REGEDIT4 files hold ANSI ones."""
    if wide:
        return raw[: len(raw) - len(raw) % 2].decode("utf-16-le", errors="replace")
    return raw.decode("cp1252", errors="replace")


def parse_value(text: str, wide: bool, where: str) -> Value | None:
    """The part after '=' of a value entry."""
    if text == "-":
        return None
    if text.startswith('"'):
        data, end = _unquote(text, 0, where)
        if text[end:].strip(_BLANK):
            raise RegFileError(f"{where}: unexpected text after the string")
        return "string", data
    lowered = text.lower()
    if lowered.startswith("dword:"):
        digits = text[6:].strip(_BLANK)
        if not re.fullmatch(r"[0-9a-fA-F]{1,8}", digits):
            raise RegFileError(f"{where}: dword data must be up to 8 hex digits")
        return "dword", int(digits, 16)
    match = re.match(r"hex(?:\(([0-9a-fA-F]+)\))?:", text, re.IGNORECASE)
    if not match:
        raise RegFileError(f"{where}: unknown value format {text[:40]!r}")
    number = int(match.group(1), 16) if match.group(1) is not None else 3
    data = _hex_bytes(text[match.end():], where)
    kind = _HEX_NAMES.get(number, f"type{number}")
    if kind in ("string", "expandstring", "multistring") and wide and len(data) % 2:
        raise RegFileError(f"{where}: {kind} data of {len(data)} bytes is not UTF-16 text (an odd number of bytes)")
    if kind in ("string", "expandstring"):
        # Windows reads a string up to its first NUL, the terminator.
        return kind, _text_from(data, wide).split("\x00")[0]
    if kind == "multistring":
        items = _text_from(data, wide).rstrip("\x00")
        return kind, items.split("\x00") if items else []
    if kind == "qword":
        if len(data) != 8:
            raise RegFileError(f"{where}: qword data must be 8 bytes")
        return kind, int.from_bytes(data, "little")
    if kind == "dword":
        if len(data) != 4:
            raise RegFileError(f"{where}: dword data must be 4 bytes")
        return kind, int.from_bytes(data, "little")
    return kind, data


def _logical_lines(text: str) -> t.Iterator[tuple[int, str]]:
    """Lines with hex continuations joined; yields (first line number, text)."""
    pending: list[str] = []
    start = 0
    # Only CR and LF end lines: names and data may hold other characters str.splitlines() splits on.
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), 1):
        if not pending:
            start = number
        stripped = line.rstrip(_BLANK)
        if stripped.endswith("\\") and (pending or re.search(r"=\s*hex(\([0-9a-fA-F]+\))?:", stripped, re.IGNORECASE)):
            pending.append(stripped[:-1].strip(_BLANK) if pending else stripped[:-1])
            continue
        pending.append(stripped.strip(_BLANK) if pending else stripped)
        yield start, "".join(pending)
        pending = []
    if pending:
        yield start, "".join(pending)


def parse(text: str) -> list[RegKey]:
    """The [key] blocks of a .reg text, in file order."""
    lines = _logical_lines(text.lstrip("\ufeff"))
    header = next((line for _number, line in lines if line.strip(_BLANK)), "").strip(_BLANK)
    if header not in (HEADER_V5, HEADER_V4):
        raise RegFileError(f"not a .reg file: the first line must be {HEADER_V5!r} or {HEADER_V4!r}, got {header[:60]!r}")
    wide = header == HEADER_V5
    keys: list[RegKey] = []
    for number, line in lines:
        where = f"line {number}"
        stripped = line.strip(_BLANK)
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            inner = stripped[1:-1]
            delete = inner.startswith("-")
            keys.append(RegKey(inner[1:] if delete else inner, delete))
            continue
        if not keys:
            raise RegFileError(f"{where}: a value entry before any [key] line")
        if stripped.startswith("@"):
            name, rest = "", stripped[1:]
        elif stripped.startswith('"'):
            name, end = _unquote(stripped, 0, where)
            rest = stripped[end:]
        else:
            raise RegFileError(f"{where}: expected a [key] line, a \"name\"=value entry or @=value")
        rest = rest.lstrip(_BLANK)
        if not rest.startswith("="):
            raise RegFileError(f"{where}: expected '=' after the value name")
        keys[-1].values[name] = parse_value(rest[1:].strip(_BLANK), wide, where)
    return keys


def source_host(text: str) -> str | None:
    """The host named by a "; Source host: NAME" comment before the first [key], or None (regedit's
    own exports have no such line)."""
    for line in re.split(r"\r\n|\r|\n", text.lstrip("\ufeff")):
        stripped = line.strip(_BLANK)
        if stripped.startswith("["):
            break
        if stripped.startswith(";"):
            comment = stripped[1:].strip(_BLANK)
            if comment.startswith(SOURCE_HOST_PREFIX) and comment[len(SOURCE_HOST_PREFIX):].strip(_BLANK):
                return comment[len(SOURCE_HOST_PREFIX):].strip(_BLANK)
    return None


def split_path(full_path: str) -> str:
    """The part below HKEY_LOCAL_MACHINE of a file's key path; other hives are refused."""
    head, _separator, rest = full_path.partition("\\")
    if head.upper() not in (HIVE, "HKLM") or not rest:
        raise RegFileError(f"key [{full_path}] is not below {HIVE}; only HKLM keys are handled")
    return rest
