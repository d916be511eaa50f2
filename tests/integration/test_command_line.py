"""The command line as the host receives it from each ansible-core: what 2.16-2.18's second encoding
makes of our command still runs the agent, and a line over cmd.exe's limit gets Windows' answer."""

from __future__ import annotations

import json

import pytest
import winrm
from ansible.plugins.shell.powershell import ShellModule

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from tests.helpers.fleet import SimFleet


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("command-line")).up(1, ["per_user"])
    yield fleet
    fleet.down()


def encode_again(command: str) -> str:
    """What ansible-core 2.16, 2.17 and 2.18's winrm plugin sends for a command (exec_command)."""
    return " ".join(ShellModule()._encode_script(command, as_list=True, strict_mode=False, preserve_rc=False))


def run(fleet, command: str, stdin: bytes | None = None) -> tuple[bytes, bytes, int]:
    client = winrm.Protocol(**fleet.protocol_options(fleet.hosts()[0]))
    words = command.split(" ")
    shell_id = client.open_shell(codepage=65001)
    try:
        command_id = client.run_command(shell_id, words[0], words[1:], console_mode_stdin=False)
        request = payload.build_request([{"id": "mode", "op": "read_key", "view": 64,
                                          "path": "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"}])
        client.send_command_input(shell_id, command_id, stdin or payload.stdin_line(request), end=True)
        stdout, stderr, code = client.get_command_output(shell_id, command_id)
        client.cleanup_command(shell_id, command_id)
    finally:
        client.close_shell(shell_id)
    return stdout, stderr, code


def test_the_command_encoded_twice_as_by_ansible_core_2_16_runs_the_agent(fleet):
    line = encode_again(payload.bootstrap_command())
    assert len(line) <= payload.CMD_LINE_LIMIT
    stdout, _stderr, code = run(fleet, line)
    answer = json.loads(stdout)
    assert code == 0 and answer["ok"] and answer["results"][0]["exists"] is True
    assert fleet.stats()[fleet.hosts()[0]]["longest_command_line"] == len(line)


def test_a_command_line_over_8191_characters_is_refused_as_cmd_exe_does(fleet):
    line = encode_again(encode_again(payload.bootstrap_command()))
    assert len(line) > payload.CMD_LINE_LIMIT
    stdout, stderr, code = run(fleet, line)
    assert (stdout, stderr, code) == (b"", b"The command line is too long.\r\n", 1)


def test_a_stdin_line_that_does_not_decode_gets_the_bootstrap_s_internal_error(fleet):
    """Ascii85 that makes no DEFLATE stream: DeflateStream throws, and the bootstrap's catch prints its JSON."""
    line = payload.stdin_line(payload.build_request([]))
    agent, request = line.decode("ascii").split(" ")
    broken = (payload.ascii85(b"\xff" * 64) + " " + request).encode("ascii")
    stdout, _stderr, code = run(fleet, payload.bootstrap_command(), broken)
    assert code == 0
    assert json.loads(stdout) == {"ok": False, "error": {
        "kind": "internal", "message": "the agent stopped with System.Management.Automation.MethodInvocationException"}}
    # The same request behind the shipped agent runs.
    stdout, _stderr, code = run(fleet, payload.bootstrap_command(), (agent + " " + request).encode("ascii"))
    assert code == 0 and json.loads(stdout)["ok"] is True
