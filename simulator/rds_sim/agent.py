"""The agent protocol as the simulated host serves it: the same operations, answers and error
kinds as the collection's PowerShell agent, applied to a Host model. Only the collection's own
bootstrap and agent text are accepted."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import typing as t

from rds_sim import writes
from rds_sim.host import Host, SimulatedFailure

PROTOCOL_VERSION = 1
READ_OPS = ("read_key", "wmi_terminal_service", "computer_system", "service_status")


def _load_payload_module(collection_root: str) -> t.Any:
    """The collection's own _agent_payload.py: the single definition of what is sent."""
    path = os.path.join(collection_root, "plugins", "plugin_utils", "_agent_payload.py")
    spec = importlib.util.spec_from_file_location("rds_sim_collection_payload", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ScriptRefused(Exception):
    """The host was sent a script that is not the collection's shipped agent."""


class AgentRuntime:
    """Recognises the shipped bootstrap and agent, and runs requests against hosts."""

    def __init__(self, collection_root: str):
        payload = _load_payload_module(collection_root)
        self.expected_command = payload.bootstrap_command()
        self.expected_agent_sha256 = payload.agent_sha256()

    def verify_command(self, command_line: str) -> None:
        if command_line != self.expected_command:
            raise ScriptRefused(
                "rds-sim refused the command: it is not the collection's shipped bootstrap "
                f"(got {hashlib.sha256(command_line.encode()).hexdigest()[:16]})"
            )

    @staticmethod
    def has_writes(stdin: bytes) -> bool:
        """Whether a request line carries a write operation (for the drop_*_write faults)."""
        try:
            ops = json.loads(stdin.decode("ascii"))["request"]["ops"]
            return any(op.get("op") in writes.WRITE_OPS for op in ops)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError):
            return False

    def run(self, host: Host, stdin: bytes) -> bytes:
        """Run one agent invocation; returns stdout (one JSON document), as the agent prints it."""
        try:
            envelope = json.loads(stdin.decode("ascii"))
        except (UnicodeDecodeError, ValueError) as exc:
            return _dump({"ok": False, "error": {"kind": "internal", "message": f"bad request line: {exc}", "path": None}})
        agent = envelope.get("agent", "")
        digest = hashlib.sha256(agent.encode("utf-8")).hexdigest()
        if digest != self.expected_agent_sha256:
            raise ScriptRefused(f"rds-sim refused the agent script: sha256 {digest[:16]} is not the shipped agent")
        return _dump(serve_request(host, envelope.get("request") or {}))


def _dump(document: dict[str, t.Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False) + "\r\n").encode("utf-8")


def serve_request(host: Host, request: dict[str, t.Any]) -> dict[str, t.Any]:
    if request.get("version") != PROTOCOL_VERSION:
        return {"ok": False, "version": PROTOCOL_VERSION, "error": {
            "kind": "unsupported", "path": None,
            "message": f"agent protocol {PROTOCOL_VERSION} cannot serve a request for protocol {request.get('version')}"}}
    rollback_on_error = bool(request.get("rollback_on_error"))
    stop_on_error = rollback_on_error or bool(request.get("stop_on_error"))
    results = []
    failed = False
    journal = writes.Journal()
    with host.lock:
        for op in request.get("ops") or []:
            if failed and stop_on_error:
                result: dict[str, t.Any] = {"ok": False, "skipped": True}
            else:
                try:
                    result = _operation(host, op, journal)
                except SimulatedFailure as failure:
                    result = {"ok": False, "error": {"kind": failure.kind, "message": str(failure), "path": op.get("path")}}
                failed = failed or not result["ok"]
            result["id"] = op.get("id")
            results.append(result)
        rollback = None
        if rollback_on_error:
            rollback = journal.rollback(host) if failed else {"performed": False, "undone": 0, "errors": []}
    facts = host.facts
    answer = {"ok": True, "version": PROTOCOL_VERSION,
              "host": {"ps_version": facts.get("ps_version", ""), "user": f"{facts.get('computer_name', 'HOST')}\\ansible",
                       "elevated": not host.faults.get("not_elevated", False)},
              "results": results}
    if rollback is not None:
        answer["rollback"] = rollback
    return answer


def _operation(host: Host, op: dict[str, t.Any], journal: writes.Journal) -> dict[str, t.Any]:
    name = op.get("op")
    if name == "set_value":
        return writes.set_value(host, op, journal)
    if name == "delete_value":
        return writes.delete_value(host, op, journal)
    if name == "restart_service":
        return writes.restart_service(host, op)
    if name == "read_tree":
        host.count("reads")
        return writes.read_tree(host, op)
    if name == "delete_tree":
        return writes.delete_tree(host, op, journal)
    if name == "create_key":
        return writes.create_key(host, op, journal)
    if name == "write_file":
        return writes.write_file(host, op)
    if name == "grace_reset":
        return writes.grace_reset(host, op)
    if name in READ_OPS:
        host.count("reads")
    if name == "read_key":
        path, view = str(op.get("path", "")), int(op.get("view", 64))
        host.check_access(path, view)
        if not host.registry.key_exists(path, view):
            return {"ok": True, "exists": False}
        return {"ok": True, "exists": True,
                "values": [_wire(entry) for entry in host.registry.values(path, view)],
                "subkeys": host.registry.subkeys(path, view)}
    if name == "wmi_terminal_service":
        return host.wmi_terminal_service()
    if name == "computer_system":
        domain = host.facts.get("domain", {})
        return {"ok": True, "name": host.facts.get("computer_name", host.name.upper()),
                "part_of_domain": bool(domain.get("part_of_domain")), "domain": domain.get("domain", "WORKGROUP"),
                "domain_role": int(domain.get("domain_role", 2))}
    if name == "service_status":
        services = host.facts.get("services", {})
        return {"ok": True, "services": {
            svc: ({"exists": True, "status": services[svc]} if svc in services else {"exists": False, "status": None})
            for svc in op.get("names") or []}}
    return {"ok": False, "error": {"kind": "invalid_argument", "message": f"unknown operation: {name}", "path": None}}


def _wire(entry: dict[str, t.Any]) -> dict[str, t.Any]:
    """Stored values are already in wire form; binary data is re-encoded to canonical base64."""
    data = entry["data"]
    if entry["type"] in ("binary", "none"):
        data = base64.b64encode(base64.b64decode(data or "")).decode("ascii")
    return {"name": entry["name"], "type": entry["type"], "data": data}
