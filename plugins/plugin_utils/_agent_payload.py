# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Builds what goes over the wire: the constant command line (the bootstrap, encoded) and the one
ASCII JSON line on stdin that carries the agent text and the request. Pure Python with no Ansible
imports, so the simulator loads this same file to recognise the shipped agent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import typing as t

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


def build_request(ops: list[dict[str, t.Any]], stop_on_error: bool = False, rollback_on_error: bool = False) -> dict[str, t.Any]:
    request: dict[str, t.Any] = {"version": AGENT_PROTOCOL_VERSION, "stop_on_error": stop_on_error, "ops": ops}
    if rollback_on_error:
        request["rollback_on_error"] = True
    return request


def stdin_line(request: dict[str, t.Any]) -> bytes:
    """The agent and the request as one ASCII JSON line (psrp feeds stdin one line per object)."""
    envelope = {"agent": agent_text(), "request": request}
    return (json.dumps(envelope, ensure_ascii=True, separators=(",", ":")) + "\n").encode("ascii")
