# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The agent protocol as the controller knows it: operations and their arguments, error kinds, value
kinds, the destructive allow-list, the timebomb pattern and the backup directory on the host.
Pure Python with no Ansible imports. tests/static/test_agent_protocol.py parses the same facts out
of _agent.ps1 and compares them with this module and with the simulator's copies, so the agent,
the controller and rds-sim cannot drift apart silently.
"""

from __future__ import annotations

import typing as t

# Fields of a request and of every operation in it.
REQUEST_FIELDS = ("version", "ops", "stop_on_error", "rollback_on_error")
# "expect" (set_value, delete_value): the value the write's decision was based on; the agent writes nothing
# when the host no longer holds it (error kind "conflict", reason "changed").
OP_FIELDS = ("id", "op", "expect")


class Operation(t.NamedTuple):
    args: tuple[str, ...]
    writes: bool


OPERATIONS: dict[str, Operation] = {
    # acl: also each key's DACL as SDDL ("sddl"), for backups that carry key permissions.
    "read_key": Operation(("path", "view", "max_keys", "acl"), False),
    "read_tree": Operation(("path", "view", "max_keys", "acl"), False),
    "wmi_terminal_service": Operation((), False),
    "wmi_license_server": Operation((), False),
    "computer_system": Operation((), False),
    "service_status": Operation(("names",), False),
    "ls_connectivity": Operation(("servers",), False),
    "license_server_checks": Operation(("domain", "session_hosts"), False),
    "set_value": Operation(("path", "view", "name", "type", "data"), True),
    "delete_value": Operation(("path", "view", "name"), True),
    "delete_tree": Operation(("path", "view"), True),
    "create_key": Operation(("path", "view", "grant_users"), True),
    "set_key_dacl": Operation(("path", "view", "sddl"), True),
    "restart_service": Operation(("names", "timeout_seconds"), True),
    "write_file": Operation(("name", "content"), True),
    "grace_reset": Operation(("path",), True),
}

ERROR_KINDS = ("not_found", "access_denied", "invalid_argument", "unsupported", "wmi_error", "service_error", "conflict",
               "internal")

# Value kinds the agent reads and writes; "unknown" is only ever read (REG_LINK, REG_RESOURCE_LIST, ...).
VALUE_TYPES = ("none", "string", "expandstring", "multistring", "dword", "qword", "binary")
UNKNOWN_TYPE = "unknown"

GRACE_PERIOD_PATH = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"
# Keys below HKLM (64-bit view spelling) that delete_tree and grace_reset may act on.
DESTRUCTIVE_ROOTS = (
    "SOFTWARE\\Microsoft\\MSLicensing",
    "SOFTWARE\\Wow6432Node\\Microsoft\\MSLicensing",
    GRACE_PERIOD_PATH,
)
# Keys below HKLM (64-bit view spelling) whose DACL set_key_dacl may replace: the client license cache only.
DACL_ROOTS = (
    "SOFTWARE\\Microsoft\\MSLicensing",
    "SOFTWARE\\Wow6432Node\\Microsoft\\MSLicensing",
)
# PowerShell -like pattern (case-insensitive) of the values grace_reset deletes.
TIMEBOMB_PATTERN = "L$*TIMEBOMB*"
# write_file's directory below %ProgramData% on the host.
BACKUP_DIRECTORY = "RemoteDesktopLicensing\\Backups"


def request_problems(ops: list[dict[str, t.Any]]) -> list[str]:
    """What is wrong with a list of operations the controller built (empty when nothing is)."""
    problems = []
    for op in ops:
        name = op.get("op")
        if name not in OPERATIONS:
            problems.append(f"unknown operation {name!r}")
            continue
        extra = sorted(set(op) - set(OP_FIELDS) - set(OPERATIONS[name].args))
        if extra:
            problems.append(f"{name} does not take {', '.join(extra)}")
    return problems
