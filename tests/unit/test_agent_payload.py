"""What goes over the wire: a small constant command line and one ASCII JSON line of data."""

from __future__ import annotations

import base64
import zlib

from ansible.plugins.shell.powershell import ShellModule

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload

HOSTILE = ["it's", 'say "hi"', "$(Remove-Item C:\\)", "`whoami`", "a;b", "line1\nline2\r\n", "Zürich ☃ 日本",
           "x" * 100_000, "\\\\server\\share", "{0}", "@{a=1}"]


def test_command_line_is_the_prefix_ansible_recognises():
    prefix = ShellModule()._encode_script("", as_list=False, strict_mode=False, preserve_rc=False)
    assert payload.bootstrap_command().startswith(prefix)
    assert payload.bootstrap_command().split(" ")[:-1] == prefix.split(" ")[:-1]


def test_command_line_stays_far_below_the_cmd_exe_limit():
    assert len(payload.bootstrap_command()) < payload.CMD_LINE_LIMIT // 2


def test_command_line_does_not_depend_on_the_request():
    before = payload.bootstrap_command()
    payload.stdin_line(payload.build_request([{"op": "read_key", "path": text} for text in HOSTILE]))
    assert payload.bootstrap_command() == before


def test_encoded_bootstrap_decodes_to_the_stripped_script():
    encoded = payload.bootstrap_command().split(" ")[-1]
    script = base64.b64decode(encoded).decode("utf-16-le")
    assert script == payload.bootstrap_text()
    assert not any(line.lstrip().startswith("#") for line in script.splitlines())


def test_stdin_is_one_ascii_line_and_hostile_strings_round_trip():
    request = payload.build_request([{"id": str(index), "op": "read_key", "path": text}
                                     for index, text in enumerate(HOSTILE)])
    line = payload.stdin_line(request)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    line.decode("ascii")  # raises if any byte is not ASCII
    agent, sent = payload.split_stdin_line(line)
    assert sent == request
    assert agent == payload.wire_agent_text()
    assert [op["path"] for op in sent["ops"]] == HOSTILE


def test_the_agent_travels_deflated():
    """What the bootstrap inflates with .NET's DeflateStream: raw DEFLATE, no zlib header."""
    raw = zlib.decompress(base64.a85decode(payload.deflated_agent()), -15)
    assert raw.decode("utf-8") == payload.wire_agent_text()
    assert len(payload.stdin_line(payload.build_request([]))) < len(payload.agent_text()) // 2


def test_request_carries_the_protocol_version():
    assert payload.build_request([])["version"] == payload.AGENT_PROTOCOL_VERSION
    assert payload.build_request([], stop_on_error=True)["stop_on_error"] is True
    # Unset flags are left out: the agent reads a missing one as false.
    assert payload.build_request([]) == {"version": payload.AGENT_PROTOCOL_VERSION, "ops": []}
