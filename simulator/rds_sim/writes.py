"""The agent's write operations on a simulated host, with the same undo journal as the PowerShell
agent: every write records how to undo itself before it changes anything, so a request with
rollback_on_error leaves the registry as it found it when a later write fails."""

from __future__ import annotations

import base64
import binascii
import typing as t

from rds_sim.host import Host, SimulatedFailure

WRITE_OPS = ("set_value", "delete_value", "restart_service")
VALUE_TYPES = ("string", "expandstring", "multistring", "dword", "qword", "binary", "none")
_LIMITS = {"dword": 0xFFFFFFFF, "qword": 0xFFFFFFFFFFFFFFFF}


class Journal:
    """Undo records, newest last: (view, path, name, created_key, prior value or None)."""

    def __init__(self) -> None:
        self.records: list[tuple[int, str, str, str | None, dict[str, t.Any] | None]] = []

    def rollback(self, host: Host) -> dict[str, t.Any]:
        for view, path, name, created_key, prior in reversed(self.records):
            if created_key is not None:
                host.registry.delete_tree(created_key, view)
            elif prior is not None:
                host.registry.set_value(path, prior["name"], prior["type"], prior["data"], view)
            else:
                host.registry.delete_value(path, name, view)
        host.dirty = host.dirty or bool(self.records)
        return {"performed": True, "undone": len(self.records), "errors": []}


def _wire_data(value_type: str, data: t.Any, path: str) -> t.Any:
    """Validate wire data as the agent's ConvertFrom-WireData would; return the stored form."""
    try:
        if value_type in _LIMITS:
            number = int(str(data), 10)
            if not 0 <= number <= _LIMITS[value_type] or not str(data).isdigit():
                raise ValueError(data)
            return number
        if value_type in ("string", "expandstring"):
            return "" if data is None else str(data)
        if value_type == "multistring":
            return [str(item) for item in (data or []) if item is not None]
        return base64.b64encode(base64.b64decode(str(data or ""), validate=True)).decode("ascii")
    except (ValueError, binascii.Error):
        raise SimulatedFailure("invalid_argument", f"Input string was not in a correct format: {data!r}") from None


def _missing_key(host: Host, path: str, view: int) -> str | None:
    parts = [part for part in path.split("\\") if part]
    for depth in range(1, len(parts) + 1):
        sub = "\\".join(parts[:depth])
        if not host.registry.key_exists(sub, view):
            return sub
    return None


def set_value(host: Host, op: dict[str, t.Any], journal: Journal) -> dict[str, t.Any]:
    path, view, name, value_type = str(op.get("path", "")), int(op.get("view", 64)), str(op.get("name", "")), op.get("type")
    if value_type not in VALUE_TYPES:
        return {"ok": False, "error": {"kind": "invalid_argument", "message": f"unknown value type: {value_type}", "path": path}}
    data = _wire_data(value_type, op.get("data"), path)
    host.check_write_access(path, view)
    missing = _missing_key(host, path, view)
    host.registry.create_key(path, view)
    prior = host.registry.get_value(path, name, view)
    journal.records.append((view, path, name, missing, prior))
    host.registry.set_value(path, name, value_type, data, view)
    host.count("writes")
    host.dirty = True
    stored = host.registry.get_value(path, name, view)
    return {"ok": True, "created_key": missing is not None, "replaced": prior is not None,
            "value": {"name": stored["name"], "type": stored["type"], "data": stored["data"]}}


def delete_value(host: Host, op: dict[str, t.Any], journal: Journal) -> dict[str, t.Any]:
    path, view, name = str(op.get("path", "")), int(op.get("view", 64)), str(op.get("name", ""))
    host.check_write_access(path, view)
    prior = host.registry.get_value(path, name, view)
    if prior is None:
        return {"ok": True, "existed": False}
    journal.records.append((view, path, name, None, prior))
    host.registry.delete_value(path, name, view)
    host.count("writes")
    host.dirty = True
    return {"ok": True, "existed": True}


def restart_service(host: Host, op: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"ok": True, "services": {str(name): host.restart_service(str(name)) for name in op.get("names") or []}}
