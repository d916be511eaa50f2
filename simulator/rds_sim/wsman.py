"""The WS-Management (WinRM) endpoint: the shell lifecycle that pywinrm and Ansible's winrm
connection drive (Create, Command, Send, Receive, Signal, Delete) over HTTP with basic auth.

Hosts are told apart by URL path (/wsman/<host>), since the client ignores the To header.
"""

from __future__ import annotations

import base64
import socket
import threading
import time
import typing as t
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rds_sim import peer_modules
from rds_sim.agent import AgentRuntime, ScriptRefused
from rds_sim.host import Host

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
}
ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
DONE = SHELL + "/CommandState/Done"
_ENVELOPE_OPEN = (
    '<s:Envelope xmlns:s="{s}" xmlns:a="{a}" xmlns:w="{w}" xmlns:rsp="{rsp}" xmlns:x="{x}">'.format(**NS)
)


class Command:
    def __init__(self, command_line: str):
        self.command_line = command_line
        self.stdin = bytearray()
        self.stdin_done = False
        self.result: tuple[bytes, bytes, int] | None = None


class Fleet(t.Protocol):
    runtime: AgentRuntime
    username: str
    password: str
    serve_peer_modules: bool

    def host(self, name: str) -> Host | None: ...

    def host_changed(self, host: Host) -> None: ...

    def control(self, method: str, path: str, body: bytes) -> tuple[int, bytes]: ...


def _envelope(action: str, relates_to: str | None, body: str) -> bytes:
    header = (
        f"<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{uuid.uuid4()}</a:MessageID>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        + (f"<a:RelatesTo>{relates_to}</a:RelatesTo>" if relates_to else "")
        + "</s:Header>"
    )
    return (_ENVELOPE_OPEN + header + f"<s:Body>{body}</s:Body></s:Envelope>").encode("utf-8")


def soap_fault(reason: str, code: int = 2150858770) -> bytes:
    body = (
        "<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:InternalError</s:Value>"
        f"</s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en-US\">{reason}</s:Text></s:Reason>"
        f'<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="{code}" '
        f'Machine="rds-sim"><f:Message>{reason}</f:Message></f:WSManFault></s:Detail></s:Fault>'
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", None, body)


class WSManHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "WSManServer"

    def setup(self) -> None:
        super().setup()
        # Nagle's algorithm would add ~40 ms to every small request/response pair.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - signature of the base class
        return

    def _reply(self, status: int, body: bytes, content_type: str = "application/soap+xml;charset=UTF-8",
               headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._control("GET")

    def do_PUT(self) -> None:  # noqa: N802
        self._control("PUT")

    def _control(self, method: str) -> None:
        body = self._body()
        if not self.path.startswith("/_sim/"):
            self._reply(405, b"", "text/plain")
            return
        status, answer = self.server.fleet.control(method, self.path, body)
        self._reply(status, answer, "application/json")

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        if self.path.startswith("/_sim/"):
            status, answer = self.server.fleet.control("POST", self.path, body)
            self._reply(status, answer, "application/json")
            return
        parts = self.path.strip("/").split("/")
        host = self.server.fleet.host(parts[1]) if len(parts) == 2 and parts[0] == "wsman" else None
        if host is None:
            self._reply(404, b"unknown host path; use /wsman/<host>", "text/plain")
            return
        host.count("bytes_in", len(body))
        if not self._authorised(host):
            self._reply(401, b"", "text/plain", {"WWW-Authenticate": 'Basic realm="WSMAN"'})
            return
        faults = host.faults
        if faults.get("http500"):
            self._reply(500, b"Internal Server Error", "text/plain")
            return
        if faults.get("soap_fault"):
            answer = soap_fault("The WS-Management service cannot process the request (simulated fault).")
            host.count("bytes_out", len(answer))
            self._reply(500, answer)
            return
        try:
            status, answer = self.server.shells.handle(host, body, self.server.fleet)
        except DropConnection:
            self.close_connection = True
            return
        except Exception as exc:  # a malformed request must not kill the server thread
            status, answer = 500, soap_fault(f"rds-sim could not process the request: {exc!r}")
        host.count("bytes_out", len(answer))
        self._reply(status, answer)

    def _authorised(self, host: Host) -> bool:
        if host.faults.get("auth"):
            return False
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
        except ValueError:
            return False
        return user == self.server.fleet.username and password == self.server.fleet.password


class DropConnection(Exception):
    """Close the client's connection without an answer."""


class ShellTable:
    """Open shells and their commands, per host."""

    def __init__(self) -> None:
        self._shells: dict[str, dict[str, Command]] = {}
        self._lock = threading.Lock()

    def handle(self, host: Host, body: bytes, fleet: Fleet) -> tuple[int, bytes]:
        root = ET.fromstring(body)
        action = root.findtext("s:Header/a:Action", "", NS)
        message_id = root.findtext("s:Header/a:MessageID", "", NS)
        shell_id = root.findtext("s:Header/w:SelectorSet/w:Selector[@Name='ShellId']", "", NS)
        payload = root.find("s:Body", NS)
        if action == ACTION_CREATE:
            new_id = str(uuid.uuid4()).upper()
            with self._lock:
                self._shells[new_id] = {}
            host.count("shells")
            return 200, _envelope(ACTION_CREATE + "Response", message_id, (
                "<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address><a:ReferenceParameters>"
                f"<w:ResourceURI>{SHELL}/cmd</w:ResourceURI><w:SelectorSet><w:Selector Name=\"ShellId\">{new_id}"
                "</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"))
        commands = self._shells.get(shell_id)
        if commands is None:
            return 500, soap_fault(f"The shell {shell_id} does not exist.", 2150858843)
        if action == ACTION_DELETE:
            with self._lock:
                self._shells.pop(shell_id, None)
            return 200, _envelope(ACTION_DELETE + "Response", message_id, "")
        if action == SHELL + "/Command":
            line = payload.find("rsp:CommandLine", NS)
            words = [line.findtext("rsp:Command", "", NS)] + [arg.text or "" for arg in line.findall("rsp:Arguments", NS)]
            command_id = str(uuid.uuid4()).upper()
            commands[command_id] = Command(" ".join(words))
            host.count("commands")
            host.count_max("longest_command_line", len(commands[command_id].command_line))
            return 200, _envelope(SHELL + "/CommandResponse", message_id,
                                  f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>")
        if action == SHELL + "/Send":
            stream = payload.find("rsp:Send/rsp:Stream", NS)
            command = commands[stream.get("CommandId", "").upper()]
            command.stdin += base64.b64decode(stream.text or "")
            command.stdin_done = stream.get("End") == "true"
            return 200, _envelope(SHELL + "/SendResponse", message_id, "<rsp:SendResponse/>")
        if action == SHELL + "/Receive":
            command_id = payload.find("rsp:Receive/rsp:DesiredStream", NS).get("CommandId", "").upper()
            command = commands[command_id]
            if command.result is None:
                command.result = self._execute(host, command, fleet)
            stdout, stderr, code = command.result
            streams = "".join(
                f'<rsp:Stream Name="{name}" CommandId="{command_id}">{base64.b64encode(data).decode()}</rsp:Stream>'
                for name, data in (("stdout", stdout), ("stderr", stderr)) if data
            ) + "".join(f'<rsp:Stream Name="{name}" CommandId="{command_id}" End="true"></rsp:Stream>'
                        for name in ("stdout", "stderr"))
            return 200, _envelope(SHELL + "/ReceiveResponse", message_id, (
                f"<rsp:ReceiveResponse>{streams}<rsp:CommandState CommandId=\"{command_id}\" State=\"{DONE}\">"
                f"<rsp:ExitCode>{code}</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>"))
        if action == SHELL + "/Signal":
            command_id = payload.find("rsp:Signal", NS).get("CommandId", "").upper()
            commands.pop(command_id, None)
            return 200, _envelope(SHELL + "/SignalResponse", message_id, "<rsp:SignalResponse/>")
        return 500, soap_fault(f"rds-sim does not implement the action {action}")

    def _execute(self, host: Host, command: Command, fleet: Fleet) -> tuple[bytes, bytes, int]:
        """Start 'powershell.exe': the latency fault models its start-up time."""
        latency = float(host.faults.get("latency_ms", 0)) / 1000.0
        if latency:
            time.sleep(latency)
        hang = float(host.faults.get("hang_s", 0))
        if hang:
            time.sleep(hang)
        # One-shot faults: the connection drops before a writing request runs, or after it ran
        # but before the answer (the client never learns the outcome).
        writes = fleet.runtime.has_writes(bytes(command.stdin))
        if writes and host.faults.pop("drop_before_write", None):
            host.dirty = True
            fleet.host_changed(host)
            raise DropConnection()
        # Benchmark fleets only: ansible.windows modules and trivial commands, from the same host model.
        if fleet.serve_peer_modules:
            with host.lock:
                served = peer_modules.serve(host, command.command_line, bytes(command.stdin))
            if served is not None:
                fleet.host_changed(host)
                return served
        try:
            fleet.runtime.verify_command(command.command_line)
            stdout = fleet.runtime.run(host, bytes(command.stdin))
        except ScriptRefused as refused:
            return b"", str(refused).encode(), refused.exit_code
        if host.faults.get("noisy_output"):
            # A profile or logon script that prints before the agent does.
            stdout = b"Welcome to the server. Unauthorised access is prohibited.\r\n" + stdout
        if host.faults.get("truncated_output"):
            stdout = stdout[: len(stdout) // 2]
        if writes and host.faults.pop("drop_after_write", None):
            host.dirty = True
            fleet.host_changed(host)
            raise DropConnection()
        fleet.host_changed(host)
        return stdout, b"", 0


class WSManServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], fleet: Fleet):
        super().__init__(address, WSManHandler)
        self.fleet = fleet
        self.shells = ShellTable()
