"""Parsing the agent's answer and turning failures into messages that name the problem and the fix."""

from __future__ import annotations

import json
import types

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _transport as transport


def answer(**fields):
    return json.dumps({"ok": True, "version": 2, "host": {}, "results": [], **fields})


def test_one_document_is_parsed():
    assert transport.parse_answer(0, answer() + "\r\n", "")["ok"] is True


@pytest.mark.parametrize("stdout,words", [
    ("", "returned no answer"),
    ("Welcome!\r\n" + answer(), "not JSON"),
    (answer()[:40], "truncated"),
    (answer() + answer(), "more than one document"),
    ('{"hello": 1}', "not an agent answer"),
    ('{"ok": true, "version": 99, "results": []}', "protocol 99"),
])
def test_malformed_answers_are_clear_errors(stdout, words):
    with pytest.raises(transport.AgentError, match=words):
        transport.parse_answer(0, stdout, "")


@pytest.mark.parametrize("stdout", ["", answer()[:40], answer() + answer(), '{"hello": 1}'])
def test_a_missing_or_unreadable_answer_is_no_answer(stdout):
    # After a write, these mean the outcome is unknown and the host is read back.
    with pytest.raises(transport.NoAnswer):
        transport.parse_answer(0, stdout, "")


def test_an_agent_that_answered_with_an_error_did_answer():
    with pytest.raises(transport.AgentError) as caught:
        transport.parse_answer(0, '{"ok": false, "error": {"kind": "internal", "message": "boom"}}', "")
    assert not isinstance(caught.value, transport.NoAnswer)


def test_no_answer_includes_stderr_and_exit_code():
    with pytest.raises(transport.AgentError) as caught:
        transport.parse_answer(1, "", "powershell.exe is not recognized")
    assert "exit code 1" in caught.value.msg and "powershell.exe is not recognized" in caught.value.msg


@pytest.mark.parametrize("kind,remedy", [
    ("access_denied", "elevated local administrator"),
    ("wmi_error", "winmgmt /verifyrepository"),
    ("internal", "report the output"),
    ("surprise", "report the output"),
])
def test_agent_errors_name_the_path_and_the_remedy(kind, remedy):
    error = {"kind": kind, "message": "Requested registry access is not allowed", "path": "SOFTWARE\\X"}
    failure = transport.agent_failure(error, "HKLM:\\SOFTWARE\\X")
    assert "on HKLM:\\SOFTWARE\\X" in failure.msg
    assert "Requested registry access is not allowed" in failure.msg
    assert remedy in failure.msg


def test_constrained_language_mode_gets_its_own_explanation():
    stdout = '{"ok":false,"error":{"kind":"unsupported","reason":"language_mode","message":"PowerShell runs in ConstrainedLanguage mode"}}'
    with pytest.raises(transport.AgentError, match="Constrained Language Mode"):
        transport.parse_answer(0, stdout, "")


def test_top_level_agent_failure_is_raised():
    with pytest.raises(transport.AgentError, match="Internal: boom"):
        transport.parse_answer(0, '{"ok": false, "error": {"kind": "internal", "message": "boom"}}', "")


def _connection(family):
    return types.SimpleNamespace(_shell=types.SimpleNamespace(SHELL_FAMILY=family))


def test_non_windows_shell_is_refused():
    with pytest.raises(transport.AgentError, match="manages Windows hosts only: the connection's shell is 'sh'"):
        transport.check_connection(_connection("sh"), types.SimpleNamespace(become=False), "x.licensing_info")


def test_become_is_refused():
    with pytest.raises(transport.AgentError, match="does not support become"):
        transport.check_connection(_connection("powershell"), types.SimpleNamespace(become=True), "x")


def test_windows_connection_without_become_passes():
    transport.check_connection(_connection("powershell"), types.SimpleNamespace(become=False), "x")


@pytest.mark.parametrize("error", [
    {"kind": "access_denied", "message": "Access to the registry key 'HKEY_LOCAL_MACHINE\\SYSTEM\\X' is denied."},
    {"kind": "access_denied", "message": "Access denied", "native_error": "AccessDenied", "hresult": "0x80041003"},
    {"kind": "service_error", "reason": "restart", "detail": ["TermService", "Cannot open TermService service (Access is denied)", "Running"]},
])
def test_a_refusal_to_a_non_elevated_agent_names_the_token_not_the_acl(error):
    document = {"ok": True, "version": 1, "host": {"elevated": False}, "results": [{"id": "x", "ok": False, "error": error}]}
    transport.mark_not_elevated(document)
    failure = transport.agent_failure(document["results"][0]["error"], "HKLM:\\SYSTEM\\X")
    assert "agent.elevated is false" in failure.msg and "LocalAccountTokenFilterPolicy=1" in failure.msg
    assert "Get-Acl" not in failure.msg and "wmimgmt.msc" not in failure.msg


def test_other_errors_of_a_non_elevated_agent_keep_their_own_remedy():
    document = {"results": [{"id": "x", "ok": False, "error": {"kind": "wmi_error", "message": "Invalid class"}}]}
    transport.mark_not_elevated(document)
    failure = transport.agent_failure(document["results"][0]["error"])
    assert "winmgmt /verifyrepository" in failure.msg and "agent.elevated" not in failure.msg
