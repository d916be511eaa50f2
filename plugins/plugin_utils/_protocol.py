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
    # WMI: one class's instances, their properties and the read-only method calls of CIM_CALLS (see _wmi_reads).
    "cim_read": Operation(("namespace", "class", "select", "calls", "count_by", "newest_by"), False),
    "service_status": Operation(("names",), False),
    "set_value": Operation(("path", "view", "name", "type", "data"), True),
    "delete_value": Operation(("path", "view", "name"), True),
    "delete_tree": Operation(("path", "view"), True),
    "create_key": Operation(("path", "view", "grant_users"), True),
    "set_key_dacl": Operation(("path", "view", "sddl"), True),
    "restart_service": Operation(("names", "timeout_seconds"), True),
    "write_file": Operation(("name", "content"), True),
    "grace_reset": Operation(("path",), True),
}

# Fields of one cim_read call: "each" names the argument that takes each of "names" (or of the value of the earlier
# call at index "names_from") in turn; "fields" are the properties wanted of embedded instances.
CIM_CALL_FIELDS = ("method", "args", "out", "fields", "each", "names", "names_from")
# What cim_read may touch, as the agent's $CimCalls holds it: "namespace:Class" (namespace with "/"; both compared
# case-insensitively, "\\" read as "/") and the methods it may call on that class. Any other class is refused before
# anything is read (enumerating Win32_Product alone makes Windows Installer check every product); every method only reads.
CIM_CALLS: dict[str, tuple[str, ...]] = {
    "root/cimv2/TerminalServices:Win32_TerminalServiceSetting": (
        "GetGracePeriodDays", "GetSpecifiedLicenseServerList", "GetTStoLSConnectivityStatus", "FindLicenseServers"),
    "root/cimv2:Win32_ComputerSystem": (),
    "root/cimv2:Win32_TSLicenseKeyPack": (),
    "root/cimv2:Win32_TSLicenseServer": (
        "GetActivationStatus", "GetLicenseServerID", "IsLSinTSLSGroup", "IsLSonDC", "IsLSSecGrpGPEnabled", "IsSecureAccessAllowed"),
    "root/cimv2:Win32_TSIssuedLicense": (),
    "root/cimv2:Win32_TSLicenseReport": ("FetchReportSummaryEntries",),
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


# The agent answers an error it detects itself as {kind, reason, path, detail}: the controller words it here, so the
# one agent text carries no sentences. detail holds only values (names, numbers, what Windows or .NET said).
# An error caught from .NET arrives with its "message" (what Windows said) and no reason from this table.
_UNKNOWN_KIND = "is a registry kind the agent cannot write back exactly (a rollback would change it); remove or convert it first"
AGENT_MESSAGES: dict[str, t.Callable[[t.Any, t.Any], str]] = {
    "value_type": lambda detail, path: f"unknown value type: {detail}",
    # detail: [operation, "key\\value (kind N)"]
    "unknown_kind": lambda detail, path: f"{detail[0]} refused: {detail[1]} {_UNKNOWN_KIND}",
    "outside_destructive": lambda detail, path: f"delete_tree is refused outside the destructive allow-list: {path}",
    "outside_dacl": lambda detail, path: f"set_key_dacl is refused outside the DACL allow-list: {path}",
    "dacl_only": lambda detail, path: f"set_key_dacl takes a DACL only (D: and its ACEs; no owner, group or SACL): {detail}",
    "no_key": lambda detail, path: f"set_key_dacl: the key does not exist: {path}",
    "file_name": lambda detail, path: f"not a plain file name: {detail}",
    "grace_path": lambda detail, path: f"grace_reset only acts on {GRACE_PERIOD_PATH}",
    "grace_key_locked": lambda detail, path: f"Administrators may not even read the GracePeriod key or its permissions: {detail}",
    "unknown_op": lambda detail, path: f"unknown operation: {detail}",
    # detail: "namespace:Class" as asked for (namespace with "/")
    "cim_class": lambda detail, path: f"cim_read refused to read {detail}: only the WMI classes of the agent's allow-list "
                                      f"({', '.join(sorted(CIM_CALLS))}) may be read",
    # detail: "namespace:Class.Method"
    "cim_method": lambda detail, path: f"cim_read refused to call {detail}: only the read-only WMI methods of the agent's "
                                       "allow-list may be called",
    # detail: [service, what failed, the state after one more start]
    "restart": lambda detail, path: f"restarting {detail[0]} failed: {detail[1]}; after one more start it is {detail[2]}",
    "busy": lambda detail, path: f"another write to this host held its write lock for {detail} s; nothing was written",
    "lock": lambda detail, path: f"the host-wide write lock could not be opened: {detail}",
    "changed": lambda detail, path: f"changed by someone else since it was read: {expectation_text(detail)}",
    # The agent's first lines, when the endpoint's PowerShell is not Windows PowerShell 5.1 (detail: "PowerShell <edition version>").
    "runtime": lambda detail, path: f"the agent needs Windows PowerShell 5.1; this is {detail}",
    "request_json": lambda detail, path: f"the request is not valid JSON: {detail}",
    "protocol": lambda detail, path: f"agent protocol {detail[0]} cannot serve a request for protocol {detail[1]}",
}

# Reasons whose detail is a list of values.
_LIST_DETAILS = frozenset(("unknown_kind", "restart", "changed", "protocol"))


def expectation_text(detail: t.Any) -> str:
    """Why an expectation no longer holds; detail is [how, ...values] as the agent reports it."""
    how, *values = detail
    if how == "gone":
        return "the value was read as present and is now absent"
    if how == "appeared":
        return f"the value was read as absent; it now holds {values[0]} {values[1]}"
    if how == "differs":
        return f"the decision was based on {values[0]} {values[1]}; it now holds {values[2]} {values[3]}"
    return f"it could not be read again: {values[0] if values else how}"


def word_error(error: t.Any) -> None:
    """Give an agent error its message (in place) when the agent sent a reason and detail instead."""
    if not isinstance(error, dict) or error.get("message"):
        return
    wording = AGENT_MESSAGES.get(error.get("reason"))  # type: ignore[arg-type]
    if error.get("reason") in _LIST_DETAILS and not isinstance(error.get("detail"), list):
        wording = None
    if wording is not None:
        try:
            error["message"] = wording(error.get("detail"), error.get("path"))
            return
        except (TypeError, ValueError, IndexError):
            pass
    if error.get("detail") is not None:
        error["message"] = str(error["detail"])


def word_errors(answer: t.Any) -> None:
    """Word the document's error and every result's error (see word_error)."""
    if not isinstance(answer, dict):
        return
    word_error(answer.get("error"))
    for result in answer.get("results") or []:
        if isinstance(result, dict):
            word_error(result.get("error"))
