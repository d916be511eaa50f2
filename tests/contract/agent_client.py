"""Run the collection's agent over plain pywinrm: against rds-sim in CI, or a real Windows host.

This is the same wire exchange the action plugins make (bootstrap command line, one ASCII line
on stdin), without Ansible in between, so a vector tests the agent and nothing else.
"""

from __future__ import annotations

import json
import typing as t

import winrm

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload


def command_words() -> list[str]:
    """The bootstrap command line as pywinrm's run_command takes it (command, arguments)."""
    return payload.bootstrap_command().split(" ")


class AgentClient:
    def __init__(self, endpoint: str, username: str, password: str, transport: str = "basic", **options: t.Any):
        """options: further pywinrm Protocol arguments (message_encryption, ca_trust_path, ...)."""
        options.setdefault("server_cert_validation", "ignore")
        self.protocol = winrm.Protocol(endpoint=endpoint, transport=transport, username=username, password=password,
                                       **options)

    def run(self, request: dict[str, t.Any]) -> dict[str, t.Any]:
        return self.run_line(payload.stdin_line(request))

    def run_line(self, line: bytes) -> dict[str, t.Any]:
        """The bootstrap's answer to one stdin line as given (the lab kit's checks of its decoding)."""
        words = command_words()
        shell_id = self.protocol.open_shell(codepage=65001)
        try:
            command_id = self.protocol.run_command(shell_id, words[0], words[1:], console_mode_stdin=False)
            self.protocol.send_command_input(shell_id, command_id, line, end=True)
            stdout, stderr, code = self.protocol.get_command_output(shell_id, command_id)
            self.protocol.cleanup_command(shell_id, command_id)
        finally:
            self.protocol.close_shell(shell_id)
        if not stdout.strip():
            raise AssertionError(f"no answer (rc {code}): {stderr.decode('utf-8', 'replace')}")
        return json.loads(stdout.decode("utf-8"))
