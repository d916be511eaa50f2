"""The controller's statement of the agent protocol, and how the controller handles what is new in it."""

from __future__ import annotations

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _protocol as protocol
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile as regfile
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _registry as registry
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _transport as transport


def test_requests_the_agent_would_refuse_are_named():
    assert protocol.request_problems([{"id": "a", "op": "read_key", "path": "SOFTWARE", "view": 64}]) == []
    assert protocol.request_problems([{"id": "a", "op": "read_keys"}]) == ["unknown operation 'read_keys'"]
    assert protocol.request_problems([{"id": "a", "op": "create_key", "path": "X", "grant": True}]) == [
        "create_key does not take grant"]


def test_run_agent_refuses_a_request_it_built_wrongly_before_sending():
    class Action:  # never reached: nothing may be sent
        def _low_level_execute_command(self, *args, **kwargs):
            raise AssertionError("sent")

    with pytest.raises(transport.AgentError, match="does not accept .*unknown operation 'nope'"):
        transport.run_agent(Action(), [{"id": "x", "op": "nope"}])


@pytest.mark.parametrize("reason,words", [
    ("runtime", ["PowerShell 7.4.6", "Microsoft.PowerShell", "ansible_psrp_configuration_name"]),
    ("language_mode", ["FullLanguage", "JEA", "application-control policy"]),
])
def test_unsupported_endpoints_say_what_to_connect_to(reason, words):
    answer = '{"ok":false,"error":{"kind":"unsupported","reason":"%s","message":"PowerShell 7.4.6"}}' % reason
    with pytest.raises(transport.AgentError) as failure:
        transport.parse_answer(0, answer, "")
    for word in words:
        assert word in failure.value.msg


def test_wmi_errors_carry_their_code_and_the_wmi_remedy():
    error = {"kind": "access_denied", "message": "Access denied ", "path": None, "hresult": "0x80041003",
             "native_error": "AccessDenied"}
    message = transport.agent_failure(error, "WMI root\\cimv2\\TerminalServices Win32_TerminalServiceSetting").msg
    assert message.startswith("Access denied on WMI root\\cimv2\\TerminalServices Win32_TerminalServiceSetting: "
                              "Access denied (0x80041003).")
    assert "wmimgmt.msc" in message and "Get-Acl" not in message


def test_service_errors_have_a_remedy():
    message = transport.agent_failure({"kind": "service_error", "message": "restarting TermService failed; it is Stopped"}).msg
    assert "it is Stopped" in message and "Start-Service" in message


@pytest.mark.parametrize("error,message", [
    ({"kind": "invalid_argument", "reason": "outside_destructive", "path": "SOFTWARE"},
     "delete_tree is refused outside the destructive allow-list: SOFTWARE"),
    ({"kind": "unsupported", "reason": "unknown_kind", "path": "K", "detail": ["set_value", "K\\V (kind 8)"]},
     "set_value refused: K\\V (kind 8) is a registry kind the agent cannot write back exactly (a rollback would change it); "
     "remove or convert it first"),
    ({"kind": "conflict", "reason": "changed", "detail": ["differs", "dword", "4", "dword", "3"]},
     "changed by someone else since it was read: the decision was based on dword 4; it now holds dword 3"),
    ({"kind": "conflict", "reason": "changed", "detail": ["appeared", "string", "kept"]},
     "changed by someone else since it was read: the value was read as absent; it now holds string kept"),
    ({"kind": "conflict", "reason": "changed", "detail": ["gone"]},
     "changed by someone else since it was read: the value was read as present and is now absent"),
    ({"kind": "service_error", "reason": "restart", "detail": ["TermService", "Cannot start service", "Stopped"]},
     "restarting TermService failed: Cannot start service; after one more start it is Stopped"),
    ({"kind": "conflict", "reason": "busy", "detail": 60}, "another write to this host held its write lock for 60 s; nothing was written"),
    ({"kind": "unsupported", "reason": "protocol", "detail": [1, 2]}, "agent protocol 1 cannot serve a request for protocol 2"),
    # What .NET said stays as it is; a reason this controller does not know shows its detail.
    ({"kind": "access_denied", "message": "Requested registry access is not allowed.", "reason": None, "detail": None},
     "Requested registry access is not allowed."),
    ({"kind": "internal", "reason": "from_a_newer_agent", "detail": "what it saw"}, "what it saw"),
    ({"kind": "unsupported", "reason": "unknown_kind", "detail": "not a list"}, "not a list"),
])
def test_the_controller_words_what_the_agent_reports_as_reason_and_detail(error, message):
    answer = {"ok": True, "results": [{"id": "a", "ok": False, "error": dict(error)}]}
    protocol.word_errors(answer)
    assert answer["results"][0]["error"]["message"] == message


def test_the_runtime_refusal_names_the_powershell_it_found():
    answer = '{"ok":false,"error":{"kind":"unsupported","reason":"runtime","detail":"PowerShell Core 7.4.6"}}'
    with pytest.raises(transport.AgentError) as failure:
        transport.parse_answer(0, answer, "")
    assert failure.value.msg.startswith("The WinRM endpoint cannot run the licensing agent (the agent needs Windows PowerShell 5.1; "
                                        "this is PowerShell Core 7.4.6).")


def test_a_worded_refusal_reaches_the_user_with_its_path_and_remedy():
    answer = ('{"ok":false,"error":{"kind":"invalid_argument","message":null,"path":"SOFTWARE","reason":"outside_destructive",'
              '"detail":null}}')
    with pytest.raises(transport.AgentError) as failure:
        transport.parse_answer(0, answer, "")
    assert failure.value.msg.startswith("Invalid argument on SOFTWARE: delete_tree is refused outside the destructive allow-list: SOFTWARE.")


def test_unknown_value_kinds_become_hex_n_only_when_their_bytes_are_exact():
    exact = {"name": "BigEndian", "type": "unknown", "kind": 5, "data": "AAAAAQ==", "exact": True}
    assert registry.from_wire(exact) == ("type5", b"\x00\x00\x00\x01")
    assert regfile.value_line("BigEndian", registry.from_wire(exact)) == '"BigEndian"=hex(5):00,00,00,01'
    link = {"name": "Link", "type": "unknown", "kind": 6, "data": None, "exact": False}
    with pytest.raises(regfile.RegFileError, match="'Link' is of registry kind 6 .* remove or convert"):
        regfile.value_line("Link", registry.from_wire(link))
