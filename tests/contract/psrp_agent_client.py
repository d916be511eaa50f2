"""Run the collection's agent over PowerShell remoting (pypsrp), as ansible-core's psrp plugin does:
the bootstrap script in a runspace, the request line as pipeline input, the output strings as stdout.
Same interface as AgentClient, so every contract vector runs over both connections."""

from __future__ import annotations

import json
import typing as t
import urllib.parse

from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload


class PsrpAgentClient:
    def __init__(self, endpoint: str, username: str, password: str, auth: str = "basic"):
        url = urllib.parse.urlsplit(endpoint)
        ssl = url.scheme == "https"
        self.wsman_options: dict[str, t.Any] = {
            "server": url.hostname, "port": url.port or (5986 if ssl else 5985), "path": url.path.lstrip("/"), "ssl": ssl,
            "auth": auth, "username": username, "password": password, "cert_validation": False, "no_proxy": True,
            # Basic auth cannot encrypt messages; over HTTPS TLS does, and NTLM/Kerberos encrypt over HTTP.
            "encryption": "never" if auth == "basic" else "auto",
        }

    def run(self, request: dict[str, t.Any]) -> dict[str, t.Any]:
        return self.run_line(payload.stdin_line(request))

    def run_line(self, stdin: bytes) -> dict[str, t.Any]:
        """The bootstrap's answer to one stdin line as given (the lab kit's checks of its decoding)."""
        line = stdin.decode("ascii").strip()
        with RunspacePool(WSMan(**self.wsman_options)) as pool:
            shell = PowerShell(pool)
            shell.add_script(payload.bootstrap_text())
            # A list, as the psrp plugin passes it (pypsrp's hint says iterator; a non-generator one breaks).
            output = shell.invoke(input=[line])  # type: ignore[arg-type]
        # The psrp plugin joins the output objects with CRLF into stdout.
        stdout = "\r\n".join(str(item) for item in output)
        if not stdout.strip():
            raise AssertionError(f"no answer: {[str(error) for error in shell.streams.error]}")
        return json.loads(stdout)
