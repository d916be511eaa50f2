"""PowerShell Remoting Protocol (PSRP) over WS-Management: the runspace pool "shell" that
ansible-core's psrp connection (pypsrp) opens, with psrpcore's server classes handling the PSRP
messages and fragments.

WSMan side, as Windows serves it for the resource URI
http://schemas.microsoft.com/powershell/Microsoft.PowerShell: Create carries the runspace pool's
SESSION_CAPABILITY and INIT_RUNSPACEPOOL in creationXml; Command carries CREATE_PIPELINE (its
CommandId is the pipeline id); Send carries pipeline input; Receive returns PSRP fragments on the
stdout stream; Signal stops or terminates a pipeline; Delete closes the pool.

A pipeline runs only when it is the collection's bootstrap script: ansible-core's psrp plugin
decodes the agent's `PowerShell ... -EncodedCommand <b64>` command line and runs the script in the
runspace, so the simulator encodes the script back into that command line and runs it through the
same path as the cmd shell (its faults, checks and counters). Anything else gets an error record.
"""

from __future__ import annotations

import base64
import collections
import re
import threading
import uuid
import xml.etree.ElementTree as ET

import psrpcore
from psrpcore.types import ErrorCategory, ErrorCategoryInfo, NETException, PSInvocationState, PSVersion

from rds_sim.host import Host
from rds_sim.wsman import (ACTION_CREATE, ACTION_DELETE, DONE, NS, POWERSHELL_URI, SHELL, Command, Fleet, ShellTable, _envelope,
                           soap_fault)

# ansible-core's psrp plugin decodes a command line with this prefix (its _common_args) and runs the
# script in the runspace instead of starting powershell.exe.
ENCODED_COMMAND_PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand"
CONFIGURATION = "Microsoft.PowerShell"
RUNNING = SHELL + "/CommandState/Running"
SIGNAL_CTRL_C = "powershell/signal/crtl_c"  # pypsrp and PowerShell spell it this way
# WSMan fault codes Windows uses: unknown shell, unknown configuration, operation timeout.
FAULT_NO_SHELL = 2150858843
FAULT_NO_CONFIGURATION = 2150859046
FAULT_OPERATION_TIMEOUT = 2150858793
# Room left in each Receive envelope for the SOAP around the base64 stream data.
ENVELOPE_OVERHEAD = 4096


class _Pipeline:
    """One pipeline: psrpcore's server state plus the input gathered for the script."""

    def __init__(self, pool: psrpcore.ServerRunspacePool, pipeline_id: uuid.UUID):
        self.server = psrpcore.ServerPipeline(pool, pipeline_id)
        self.input: list[str] = []
        self.ready = threading.Event()  # set once the input is complete
        self.ran = False


class _Runspace:
    """One runspace pool: psrpcore's server pool, its pipelines and what is queued for the client."""

    def __init__(self, ps_version: str):
        self.pool = psrpcore.ServerRunspacePool(application_private_data={
            "PSVersionTable": {"PSVersion": PSVersion(ps_version or "5.1"), "PSEdition": "Desktop",
                               "CLRVersion": PSVersion("4.0.30319.42000")},
        })
        self.pipelines: dict[uuid.UUID, _Pipeline] = {}
        # Fragments waiting for a Receive, by pipeline id (None: the pool itself).
        self.outbox: dict[uuid.UUID | None, collections.deque[bytes]] = collections.defaultdict(collections.deque)
        # The last Receive answered (message id, answer): pypsrp resends a Receive whose answer timed out,
        # with the same message id, expecting the same data again; taken fragments are otherwise gone.
        self.last_receive: tuple[str, tuple[int, bytes]] | None = None
        self.lock = threading.Lock()

    def feed(self, data: bytes, pipeline_id: uuid.UUID | None) -> None:
        """Hand client fragments to psrpcore and act on the events they complete."""
        self.pool.receive_data(psrpcore.PSRPPayload(data, psrpcore.StreamType.default, pipeline_id))
        while (event := self.pool.next_event()) is not None:
            pipeline = self.pipelines.get(event.pipeline_id) if event.pipeline_id else None
            if pipeline is None:
                continue
            if isinstance(event, psrpcore.CreatePipelineEvent):
                pipeline.server.start()
                if event.pipeline.no_input:
                    pipeline.ready.set()
            elif isinstance(event, psrpcore.PipelineInputEvent):
                pipeline.input.append("" if event.data is None else str(event.data))
            elif isinstance(event, psrpcore.EndOfPipelineInputEvent):
                pipeline.ready.set()

    def collect(self, budget: int | None) -> None:
        """Move everything psrpcore has prepared into the outbox, in fragments that fit an envelope."""
        while (payload := self.pool.data_to_send(budget)) is not None:
            self.outbox[payload.pipeline_id].append(payload.data)

    def take(self, pipeline_id: uuid.UUID | None, budget: int) -> list[bytes]:
        queue = self.outbox[pipeline_id]
        taken: list[bytes] = []
        while queue and (not taken or sum(map(len, taken)) + len(queue[0]) <= budget):
            taken.append(queue.popleft())
        return taken


class RunspaceTable:
    """Open runspace pools and their pipelines, per shell id."""

    def __init__(self, shells: ShellTable):
        self._shells = shells
        self._runspaces: dict[str, _Runspace] = {}
        self._lock = threading.Lock()

    def handle(self, host: Host, root: ET.Element, fleet: Fleet) -> tuple[int, bytes]:
        header = _child(root, "s:Header")
        action = header.findtext("a:Action", "", NS)
        message_id = header.findtext("a:MessageID", "", NS)
        resource_uri = header.findtext("w:ResourceURI", "", NS)
        body = _child(root, "s:Body")
        budget = max(1024, (_max_envelope(header) - ENVELOPE_OVERHEAD) * 3 // 4)
        if action == ACTION_CREATE:
            if resource_uri != POWERSHELL_URI + CONFIGURATION:
                return 500, soap_fault(
                    f"The WS-Management service cannot process the request. Cannot find the "
                    f"{resource_uri[len(POWERSHELL_URI):]} session configuration in the WSMan: drive on the "
                    f"{host.facts.get('computer_name', host.name)} computer.", FAULT_NO_CONFIGURATION)
            return self._create(host, body, message_id, budget)
        shell_id = header.findtext("w:SelectorSet/w:Selector[@Name='ShellId']", "", NS).upper()
        runspace = self._runspaces.get(shell_id)
        if runspace is None:
            return 500, soap_fault(f"The shell {shell_id} does not exist.", FAULT_NO_SHELL)
        with runspace.lock:
            if action == ACTION_DELETE:
                with self._lock:
                    self._runspaces.pop(shell_id, None)
                return 200, _envelope(ACTION_DELETE + "Response", message_id, "")
            if action == SHELL + "/Command":
                return self._command(host, runspace, body, message_id, budget)
            if action == SHELL + "/Send":
                stream = _child(body, "rsp:Send/rsp:Stream")
                command_id = stream.get("CommandId")
                runspace.feed(base64.b64decode(stream.text or ""), uuid.UUID(command_id) if command_id else None)
                runspace.collect(budget)
                return 200, _envelope(SHELL + "/SendResponse", message_id, "<rsp:SendResponse/>")
            if action == SHELL + "/Receive":
                if runspace.last_receive and runspace.last_receive[0] == message_id:
                    return runspace.last_receive[1]
                answer = self._receive(host, runspace, body, message_id, budget, _operation_timeout(header), fleet)
                runspace.last_receive = (message_id, answer)
                return answer
            if action == SHELL + "/Signal":
                signal = _child(body, "rsp:Signal")
                self._signal(runspace, uuid.UUID(signal.get("CommandId", "")), signal.findtext("rsp:Code", "", NS))
                return 200, _envelope(SHELL + "/SignalResponse", message_id, "<rsp:SignalResponse/>")
        return 500, soap_fault(f"rds-sim does not implement the action {action} for PowerShell remoting")

    def _create(self, host: Host, body: ET.Element, message_id: str, budget: int) -> tuple[int, bytes]:
        shell = _child(body, "rsp:Shell")
        # The client names the pool: the ShellId it asks for is its runspace pool id.
        shell_id = (shell.get("ShellId") or str(uuid.uuid4())).upper()
        runspace = _Runspace(host.facts.get("ps_version", ""))
        creation = shell.findtext("{http://schemas.microsoft.com/powershell}creationXml", "")
        runspace.feed(base64.b64decode(creation), None)
        runspace.collect(budget)
        with self._lock:
            self._runspaces[shell_id] = runspace
        host.count("shells")
        uri = POWERSHELL_URI + CONFIGURATION
        return 200, _envelope(ACTION_CREATE + "Response", message_id, (
            "<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{uri}</w:ResourceURI><w:SelectorSet><w:Selector Name=\"ShellId\">{shell_id}"
            "</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>"
            f"<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId><rsp:ResourceUri>{uri}</rsp:ResourceUri>"
            "<rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams></rsp:Shell>"))

    def _command(self, host: Host, runspace: _Runspace, body: ET.Element, message_id: str, budget: int) -> tuple[int, bytes]:
        line = _child(body, "rsp:CommandLine")
        pipeline_id = uuid.UUID(line.get("CommandId") or str(uuid.uuid4()))
        runspace.pipelines[pipeline_id] = _Pipeline(runspace.pool, pipeline_id)
        host.count("commands")
        for argument in line.findall("rsp:Arguments", NS):
            runspace.feed(base64.b64decode(argument.text or ""), pipeline_id)
        runspace.collect(budget)
        command_id = str(pipeline_id).upper()
        return 200, _envelope(SHELL + "/CommandResponse", message_id,
                              f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>")

    def _receive(self, host: Host, runspace: _Runspace, body: ET.Element, message_id: str, budget: int,
                 timeout: float, fleet: Fleet) -> tuple[int, bytes]:
        command_id = (_child(body, "rsp:Receive/rsp:DesiredStream").get("CommandId") or "").upper()
        pipeline_id = uuid.UUID(command_id) if command_id else None
        pipeline = runspace.pipelines.get(pipeline_id) if pipeline_id else None
        if pipeline_id and pipeline is None:
            return 500, soap_fault(f"The command {command_id} does not exist in this shell.", FAULT_NO_SHELL)
        if pipeline is not None and not pipeline.ran:
            # Windows holds a Receive until there is output or the operation timeout passes.
            runspace.lock.release()
            try:
                ready = pipeline.ready.wait(timeout)
            finally:
                runspace.lock.acquire()
            if not ready:
                return 500, soap_fault("The WS-Management service cannot complete the operation within the time "
                                       "specified in OperationTimeout.", FAULT_OPERATION_TIMEOUT)
            if not pipeline.ran:
                pipeline.ran = True
                self._run(host, pipeline, fleet)
                runspace.collect(budget)
        fragments = runspace.take(pipeline_id, budget)
        target = f' CommandId="{command_id}"' if command_id else ""
        streams = "".join(f'<rsp:Stream Name="stdout"{target}>{base64.b64encode(data).decode()}</rsp:Stream>'
                          for data in fragments)
        state = ""
        if pipeline is not None:
            finished = pipeline.server.state not in (PSInvocationState.NotStarted, PSInvocationState.Running)
            done = finished and not runspace.outbox[pipeline_id]
            state = f'<rsp:CommandState CommandId="{command_id}" State="{DONE if done else RUNNING}"/>'
        return 200, _envelope(SHELL + "/ReceiveResponse", message_id, f"<rsp:ReceiveResponse>{streams}{state}</rsp:ReceiveResponse>")

    def _run(self, host: Host, pipeline: _Pipeline, fleet: Fleet) -> None:
        """Run the pipeline's script as the cmd shell runs the same command line, or refuse it."""
        commands = pipeline.server.metadata.commands if pipeline.server.metadata else []
        script = commands[0].command_text if len(commands) == 1 and commands[0].is_script else None
        if script is None or commands[0].parameters:
            self._refuse(pipeline, "rds-sim runs only the collection's bootstrap script in a PowerShell session")
            return
        # The psrp plugin decoded this script from the agent's encoded command line; encode it back.
        encoded = base64.b64encode(script.encode("utf-16-le")).decode("ascii")
        command = Command(f"{ENCODED_COMMAND_PREFIX} {encoded}")
        # 2.19+ sends one input object per line, 2.16-2.18 the whole text as one. The bootstrap joins $input with ''
        # and trims; for its one-line input that reads the same as this LF join.
        command.stdin += "\n".join(pipeline.input).encode("utf-8")
        stdout, stderr, _code = self._shells.execute(host, command, fleet)
        # Each line the agent prints is one string object in the pipeline's output.
        lines = stdout.decode("utf-8", errors="replace").split("\r\n")
        if lines[-1] == "":
            lines.pop()
        for line in lines:
            pipeline.server.write_output(line)
        if stderr:
            self._refuse(pipeline, stderr.decode("utf-8", errors="replace"))
            return
        pipeline.server.complete()

    @staticmethod
    def _refuse(pipeline: _Pipeline, message: str) -> None:
        """A script the host will not run: an error record, then the pipeline completes.

        pypsrp counts only a Failed pipeline as had_errors, so Ansible's psrp plugin reports rc 0 with the
        message as stderr; the controller then fails the task for the missing answer and shows that stderr.
        """
        pipeline.server.write_error(
            NETException(Message=message),
            ErrorCategoryInfo(Category=ErrorCategory.PermissionDenied, Reason="ScriptRefused"),
            fully_qualified_error_id="RdsSimScriptRefused")
        pipeline.server.complete()

    @staticmethod
    def _signal(runspace: _Runspace, pipeline_id: uuid.UUID, code: str) -> None:
        """Ctrl+C stops a running pipeline; either signal then forgets it (the client no longer reads it)."""
        pipeline = runspace.pipelines.pop(pipeline_id, None)
        if pipeline is None:
            return
        if code == SIGNAL_CTRL_C and pipeline.server.state == PSInvocationState.Running:
            pipeline.server.stop()
        if pipeline.server.state == PSInvocationState.Running:
            pipeline.server.complete()
        pipeline.server.close()
        runspace.collect(None)
        runspace.outbox.pop(pipeline_id, None)


def _child(parent: ET.Element, path: str) -> ET.Element:
    """A required element of the request; a malformed request becomes the handler's SOAP fault."""
    element = parent.find(path, NS)
    if element is None:
        raise ValueError(f"the request has no {path}")
    return element


def _max_envelope(header: ET.Element) -> int:
    try:
        return int(header.findtext("w:MaxEnvelopeSize", "153600", NS))
    except ValueError:
        return 153600


def _operation_timeout(header: ET.Element) -> float:
    """w:OperationTimeout as xs:duration seconds (PT20S, PT20.000S); 20 s when absent."""
    match = re.fullmatch(r"PT([0-9.]+)S", header.findtext("w:OperationTimeout", "", NS).strip())
    return float(match.group(1)) if match else 20.0
