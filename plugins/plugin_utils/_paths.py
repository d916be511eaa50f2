# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Inventory host names as file and directory names on the controller. A host name is inventory data,
not a path: `../escape`, `..`, `a/b` or `CON` must not leave the directory they are written under, and
two different names must never share a file (`a/b`, `a\\b` and `a_b` once did).
"""

from __future__ import annotations

import json
import os
import re
import typing as t

# Kept as they are; everything else (separators, %, spaces, control characters) is %XX-encoded (UTF-8 bytes).
_PLAIN = re.compile(r"[A-Za-z0-9._-]")
# Device names Windows reserves in any directory, with or without an extension (the files may be copied there).
_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])(\..*)?", re.IGNORECASE)


def _encode(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def host_file_name(inventory_hostname: str) -> str:
    """A single, safe path component that is unique per host name (the encoding can be undone exactly)."""
    text = "".join(char if _PLAIN.fullmatch(char) else _encode(char) for char in str(inventory_hostname))
    # A leading dot would make `.` / `..` (or a hidden file); a reserved device name is not a file on Windows.
    if text.startswith(".") or _RESERVED.fullmatch(text):
        text = _encode(text[0]) + text[1:]
    return text or "%"


def host_from_file_name(name: str) -> str:
    """The inventory host name a host_file_name() came from."""
    if "%" not in name:  # nothing was encoded (most names): 10,000 report files are read in one task
        return name
    raw = bytearray()
    index = 0
    while index < len(name):
        if name[index] == "%" and re.fullmatch(r"[0-9A-F]{2}", name[index + 1:index + 3]):
            raw.append(int(name[index + 1:index + 3], 16))
            index += 3
        else:
            raw += name[index].encode("utf-8")
            index += 1
    return raw.decode("utf-8", errors="replace")


class HostFileError(ValueError):
    """A per-host JSON file that cannot be read: its path, and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def load_host_files(directory: str, keep: t.Callable[[t.Any], t.Any] = lambda document: document) -> dict[str, t.Any]:
    """{inventory_hostname: keep(document)} from <directory>/<host_file_name(host)>.json, the files batch_results writes;
    HostFileError names the first file that is not JSON."""
    found = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        path = os.path.join(directory, name)
        try:
            with open(path, encoding="utf-8") as handle:
                found[host_from_file_name(name[:-5])] = keep(json.load(handle))
        except (OSError, ValueError) as exc:
            raise HostFileError(path, str(exc)) from None
    return found
