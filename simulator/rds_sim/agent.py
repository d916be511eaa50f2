"""The agent protocol as the simulated host serves it: the same operations, answers and error
kinds as the collection's PowerShell agent, applied to a Host model. Only the collection's own
bootstrap and agent text are accepted."""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib.util
import json
import os
import time
import typing as t
import zlib

from rds_sim import powershell_exe, wmi, writes
from rds_sim.host import Host, SimulatedFailure, refusal

PROTOCOL_VERSION = 2


def _load_payload_module(collection_root: str) -> t.Any:
    """The collection's own _agent_payload.py: the single definition of what is sent."""
    path = os.path.join(collection_root, "plugins", "plugin_utils", "_agent_payload.py")
    spec = importlib.util.spec_from_file_location("rds_sim_collection_payload", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ScriptRefused(Exception):
    """The host was sent a command or script that is not the collection's shipped one (stderr text, exit code)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class AgentRuntime:
    """Recognises the shipped bootstrap and agent, and runs requests against hosts."""

    def __init__(self, collection_root: str):
        self.payload = _load_payload_module(collection_root)
        self.expected_script = self.payload.bootstrap_text()
        self.expected_agent_sha256 = self.payload.agent_sha256()

    def verify_command(self, command_line: str) -> None:
        """Decode the command line as cmd.exe and powershell.exe would; refuse any script but the bootstrap."""
        try:
            script = powershell_exe.script_of(command_line)
        except powershell_exe.CommandFailed as failed:
            raise ScriptRefused(failed.stderr, failed.exit_code) from None
        self.verify_script(script)

    def verify_script(self, script: str) -> None:
        if script != self.expected_script:
            raise ScriptRefused(
                "rds-sim refused the command: its script is not the collection's shipped bootstrap "
                f"(got sha256 {hashlib.sha256(script.encode()).hexdigest()[:16]})"
            )

    def has_writes(self, stdin: bytes) -> bool:
        """Whether a request line carries a write operation (for the drop_*_write faults)."""
        try:
            ops = self.payload.split_stdin_line(stdin)[1]["ops"]
            return any(op.get("op") in WRITE_OPS for op in ops)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, zlib.error, binascii.Error):
            return False

    def run(self, host: Host, stdin: bytes) -> bytes:
        """Run one agent invocation; returns stdout (one JSON document), as the agent prints it."""
        try:
            agent, request = self.payload.split_stdin_line(stdin)
        except self.payload.BootstrapFailure as failure:
            # Decoded as the bootstrap decodes (Ascii85, DeflateStream); where it fails, its catch block answers.
            return (self.payload.BOOTSTRAP_FAILURE % failure.exception_type + "\r\n").encode("utf-8")
        except (UnicodeDecodeError, ValueError, zlib.error, binascii.Error) as exc:
            return _dump({"ok": False, "error": {"kind": "internal", "message": f"bad request line: {exc}", "path": None}})
        digest = hashlib.sha256(agent.encode("utf-8")).hexdigest()
        if digest != self.expected_agent_sha256:
            raise ScriptRefused(f"rds-sim refused the agent script: sha256 {digest[:16]} is not the shipped agent")
        return _dump(serve_request(host, request if isinstance(request, dict) else {}))


def _dump(document: dict[str, t.Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False) + "\r\n").encode("utf-8")


def serve_request(host: Host, request: dict[str, t.Any]) -> dict[str, t.Any]:
    # The agent reads the version as [int] (a missing one is 0) before it compares.
    try:
        asked = int(request.get("version") or 0)
    except (TypeError, ValueError):
        asked = 0
    if asked != PROTOCOL_VERSION:
        return {**refusal("unsupported", "protocol", None, [PROTOCOL_VERSION, asked]), "version": PROTOCOL_VERSION}
    rollback_on_error = bool(request.get("rollback_on_error"))
    stop_on_error = rollback_on_error or bool(request.get("stop_on_error"))
    ops = request.get("ops") or []
    results = []
    failed = False
    journal = writes.Journal()
    if rollback_on_error:
        _hold_write(host)
    # The host lock models the agent's host-wide write mutex (and keeps the model consistent for reads).
    if not host.lock.acquire(timeout=WRITE_MUTEX_WAIT_SECONDS):
        return _refuse_all(host, ops, _busy())
    try:
        # write_lock_held: another process holds the agent's write mutex past the agent's bounded wait.
        refused = _busy() if rollback_on_error and host.faults.get("write_lock_held") else None
        conflicts = {} if refused else writes.conflicts(host, ops)
        for index, op in enumerate(ops):
            if refused or conflicts:
                result: dict[str, t.Any] = {"ok": False, "skipped": True}
                if refused and index == 0:
                    result = {"ok": False, "error": refused}
                if str(op.get("id")) in conflicts:
                    result = {"ok": False, "error": conflicts[str(op.get("id"))]}
                failed = True
            elif failed and stop_on_error:
                result = {"ok": False, "skipped": True}
            else:
                try:
                    result = _operation(host, op, journal)
                except SimulatedFailure as failure:
                    result = {"ok": False, "error": failure.error(op.get("path"))}
                failed = failed or not result["ok"]
            result["id"] = op.get("id")
            results.append(result)
        rollback = None
        if rollback_on_error:
            rollback = journal.rollback(host) if failed else {"performed": False, "undone": 0, "errors": []}
    finally:
        host.lock.release()
    facts = host.facts
    answer = {"ok": True, "version": PROTOCOL_VERSION,
              "host": {"ps_version": facts.get("ps_version", ""), "user": f"{facts.get('computer_name', 'HOST')}\\ansible",
                       "elevated": not host.not_elevated()},
              "results": results}
    if rollback is not None:
        answer["rollback"] = rollback
    return answer


# The agent's bounded wait for its host-wide write mutex ($WriteMutexWaitSeconds).
WRITE_MUTEX_WAIT_SECONDS = 60
# How long a write held by the hold_writes fault waits at most for the fault to be cleared.
HOLD_LIMIT_SECONDS = 300


def _busy() -> dict[str, t.Any]:
    return refusal("conflict", "busy", None, WRITE_MUTEX_WAIT_SECONDS)["error"]


def _refuse_all(host: Host, ops: list[dict[str, t.Any]], error: dict[str, t.Any]) -> dict[str, t.Any]:
    results = [{"ok": False, "error": error, "id": op.get("id")} if index == 0 else {"ok": False, "skipped": True, "id": op.get("id")}
               for index, op in enumerate(ops)]
    return {"ok": True, "version": PROTOCOL_VERSION, "host": {"ps_version": host.facts.get("ps_version", ""),
            "user": f"{host.facts.get('computer_name', 'HOST')}\\ansible", "elevated": not host.not_elevated()},
            "results": results, "rollback": {"performed": True, "undone": 0, "errors": []}}


def _hold_write(host: Host) -> None:
    """The hold_writes:N fault: the host's next N write requests wait here (after their run has read the host)
    until the fault is cleared, so a test can let another run write in between, as a slow network would."""
    with host.lock:
        if host.counters["held_writes"] >= int(host.faults.get("hold_writes") or 0):
            return
        host.count("held_writes")
    deadline = time.monotonic() + HOLD_LIMIT_SECONDS
    while host.faults.get("hold_writes") and time.monotonic() < deadline:
        time.sleep(0.05)


def _read_key(host: Host, op: dict[str, t.Any], whole_tree: bool = False) -> dict[str, t.Any]:
    """read_key: one key's values and subkey names; read_tree: the key and every subkey below it."""
    path, view = str(op.get("path", "")), int(op.get("view", 64))
    host.check_access(path, view)
    if not host.registry.key_exists(path, view):
        return {"ok": True, "exists": False}
    if whole_tree:
        tree = writes.key_tree(host, path, view)
        limit = int(op.get("max_keys", 10000))
        if len(tree) > limit:
            raise SimulatedFailure("invalid_argument", f"more than {limit} keys in the tree; export a smaller key")
        keys = [{"path": key, "values": [_wire(entry) for entry in values]} for key, values in tree.items()]
        if op.get("acl"):
            for entry in keys:
                entry["sddl"] = writes.key_sddl(host, entry["path"], view)
        return {"ok": True, "exists": True, "keys": keys}
    answer = {"ok": True, "exists": True,
              "values": [_wire(entry) for entry in host.registry.values(path, view)],
              "subkeys": host.registry.subkeys(path, view)}
    if op.get("acl"):
        answer["sddl"] = writes.key_sddl(host, path, view)
    return answer


def _service_status(host: Host, op: dict[str, t.Any]) -> dict[str, t.Any]:
    services = host.facts.get("services", {})
    return {"ok": True, "services": {
        svc: ({"exists": True, "status": services[svc]} if svc in services else {"exists": False, "status": None})
        for svc in op.get("names") or []}}


# Each operation's handler: reads take (host, op); writes also take the request's undo journal.
_READS: dict[str, t.Callable[[Host, dict[str, t.Any]], dict[str, t.Any]]] = {
    "read_key": _read_key,
    "read_tree": lambda host, op: _read_key(host, op, whole_tree=True),
    "cim_read": wmi.cim_read,
    "service_status": _service_status,
}
_WRITES: dict[str, t.Callable[[Host, dict[str, t.Any], writes.Journal], dict[str, t.Any]]] = {
    "set_value": writes.set_value,
    "delete_value": writes.delete_value,
    "delete_tree": writes.delete_tree,
    "create_key": writes.create_key,
    "set_key_dacl": writes.set_key_dacl,
    "restart_service": lambda host, op, _journal: writes.restart_service(host, op),
    "write_file": lambda host, op, _journal: writes.write_file(host, op),
    "grace_reset": lambda host, op, _journal: writes.grace_reset(host, op),
}

WRITE_OPS = tuple(_WRITES)


def _operation(host: Host, op: dict[str, t.Any], journal: writes.Journal) -> dict[str, t.Any]:
    name = op.get("op")
    if name in _READS:
        host.count("reads")
        return _READS[name](host, op)
    if name in _WRITES:
        return _WRITES[name](host, op, journal)
    return refusal("invalid_argument", "unknown_op", None, name)


def _wire(entry: dict[str, t.Any]) -> dict[str, t.Any]:
    """Stored values are already in wire form; binary data is re-encoded to canonical base64. A kind
    outside the seven is 'unknown' with its kind number and, where .NET returns them, its bytes."""
    data = entry["data"]
    if entry["type"] in ("binary", "none"):
        data = base64.b64encode(base64.b64decode(data or "")).decode("ascii")
    if entry["type"] == "unknown":
        return {"name": entry["name"], "type": "unknown", "kind": entry.get("kind"), "data": data,
                "exact": bool(entry.get("exact"))}
    return {"name": entry["name"], "type": entry["type"], "data": data}
