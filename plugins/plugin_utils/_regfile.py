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

A key's own DACL (the explicit part, see _dacl) travels as a comment line right after its [key] line,
``; remote_desktop.licensing dacl: D:(A;CI;KA;;;BU)``: regedit and reg import skip comment lines, so
the file imports unchanged; registry_restore reads it and puts the DACL back.

Reading streams: read() decodes the file in chunks and parses line by line, so no copy of the
whole text is made; only the parsed keys are kept.
"""

from __future__ import annotations

import codecs
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
# The comment line, right after a [key] line, that carries the key's own DACL (SDDL).
DACL_PREFIX = "remote_desktop.licensing dacl:"
# Bytes read and decoded at a time.
_CHUNK = 1 << 16
_LINE_END = re.compile(r"\r\n|\r|\n")
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
    dacl: str | None = None  # the key's own DACL in SDDL (explicit ACEs), when it has one


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
        if key.dacl is not None and not key.delete:
            if "\r" in key.dacl or "\n" in key.dacl:
                raise RegFileError(f"the DACL of {key.path} contains a line break")
            lines.append("; " + DACL_PREFIX + " " + key.dacl)
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


def split_lines(pieces: t.Iterable[str]) -> t.Iterator[str]:
    """The lines of text that arrives in pieces, as re.split on CR LF, CR or LF would give them (a last empty
    line included). Only CR and LF end lines: names and data may hold other characters str.splitlines() splits on.
    A line spread over many pieces is joined once, so a long line costs linear time."""
    partial: list[str] = []
    carry_cr = False
    for piece in pieces:
        if carry_cr:
            piece, carry_cr = "\r" + piece, False
        if piece.endswith("\r"):
            # It may be the first half of a CR LF that the next piece completes.
            piece, carry_cr = piece[:-1], True
        parts = _LINE_END.split(piece)
        partial.append(parts[0])
        if len(parts) == 1:
            continue
        yield "".join(partial)
        yield from parts[1:-1]
        partial = [parts[-1]]
    if carry_cr:
        yield "".join(partial)
        partial = []
    yield "".join(partial)


class _NotUtf8(Exception):
    """A file without a byte order mark that is not UTF-8: read again as ANSI (cp1252)."""


def _pieces(handle: t.BinaryIO, encoding: str, offset: int, strict_name: str | None) -> t.Iterator[str]:
    """The decoded text of handle from offset, chunk by chunk. strict_name names the encoding its byte order
    mark promised (a decoding error is then a damaged file); without one a UTF-8 error raises _NotUtf8."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    position = offset
    while True:
        chunk = handle.read(_CHUNK)
        held = len(decoder.getstate()[0])
        try:
            text = decoder.decode(chunk, not chunk)
        except UnicodeDecodeError as exc:
            if strict_name is None and encoding == "utf-8":
                raise _NotUtf8() from None
            where = position - held + exc.start
            if strict_name is None:
                raise RegFileError(f"it is neither UTF-8 nor Windows-1252 text (byte {where}: {exc.reason}); "
                                   "export it again with regedit") from None
            raise RegFileError(f"it starts with a {strict_name} byte order mark but is not valid {strict_name} from byte "
                               f"{where} ({exc.reason}); the file is damaged or truncated: export or copy it again") from None
        position += len(chunk)
        if text:
            yield text
        if not chunk:
            return


def read(handle: t.BinaryIO) -> tuple[list[RegKey], str | None]:
    """The [key] blocks of an open .reg file and the host its "; Source host:" comment names, read in chunks:
    UTF-16 LE or UTF-8 by their byte order marks, else UTF-8, else (not valid UTF-8) cp1252 as decode() does."""
    head = handle.read(3)
    if head.startswith(b"\xff\xfe"):
        handle.seek(2)
        return parse_lines(split_lines(_pieces(handle, "utf-16-le", 2, "UTF-16")))
    if head.startswith(b"\xef\xbb\xbf"):
        return parse_lines(split_lines(_pieces(handle, "utf-8", 3, "UTF-8")))
    handle.seek(0)
    try:
        return parse_lines(split_lines(_pieces(handle, "utf-8", 0, None)))
    except _NotUtf8:
        handle.seek(0)
        return parse_lines(split_lines(_pieces(handle, "cp1252", 0, None)))


def _logical_lines(physical: t.Iterable[str]) -> t.Iterator[tuple[int, str]]:
    """Lines with hex continuations joined; yields (first line number, text)."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(physical, 1):
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
    return parse_lines(_LINE_END.split(text))[0]


def parse_lines(physical: t.Iterable[str]) -> tuple[list[RegKey], str | None]:
    """The [key] blocks of a .reg file given line by line, in file order, and the source host its comments name."""
    lines = _logical_lines(physical)
    header = next((line for _number, line in lines if line.strip(_BLANK)), "").lstrip("\ufeff").strip(_BLANK)
    if header not in (HEADER_V5, HEADER_V4):
        raise RegFileError(f"not a .reg file: the first line must be {HEADER_V5!r} or {HEADER_V4!r}, got {header[:60]!r}")
    wide = header == HEADER_V5
    keys: list[RegKey] = []
    host = None
    for number, line in lines:
        where = f"line {number}"
        stripped = line.strip(_BLANK)
        if stripped.startswith(";"):
            comment = stripped[1:].strip(_BLANK)
            if comment.startswith(DACL_PREFIX):
                _take_dacl(keys, comment[len(DACL_PREFIX):].strip(_BLANK), where)
            elif not keys and host is None and comment.startswith(SOURCE_HOST_PREFIX):
                host = comment[len(SOURCE_HOST_PREFIX):].strip(_BLANK) or None
            continue
        if not stripped:
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
    return keys, host


def _take_dacl(keys: list[RegKey], sddl: str, where: str) -> None:
    """A dacl comment belongs to the [key] block it follows."""
    if not keys or keys[-1].delete:
        raise RegFileError(f"{where}: a '; {DACL_PREFIX}' comment must follow a [key] line (it names that key's DACL)")
    if keys[-1].dacl is not None:
        raise RegFileError(f"{where}: a second DACL for [{keys[-1].path}]")
    if not sddl:
        raise RegFileError(f"{where}: an empty DACL for [{keys[-1].path}]")
    keys[-1].dacl = sddl


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
