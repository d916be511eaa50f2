"""The WS-Management (WinRM) endpoint: the shell lifecycle that pywinrm and Ansible's winrm
connection drive (Create, Command, Send, Receive, Signal, Delete), over each host's transport
(Basic or NTLM with message encryption over HTTP, NTLM or Basic over HTTPS), within WinRM's quotas.

Hosts are told apart by URL path (/wsman/<host>), since the client ignores the To header.
"""

from __future__ import annotations

import base64
import socket
import ssl
import threading
import time
import typing as t
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from rds_sim import limits as quotas
from rds_sim import message_encryption
from rds_sim import peer_modules
from rds_sim import reboot
from rds_sim.agent import AgentRuntime, ScriptRefused
from rds_sim.auth import ConnectionAuth
from rds_sim.host import Host
from rds_sim.transports import Transport

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
# PowerShell remoting (runspace pools) lives under this resource URI; psrp.py serves it.
POWERSHELL_URI = "http://schemas.microsoft.com/powershell/"
DONE = SHELL + "/CommandState/Done"
_ENVELOPE_OPEN = (
    '<s:Envelope xmlns:s="{s}" xmlns:a="{a}" xmlns:w="{w}" xmlns:rsp="{rsp}" xmlns:x="{x}">'.format(**NS)
)


class Command:
    def __init__(self, command_line: str):
        self.command_line = command_line
        self.stdin = bytearray()
        self.stdin_done = False
        self.stdin_complete = threading.Condition()
        self.result: tuple[bytes, bytes, int] | None = None


class Shell:
    """One open shell: whose it is, on which host, its commands, and when it was last used."""

    def __init__(self, host: str, user: str):
        self.host = host
        self.user = user
        self.commands: dict[str, Command] = {}
        self.last_used = time.monotonic()


class Fleet(t.Protocol):
    runtime: AgentRuntime
    username: str
    password: str
    limits: quotas.Limits
    serve_peer_modules: bool

    def host(self, name: str) -> Host | None: ...

    def transport_of(self, name: str) -> Transport: ...

    def host_changed(self, host: Host) -> None: ...

    def control(self, method: str, path: str, body: bytes) -> tuple[int, bytes]: ...


# The header that carries the fleet's control token (fleet.json control_token) to the /_sim/ control API.
CONTROL_TOKEN_HEADER = "X-RDS-Sim-Token"


def _envelope(action: str, relates_to: str | None, body: str) -> bytes:
    header = (
        f"<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{uuid.uuid4()}</a:MessageID>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        + (f"<a:RelatesTo>{relates_to}</a:RelatesTo>" if relates_to else "")
        + "</s:Header>"
    )
    return (_ENVELOPE_OPEN + header + f"<s:Body>{body}</s:Body></s:Envelope>").encode("utf-8")


def soap_fault(reason: str, code: int = 2150858770, subcode: str = "w:InternalError", sender: bool = False) -> bytes:
    body = (
        f"<s:Fault><s:Code><s:Value>s:{'Sender' if sender else 'Receiver'}</s:Value><s:Subcode><s:Value>{subcode}</s:Value>"
        f"</s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en-US\">{reason}</s:Text></s:Reason>"
        f'<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="{code}" '
        f'Machine="rds-sim"><f:Message>{reason}</f:Message></f:WSManFault></s:Detail></s:Fault>'
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", None, body)


def fault_reply(fault: quotas.Fault) -> tuple[int, bytes]:
    """WinRM answers every WS-Management fault with HTTP 500."""
    return 500, soap_fault(fault.message, fault.code, fault.subcode, fault.sender)


class WSManHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "WSManServer"

    def setup(self) -> None:
        super().setup()
        # Nagle's algorithm would add ~40 ms to every small request/response pair.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # NTLM authenticates the connection, so its state lives as long as this handler.
        self.connection_auth = ConnectionAuth(self.server.channel_binding_hash)

    def log_message(self, format: str, *args: t.Any) -> None:  # noqa: A002 - signature of the base class
        return

    def _reply(self, status: int, body: bytes, content_type: str = "application/soap+xml;charset=UTF-8",
               headers: dict[str, str] | None = None, challenges: t.Sequence[str] = ()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        for challenge in challenges:  # one WWW-Authenticate header per scheme, as Windows sends them
            self.send_header("WWW-Authenticate", challenge)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._control("GET")

    def do_PUT(self) -> None:  # noqa: N802
        self._control("PUT")

    def _control(self, method: str) -> None:
        if not self.path.startswith("/_sim/"):
            self._reply(405, b"", "text/plain")
            self.close_connection = True
            return
        # The token is checked before the body is read: an unauthenticated client cannot make the server read.
        if self.path.split("?")[0].rstrip("/") != "/_sim/ping" and not self.server.fleet.authorised(
                self.headers.get(CONTROL_TOKEN_HEADER, "")):
            self._reply(401, b'{"error": "the control API needs the fleet token (fleet.json control_token)"}', "application/json")
            self.close_connection = True
            return
        status, answer = self.server.fleet.control(method, self.path, self._body())
        self._reply(status, answer, "application/json")

    def do_POST(self) -> None:  # noqa: N802
        if self.path.startswith("/_sim/"):
            self._control("POST")
            return
        body = self._body()
        fleet = self.server.fleet
        parts = self.path.strip("/").split("/")
        host = fleet.host(parts[1]) if len(parts) == 2 and parts[0] == "wsman" else None
        if host is None:
            self._reply(404, b"unknown host path; use /wsman/<host>", "text/plain")
            return
        if reboot.is_down(host):
            # Shutting down or still booting after a reboot: no listener answers.
            self.close_connection = True
            return
        if host.faults.get("refused"):
            # The fleet's own inventory sends a host created with this fault to a closed port (a true refusal); set
            # later, or with an inventory of one's own, the host still answers nothing: the connection closes unanswered.
            self.close_connection = True
            return
        host.count("bytes_in", len(body))
        transport = fleet.transport_of(host.name)
        if transport.listener != self.server.listener:
            # A real host has no listener of that kind: nothing answers for it here.
            self._reply(404, f"{host.name} is reached over its {transport.name} transport, not on the "
                             f"{self.server.listener} listener".encode(), "text/plain")
            return
        outcome = self.connection_auth.authenticate(self.headers.get("Authorization", ""), transport.schemes,
                                                    fleet.username, fleet.password)
        if outcome.user is not None and host.faults.get("auth"):
            outcome = self.connection_auth.reject(transport.schemes)  # the auth fault: right credentials refused too
        if outcome.user is None:
            self._reply(401, b"", "text/plain", challenges=outcome.challenge)
            return
        sealed = message_encryption.is_encrypted(self.headers.get("Content-Type", ""))
        envelope = self._open(body, sealed, transport)
        if envelope is None:
            return
        if sealed:
            host.count("sealed_requests")
        if not envelope:
            # pywinrm authenticates with an empty POST before its first sealed message.
            self._reply(200, b"", "text/plain")
            return
        status, answer = self._answer(host, envelope, outcome.user)
        if answer is None:
            self.close_connection = True
            return
        host.count("bytes_out", len(answer))
        if sealed:
            self._reply(status, message_encryption.wrap(self.connection_auth.context, answer), message_encryption.CONTENT_TYPE)
        else:
            self._reply(status, answer)

    def _open(self, body: bytes, sealed: bool, transport: Transport) -> bytes | None:
        """The SOAP envelope of a request, or None when the request was answered with a refusal."""
        if sealed:
            if self.connection_auth.context is None:
                self._reply(400, b"an encrypted message needs an NTLM-authenticated connection", "text/plain")
                return None
            try:
                return message_encryption.unwrap(self.connection_auth.context, body)
            except message_encryption.EncryptionError as exc:
                self._reply(400, str(exc).encode(), "text/plain")
                self.close_connection = True
                return None
        if body and transport.requires_encryption:
            # AllowUnencrypted=false: Windows refuses a plain message over HTTP with 401, whatever the
            # credentials (the client then reports rejected credentials).
            self._reply(401, b"", "text/plain", challenges=self.connection_auth.reject(transport.schemes).challenge)
            return None
        return body

    def _answer(self, host: Host, envelope: bytes, user: str) -> tuple[int, bytes | None]:
        """Status and SOAP answer; None when the connection is to drop without one."""
        faults = host.faults
        if faults.get("http500"):
            return 500, b"Internal Server Error"
        if faults.get("soap_fault"):
            return 500, soap_fault("The WS-Management service cannot process the request (simulated fault).")
        limits = self.server.fleet.limits
        if len(envelope) > limits.max_envelope_kb * 1024:
            return fault_reply(quotas.envelope_too_large(len(envelope), limits))
        try:
            return self.server.shells.handle(host, envelope, self.server.fleet, user)
        except DropConnection:
            return 0, None
        except Exception as exc:  # a malformed request must not kill the server thread
            return 500, soap_fault(f"rds-sim could not process the request: {exc!r}")


class DropConnection(Exception):
    """Close the client's connection without an answer."""


class ShellTable:
    """Open shells and their commands, per host and user, within WinRM's quotas."""

    def __init__(self) -> None:
        self._shells: dict[str, Shell] = {}
        self._lock = threading.Lock()
        from rds_sim.psrp import RunspaceTable  # psrp builds on this module's SOAP helpers

        self.runspaces = RunspaceTable(self)

    def _expire_idle(self, host: Host, limits: quotas.Limits) -> None:
        """Close the host's shells idle for longer than IdleTimeout, as the WinRM service does."""
        cutoff = time.monotonic() - limits.idle_timeout_ms / 1000.0
        for shell_id in [key for key, shell in self._shells.items() if shell.host == host.name and shell.last_used < cutoff]:
            del self._shells[shell_id]

    def _operations(self, host: Host, user: str) -> tuple[int, int]:
        """Open shells, and open shells plus running commands, of one user on one host."""
        mine = [shell for shell in self._shells.values() if shell.host == host.name and shell.user == user]
        return len(mine), len(mine) + sum(len(shell.commands) for shell in mine)

    def handle(self, host: Host, body: bytes, fleet: Fleet, user: str = "") -> tuple[int, bytes]:
        root = ET.fromstring(body)
        if root.findtext("s:Header/w:ResourceURI", "", NS).startswith(POWERSHELL_URI):
            return self.runspaces.handle(host, root, fleet)
        action = root.findtext("s:Header/a:Action", "", NS)
        message_id = root.findtext("s:Header/a:MessageID", "", NS)
        shell_id = root.findtext("s:Header/w:SelectorSet/w:Selector[@Name='ShellId']", "", NS)
        payload = root.find("s:Body", NS)
        limits = fleet.limits
        with self._lock:
            self._expire_idle(host, limits)
            if action == ACTION_CREATE:
                shells, operations = self._operations(host, user)
                if shells >= limits.max_shells_per_user:
                    return fault_reply(quotas.shell_quota(limits))
                if operations >= limits.max_operations_per_user:
                    return fault_reply(quotas.operation_quota(limits))
                new_id = str(uuid.uuid4()).upper()
                self._shells[new_id] = Shell(host.name, user)
            else:
                shell = self._shells.get(shell_id)
                if shell is None or shell.host != host.name:
                    return fault_reply(quotas.shell_not_found(shell_id))
                shell.last_used = time.monotonic()
                if action == SHELL + "/Command" and self._operations(host, user)[1] >= limits.max_operations_per_user:
                    return fault_reply(quotas.operation_quota(limits))
        if action == ACTION_CREATE:
            host.count("shells")
            return 200, _envelope(ACTION_CREATE + "Response", message_id, (
                "<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address><a:ReferenceParameters>"
                f"<w:ResourceURI>{SHELL}/cmd</w:ResourceURI><w:SelectorSet><w:Selector Name=\"ShellId\">{new_id}"
                "</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"))
        commands = shell.commands
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
            with command.stdin_complete:
                command.stdin += base64.b64decode(stream.text or "")
                command.stdin_done = stream.get("End") == "true"
                command.stdin_complete.notify_all()
            return 200, _envelope(SHELL + "/SendResponse", message_id, "<rsp:SendResponse/>")
        if action == SHELL + "/Receive":
            command_id = payload.find("rsp:Receive/rsp:DesiredStream", NS).get("CommandId", "").upper()
            command = commands[command_id]
            if command.result is None:
                timeout = quotas.parse_duration(root.findtext("s:Header/w:OperationTimeout", "", NS), 60.0)
                if not self._stdin_complete(command, fleet, timeout):
                    shell.last_used = time.monotonic()
                    return fault_reply(quotas.operation_timeout())
                command.result = self.execute(host, command, fleet)
            shell.last_used = time.monotonic()
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

    @staticmethod
    def _stdin_complete(command: Command, fleet: Fleet, timeout: float) -> bool:
        """The bootstrap reads its stdin ($input) to the end before the agent starts, so the agent
        runs only once the last Send (End="true") arrived; until then Receive waits, and answers the
        OperationTimeout fault (which clients retry) when nothing came in time. A command that is
        not the agent is refused at once, whatever its stdin."""
        try:
            fleet.runtime.verify_command(command.command_line)
        except ScriptRefused:
            return True
        with command.stdin_complete:
            return command.stdin_complete.wait_for(lambda: command.stdin_done, timeout)

    def execute(self, host: Host, command: Command, fleet: Fleet) -> tuple[bytes, bytes, int]:
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
        if writes and host.faults.pop("down_after_write", None):
            # The host goes away once the write ran (network lost, crash): every later request fails
            # with HTTP 500 until the http500 fault is cleared.
            host.faults["http500"] = True
            host.dirty = True
            fleet.host_changed(host)
            raise DropConnection()
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

    def __init__(self, address: tuple[str, int], fleet: Fleet, listener: str = "http", shells: ShellTable | None = None,
                 tls_context: ssl.SSLContext | None = None, channel_binding_hash: bytes | None = None):
        super().__init__(address, WSManHandler)
        self.fleet = fleet
        self.listener = listener
        # One table for every listener of a fleet: quotas count a user's shells on a host whatever the port.
        self.shells = shells if shells is not None else ShellTable()
        self.tls_context = tls_context
        self.channel_binding_hash = channel_binding_hash

    def finish_request(self, request: t.Any, client_address: t.Any) -> None:
        """Serve one connection; on an HTTPS listener the TLS handshake runs here, in the connection's
        own thread, so a client that fails it (an untrusted certificate) holds up nobody else."""
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(30)
        try:
            secure = self.tls_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            secure.settimeout(None)
            super().finish_request(secure, client_address)
        finally:
            secure.close()
