# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Builds what goes over the wire: the constant command line (the bootstrap, encoded) and the one
ASCII line on stdin that carries the agent (deflated, base64) and the request (JSON). Pure Python
with no Ansible imports, so the simulator loads this same file to recognise the shipped agent.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import typing as t
import zlib

AGENT_PROTOCOL_VERSION = 1

# The exact prefix ansible-core's winrm and psrp plugins recognise as "already encoded":
# they run it as is (winrm) or decode it and run it in the runspace (psrp).
POWERSHELL_PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand"

# cmd.exe limits a WinRS command line to 8191 characters.
CMD_LINE_LIMIT = 8191

_HERE = os.path.dirname(os.path.abspath(__file__))
_cache: dict[str, str] = {}


def _read_script(file_name: str) -> str:
    if file_name not in _cache:
        with open(os.path.join(_HERE, file_name), encoding="utf-8") as handle:
            _cache[file_name] = handle.read()
    return _cache[file_name]


def _strip_comment_lines(script: str) -> str:
    """Drop comment lines, blank lines and indentation (the scripts keep one statement per line)."""
    lines = (line.strip() for line in script.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("#"))


def agent_text() -> str:
    """The agent script exactly as it is sent."""
    return _strip_comment_lines(_read_script("_agent.ps1"))


def bootstrap_text() -> str:
    """The bootstrap script exactly as it is encoded on the command line."""
    return _strip_comment_lines(_read_script("_bootstrap.ps1"))


def bootstrap_command() -> str:
    """The constant command line that starts the bootstrap."""
    encoded = base64.b64encode(bootstrap_text().encode("utf-16-le")).decode("ascii")
    return f"{POWERSHELL_PREFIX} {encoded}"


def agent_sha256() -> str:
    return hashlib.sha256(agent_text().encode("utf-8")).hexdigest()


@functools.lru_cache(maxsize=1)
def deflated_agent() -> str:
    """The agent as it travels: raw DEFLATE (what .NET's DeflateStream reads), base64."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(agent_text().encode("utf-8")) + compressor.flush()
    return base64.b64encode(data).decode("ascii")


def inflate_agent(text: str) -> str:
    """The inverse of deflated_agent (what the bootstrap does on the host)."""
    return zlib.decompress(base64.b64decode(text), -15).decode("utf-8")


def build_request(ops: list[dict[str, t.Any]], stop_on_error: bool = False, rollback_on_error: bool = False) -> dict[str, t.Any]:
    request: dict[str, t.Any] = {"version": AGENT_PROTOCOL_VERSION, "stop_on_error": stop_on_error, "ops": ops}
    if rollback_on_error:
        request["rollback_on_error"] = True
    return request


def stdin_line(request: dict[str, t.Any]) -> bytes:
    """One ASCII line (psrp feeds stdin one object per line): the deflated agent, a space, the request as JSON."""
    body = json.dumps(request, ensure_ascii=True, separators=(",", ":"))
    return f"{deflated_agent()} {body}\n".encode("ascii")


def split_stdin_line(line: bytes) -> tuple[str, dict[str, t.Any]]:
    """The agent text and the request carried by a stdin line (for the simulator and the tests)."""
    agent, body = line.decode("ascii").strip().split(" ", 1)
    return inflate_agent(agent), json.loads(body)
