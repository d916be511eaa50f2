# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Runs the agent once over the task's own connection and turns its answer, or its failure, into
Python data or a clear task failure.
"""

from __future__ import annotations

import datetime
import json
import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _protocol
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._failure import FailedTaskResult

ERROR_KINDS = _protocol.ERROR_KINDS

# ansible-core imports the action plugins, and so this module, in its main process before it forks a worker per host and
# task: made here, the agent as it travels and the command line are inherited by every worker, not made in each.
payload.deflated_agent()
payload.bootstrap_command()

# What the administrator can do about each kind of agent error.
REMEDIES = {
    "access_denied": (
        "The connection user must be an elevated local administrator on the host "
        "(a member of BUILTIN\\Administrators; for local accounts over WinRM, "
        "LocalAccountTokenFilterPolicy must allow a full token). If it already is, the key's own permissions "
        "refuse the access; inspect them on the host with Get-Acl."
    ),
    "not_found": "Check that the key or value exists on this host.",
    "invalid_argument": "This is a bug in the request the collection built; please report it with -vvv output.",
    "unsupported": "The host does not support this operation.",
    # A conditional write found the host changed since it was read, or another write held the host's write lock.
    "conflict": "Nothing was written; run again (the task reads the host afresh).",
    "wmi_error": (
        "The WMI provider failed; check that the Remote Desktop Services WMI provider "
        "(root\\cimv2\\TerminalServices) is healthy, e.g. with winmgmt /verifyrepository."
    ),
    "service_error": (
        "The service did not stop or start in time or refused to start; see the System event log "
        "(Service Control Manager events 7000-7043) on the host, fix the cause and start it with Start-Service."
    ),
    "internal": "The agent failed unexpectedly; rerun with -vvv and report the output.",
}

# Who to connect as when the agent ran without administrator rights (remote UAC filtering applies to local accounts).
ELEVATED_ACCOUNTS = (
    "a domain account in BUILTIN\\Administrators, the built-in Administrator (unless FilterAdministratorToken is on), "
    "or a local administrator with LocalAccountTokenFilterPolicy=1 on the host"
)

# Any refusal (access denied, a service the token may not stop) when the agent ran without administrator rights: the
# token, not the key's or the namespace's own permissions, is the cause.
NOT_ELEVATED_REMEDY = (
    "The agent ran without administrator rights (agent.elevated is false): the connection user's token is filtered "
    "by UAC (Administrators is deny-only in it) or the user is not an administrator, and Windows lets such a token "
    "read the licensing keys but not write them, restart services, take ownership, write the backup under ProgramData "
    f"or use the Remote Desktop WMI classes. Connect with an account whose WinRM token is elevated: {ELEVATED_ACCOUNTS} "
    "(become does not help: the agent runs as the connection user)."
)

# A refused CIM call (it carries the MI result in native_error): WMI namespace security, not a registry ACL.
WMI_ACCESS_REMEDY = (
    "The connection user must be an elevated local administrator on the host; if it already is, the WMI namespace's "
    "own security refuses it: check Security of the namespace in wmimgmt.msc (WMI Control) on the host."
)

# The bootstrap answers {"ok": false, "error": {"kind": "unsupported", "reason": ...}} before the agent runs
# when the endpoint cannot run it.
UNSUPPORTED_REASONS = {
    "runtime": (
        "The WinRM endpoint cannot run the licensing agent ({message}). The agent targets Windows PowerShell 5.1 "
        "on .NET Framework 4.x; connect to the default endpoint (Microsoft.PowerShell), not a PowerShell.7 "
        "configuration (ansible_psrp_configuration_name)."
    ),
    "language_mode": (
        "The host's PowerShell is not in FullLanguage mode ({message}). The licensing agent needs .NET access, "
        "which Constrained Language Mode (AppLocker/WDAC) and JEA endpoints block. Connect to an unrestricted "
        "endpoint with an account the policy exempts, or allow the collection's agent in the application-control policy."
    ),
}


class AgentError(FailedTaskResult):
    """A failure the agent or the host reported (or the connection): a failed task result."""


class NoAnswer(AgentError):
    """The host's answer was missing or unreadable: whether the request ran is not known."""


def check_connection(connection: t.Any, play_context: t.Any, task_action: str) -> None:
    """Refuse connections and options the agent cannot work with, before anything is sent."""
    shell = getattr(connection, "_shell", None)
    if getattr(shell, "SHELL_FAMILY", None) != "powershell":
        raise AgentError(
            f"{task_action} manages Windows hosts only: the connection's shell is "
            f"'{getattr(shell, 'SHELL_FAMILY', 'unknown')}', not PowerShell. Use ansible_connection=winrm or psrp, "
            "or ssh with ansible_shell_type=powershell, and limit the play to Windows hosts."
        )
    if getattr(play_context, "become", False):
        raise AgentError(
            f"{task_action} does not support become: the agent runs as the connection user. "
            "Remove become from this task and connect as an elevated local administrator instead."
        )


def parse_answer(rc: int, stdout: str, stderr: str) -> dict[str, t.Any]:
    """Read exactly one JSON document from the agent's stdout."""
    text = (stdout or "").strip()
    stderr_hint = (stderr or "").strip()
    if not text:
        raise NoAnswer(
            "The host returned no answer from the licensing agent "
            f"(exit code {rc}{'; stderr: ' + stderr_hint[:2000] if stderr_hint else ''}). "
            "Check that Windows PowerShell 5.1 is installed and that the connection user may start powershell.exe.",
            rc=rc, stderr=stderr,
        )
    try:
        document, end = json.JSONDecoder().raw_decode(text)
    except ValueError as exc:
        raise NoAnswer(
            f"The host's answer is not JSON ({exc}); it may be truncated or mixed with other output "
            "(a profile or logon script that prints text?). First 500 characters: " + text[:500],
            rc=rc, stdout=stdout, stderr=stderr,
        ) from None
    if text[end:].strip():
        raise NoAnswer(
            "The host answered more than one document; the agent must print exactly one JSON document. "
            "Trailing output: " + text[end:end + 500].strip(),
            rc=rc, stdout=stdout, stderr=stderr,
        )
    if not isinstance(document, dict) or "ok" not in document:
        raise NoAnswer("The host's answer is JSON but not an agent answer: " + text[:500], rc=rc, stdout=stdout)
    _protocol.word_errors(document)
    if not document["ok"]:
        raise agent_failure(document.get("error") or {})
    if document.get("version") != payload.AGENT_PROTOCOL_VERSION or not isinstance(document.get("results"), list):
        raise AgentError(
            f"The host's agent speaks protocol {document.get('version')!r}, the controller {payload.AGENT_PROTOCOL_VERSION}.",
            stdout=stdout,
        )
    return document


def agent_failure(error: dict[str, t.Any], what: str | None = None) -> AgentError:
    """Turn an agent error object into a task failure naming the path and the remedy."""
    kind = error.get("kind") if error.get("kind") in ERROR_KINDS else "internal"
    message = (error.get("message") or "no message").rstrip(". ")
    if error.get("hresult"):
        # The WMI or Win32 code of a failed CIM call (MSFT_WmiError.error_Code).
        message += f" ({error['hresult']})"
    if kind == "unsupported" and error.get("reason") in UNSUPPORTED_REASONS:
        return AgentError(UNSUPPORTED_REASONS[error["reason"]].format(message=message), agent_error=error)
    where = what or error.get("path")
    if kind == "conflict" and error.get("reason") == "changed":
        return AgentError(f"{where or 'A value'} was changed by someone else since it was read; run again. "
                          f"Nothing was written: {message}.", agent_error=error)
    location = f" on {where}" if where else ""
    remedy = WMI_ACCESS_REMEDY if kind == "access_denied" and error.get("native_error") else REMEDIES[kind]
    if error.get("not_elevated") and kind in ("access_denied", "service_error"):
        remedy = NOT_ELEVATED_REMEDY
    return AgentError(f"{kind.replace('_', ' ').capitalize()}{location}: {message}. {remedy}", agent_error=error)


def run_agent(action: t.Any, ops: list[dict[str, t.Any]], stop_on_error: bool = False,
              rollback_on_error: bool = False) -> dict[str, t.Any]:
    """Send one request through the action's connection; return the agent's answer.

    One round trip: one command whose stdin carries the agent and every operation. With
    rollback_on_error the agent undoes the request's earlier writes when one fails.
    """
    problems = _protocol.request_problems(ops)
    if problems:
        raise AgentError("The collection built a request the agent does not accept (" + "; ".join(problems) + "). "
                         + REMEDIES["invalid_argument"])
    request = payload.build_request(ops, stop_on_error=stop_on_error, rollback_on_error=rollback_on_error)
    hidden = bool(getattr(action, "hide_agent_traffic", False))
    shown = "(not shown: the task handles sensitive values)" if hidden else json.dumps(request)[:4000]
    action._display.vvvv(f"licensing agent request: {shown}", host=action._play_context.remote_addr)
    # The connection plugins log the command's stdin and stdout at -vvvvv (winrm's WINRM RESULT, psrp's output):
    # for a task with sensitive values this worker's display stays at -vv while the command runs.
    verbosity = action._display.verbosity
    if hidden:
        action._display.verbosity = min(verbosity, 2)
    try:
        result = action._low_level_execute_command(
            payload.bootstrap_command(), in_data=payload.stdin_line(request), sudoable=False
        )
    finally:
        action._display.verbosity = verbosity
    answer = "(not shown: the task handles sensitive values)" if hidden else result.get("stdout", "")[:8000]
    action._display.vvvvv(f"licensing agent answer: {answer}", host=action._play_context.remote_addr)
    answer = parse_answer(result.get("rc", -1), result.get("stdout", ""), result.get("stderr", ""))
    # Kept for the action's result: a filtered (non-elevated) token is warned about once per task.
    action.agent_elevated = (answer.get("host") or {}).get("elevated")
    if action.agent_elevated is False:
        mark_not_elevated(answer)
    return answer


def mark_not_elevated(answer: dict[str, t.Any]) -> None:
    """Mark each failed operation's error as coming from a non-elevated agent, so that agent_failure names the token
    as the cause wherever the error is turned into a failure."""
    for result in answer.get("results") or []:
        if isinstance(result, dict) and isinstance(result.get("error"), dict):
            result["error"]["not_elevated"] = True


NOT_ELEVATED_WARNING = (
    "The agent ran without administrator rights (agent.elevated is false): the connection user's token is "
    f"filtered by UAC, so protected keys read as absent or access denied and writes fail. Connect as {ELEVATED_ACCOUNTS}.")


def utc_now() -> str:
    """The controller's time in UTC, as the results record when a host was read."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def results_by_id(answer: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {item.get("id"): item for item in answer["results"]}
