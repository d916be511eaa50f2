"""A fleet on disk and in a server: host state files, the Ansible inventory, and the control API
(/_sim/...) the CLI and tests use to inspect hosts, read counters and set faults."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import secrets
import socket
import threading
import time
import typing as t

import yaml

from rds_sim import scenarios, tls, transports, wmi
from rds_sim.agent import AgentRuntime
from rds_sim.auth import user_file_line
from rds_sim.host import Host
from rds_sim.limits import Limits
from rds_sim.transports import Transport

FAULT_KINDS = ("latency_ms", "refused", "http500", "soap_fault", "auth", "access_denied", "write_denied", "wmi_grace", "hang_s",
               "ownership_refused", "drop_before_write", "drop_after_write", "down_after_write",
               "not_elevated", "noisy_output", "truncated_output",
               "wmi_denied", "wmi_missing_class", "wmi_grace_no_days", "start_fails", "write_lock_held", "hold_writes")
DEFAULT_COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def host_names(count: int, scenario_list: list[str]) -> list[tuple[str, str]]:
    """Host names that say their scenario: fresh-01, per-user-02, ... (scenarios mixed round robin)."""
    width = max(2, len(str(count)))
    pairs = []
    for index in range(count):
        scenario = scenario_list[index % len(scenario_list)]
        label = scenario.replace("_", "-").replace("+", "-")
        pairs.append((f"{label}-{index + 1:0{width}d}", scenario))
    return pairs


def parse_fault(text: str) -> tuple[str, str, t.Any]:
    """HOST=KIND[:ARG], e.g. fresh-01=latency_ms:800 or per-user-02=access_denied:SOFTWARE\\Policies."""
    host, _, spec = text.partition("=")
    kind, _, arg = spec.partition(":")
    if not host or kind not in FAULT_KINDS:
        raise ValueError(f"bad fault '{text}': use HOST=KIND[:ARG] with KIND one of {', '.join(FAULT_KINDS)}")
    if kind in ("latency_ms", "hang_s"):
        return host, kind, float(arg or 0)
    if kind == "hold_writes":
        return host, kind, int(arg or 1)
    if kind == "wmi_grace_no_days" and arg:  # the ReturnValue GetGracePeriodDays answers (default 1)
        return host, kind, int(arg, 0)
    if kind in ("access_denied", "write_denied"):
        if not arg:
            raise ValueError(f"{kind} needs a key path: HOST={kind}:SOFTWARE\\Policies")
        return host, kind, [arg]
    return host, kind, True


def fleet_id(token: str) -> str:
    """What the ping answers to say which fleet it is, without giving the token away."""
    return hashlib.sha256(("rds-sim fleet " + token).encode()).hexdigest()[:32]


def validate_faults(faults: t.Any) -> dict[str, t.Any]:
    """A host's faults as the control API accepts them: an object of known kinds with the values `rds-sim fault`
    gives them (a list, or an unknown kind, once left a host that even --clear could not repair)."""
    if not isinstance(faults, dict):
        raise ValueError(f"faults must be a JSON object of KIND: value, not {type(faults).__name__}")
    for kind, value in faults.items():
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; kinds: {', '.join(FAULT_KINDS)}")
        if kind in ("access_denied", "write_denied"):
            if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
                raise ValueError(f"{kind} takes a list of key paths, e.g. [\"SOFTWARE\\\\Policies\"]")
        elif kind in ("latency_ms", "hang_s", "hold_writes"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{kind} takes a number of {'writes' if kind == 'hold_writes' else kind[-2:].strip('_')} >= 0")
        elif not isinstance(value, bool):
            raise ValueError(f"{kind} takes true or false")
    return faults


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FleetDir:
    """Paths of a fleet directory."""

    def __init__(self, directory: str):
        self.root = os.path.abspath(directory)
        self.hosts = os.path.join(self.root, "hosts")
        self.meta = os.path.join(self.root, "fleet.json")
        self.inventory = os.path.join(self.root, "inventory.yml")
        self.log = os.path.join(self.root, "server.log")
        self.tls = os.path.join(self.root, "tls")
        self.ntlm_users = os.path.join(self.root, "ntlm-users")

    def host_file(self, name: str) -> str:
        return os.path.join(self.hosts, f"{name}.json")

    def read_meta(self) -> dict[str, t.Any]:
        with open(self.meta, encoding="utf-8") as handle:
            return json.load(handle)

    def write_json(self, path: str, data: t.Any) -> None:
        temporary = path + ".tmp"
        # Owner only: fleet.json holds the fleet's password and control token.
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1, sort_keys=True)
        os.replace(temporary, path)


def create(directory: str, count: int, scenario_list: list[str], latency_ms: float,
           faults: list[str], port: int = 0, transport: str = "basic", host_transports: t.Sequence[str] = (),
           limits: Limits | None = None, serve_peer_modules: bool = False) -> dict[str, t.Any]:
    """Write a new fleet's host states, metadata, credentials, certificates and inventory."""
    for scenario in scenario_list:
        scenarios.validate(scenario)
    transports.get(transport)
    limits = (limits or Limits()).validate()
    paths = FleetDir(directory)
    os.makedirs(paths.hosts, exist_ok=True)
    for stale in os.listdir(paths.hosts):
        os.remove(os.path.join(paths.hosts, stale))
    now = time.time()
    states = {}
    for name, scenario in host_names(count, scenario_list):
        state = scenarios.build(name, scenario, now)
        if latency_ms:
            state["faults"]["latency_ms"] = latency_ms
        states[name] = state
    for text in faults:
        host, kind, arg = parse_fault(text)
        if host not in states:
            raise ValueError(f"fault names unknown host '{host}'")
        states[host]["faults"][kind] = arg
    overrides = dict(transports.parse_host_transport(text) for text in host_transports)
    unknown = sorted(set(overrides) - set(states))
    if unknown:
        raise ValueError(f"host transport names unknown host(s) {', '.join(unknown)}")
    for name, state in states.items():
        paths.write_json(paths.host_file(name), state)
    meta = {"control_token": secrets.token_hex(16), "port": port or _free_port(), "refused_port": _free_port(), "username": "ansible",
            "password": secrets.token_urlsafe(12), "hosts": list(states), "created": now,
            "transport": transport, "host_transports": overrides, "limits": dataclasses.asdict(limits),
            "serve_peer_modules": serve_peer_modules}
    _prepare_listeners(paths, meta)
    paths.write_json(paths.meta, meta)
    write_inventory(paths, meta, states)
    return meta


def _prepare_listeners(paths: FleetDir, meta: dict[str, t.Any]) -> None:
    """Ports for the listeners the fleet's transports need (HTTP always: it serves the control API),
    their certificates, and the NTLM account file."""
    used = {transports.get(name).listener for name in [meta["transport"], *meta["host_transports"].values()]}
    meta["listeners"] = {"http": meta["port"]}
    meta["tls"] = {}
    if "https" in used:
        meta["listeners"]["https"] = _free_port()
        meta["tls"]["https"] = tls.self_signed(paths.tls)
    if "https-ca" in used:
        meta["listeners"]["https-ca"] = _free_port()
        meta["tls"]["https-ca"] = tls.ca_signed(paths.tls)
    descriptor = os.open(paths.ntlm_users, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(user_file_line(meta["username"], meta["password"]))


def host_transport(meta: dict[str, t.Any], host: str) -> str:
    return meta.get("host_transports", {}).get(host, meta.get("transport", "basic"))


def write_inventory(paths: FleetDir, meta: dict[str, t.Any], states: dict[str, dict[str, t.Any]]) -> None:
    hosts: dict[str, t.Any] = {}
    groups: dict[str, dict[str, t.Any]] = {"rds_session_hosts": {"hosts": {}}, "rdp_clients": {"hosts": {}},
                                           "rds_license_servers": {"hosts": {}}}
    fleet_vars = transports.inventory_vars(meta["transport"], meta)
    for name, state in states.items():
        refused = state["faults"].get("refused")
        own = transports.inventory_vars(host_transport(meta, name), meta)
        hosts[name] = {
            **{key: value for key, value in own.items() if fleet_vars.get(key) != value},
            # Hosts are told apart by URL path (pypsrp adds the leading slash itself).
            "ansible_winrm_path": f"/wsman/{name}", "ansible_psrp_path": f"wsman/{name}",
            "rds_sim_scenario": state["scenario"],
        }
        if refused:
            hosts[name]["ansible_port"] = meta["refused_port"]
        if state["faults"].get("hang_s"):
            hosts[name].update({"ansible_winrm_read_timeout_sec": 4, "ansible_winrm_operation_timeout_sec": 3,
                                "ansible_psrp_read_timeout": 4, "ansible_psrp_operation_timeout": 3})
        group = ("rdp_clients" if "client_cache" in state["scenario"] else
                 "rds_license_servers" if "license_server" in state["scenario"] or "unactivated" in state["scenario"] else
                 "rds_session_hosts")
        groups[group]["hosts"][name] = None
        groups.setdefault(f"scenario_{state['scenario'].replace('+', '_')}", {"hosts": {}})["hosts"][name] = None
    inventory = {"all": {
        "hosts": hosts,
        "vars": {
            "ansible_host": "127.0.0.1", "ansible_user": meta["username"],
            "ansible_password": meta["password"], "ansible_winrm_server_cert_validation": "ignore", **fleet_vars,
        },
        "children": groups,
    }}
    with open(paths.inventory, "w", encoding="utf-8") as handle:
        handle.write("# Written by rds-sim: a simulated fleet on loopback.\n")
        yaml.safe_dump(inventory, handle, sort_keys=False, default_flow_style=False)


def _winrm_vars() -> dict[str, t.Any]:
    return {"ansible_connection": "winrm", "ansible_winrm_scheme": "http", "ansible_winrm_transport": "basic",
            "ansible_winrm_server_cert_validation": "ignore"}


def _psrp_vars() -> dict[str, t.Any]:
    # Basic auth over HTTP cannot encrypt messages; pypsrp refuses it unless encryption is "never".
    return {"ansible_connection": "psrp", "ansible_psrp_protocol": "http", "ansible_psrp_auth": "basic",
            "ansible_psrp_message_encryption": "never", "ansible_psrp_ignore_proxy": True}


class FleetServer:
    """The running fleet: hosts in memory, persisted on change and at shutdown."""

    def __init__(self, directory: str, collection_root: str = DEFAULT_COLLECTION_ROOT):
        self.paths = FleetDir(directory)
        self.meta = self.paths.read_meta()
        self.username = self.meta["username"]
        self.password = self.meta["password"]
        self.limits = Limits.from_meta(self.meta.get("limits"))
        self._transports = {name: transports.get(host_transport(self.meta, name)) for name in self.meta["hosts"]}
        # pyspnego's NTLM acceptor reads the accounts it accepts from this file.
        os.environ["NTLM_USER_FILE"] = self.paths.ntlm_users
        self.runtime = AgentRuntime(collection_root)
        # Off unless the fleet was created for benchmarking: normally every script but ours is refused.
        self.serve_peer_modules = bool(self.meta.get("serve_peer_modules"))
        self.hosts: dict[str, Host] = {}
        for name in self.meta["hosts"]:
            with open(self.paths.host_file(name), encoding="utf-8") as handle:
                self.hosts[name] = Host(json.load(handle))
        self.stop_requested = threading.Event()
        self.control_token = str(self.meta.get("control_token") or "")
        self.fleet_id = fleet_id(self.control_token)

    def authorised(self, token: str) -> bool:
        """The control API answers only requests carrying the fleet's token (fleet.json, readable by its owner only)."""
        return bool(self.control_token) and hmac.compare_digest(token.encode(), self.control_token.encode())

    def host(self, name: str) -> Host | None:
        return self.hosts.get(name)

    def transport_of(self, name: str) -> Transport:
        return self._transports[name]

    def host_changed(self, host: Host) -> None:
        if host.dirty:
            host.dirty = False
            self.save(host)

    def save(self, host: Host) -> None:
        with host.lock:
            state = host.to_state()
        self.paths.write_json(self.paths.host_file(host.name), state)

    def save_all(self) -> None:
        for host in self.hosts.values():
            self.save(host)
        self.paths.write_json(os.path.join(self.paths.root, "stats.json"), self.stats())

    def stats(self) -> dict[str, dict[str, int]]:
        return {name: dict(host.counters) for name, host in self.hosts.items()}

    def control(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        parts = path.split("?")[0].strip("/").split("/")[1:]
        if parts == ["ping"]:
            # The fleet's own token hash: `rds-sim down` checks it before signalling anything.
            return 200, json.dumps({"hosts": len(self.hosts), "pid": os.getpid(), "fleet": self.fleet_id}).encode()
        if parts == ["stats"]:
            return 200, json.dumps(self.stats()).encode()
        if parts == ["stats", "reset"] and method == "POST":
            for host in self.hosts.values():
                host.counters = {name: 0 for name in host.counters}
            return 200, b"{}"
        if parts == ["shutdown"] and method == "POST":
            self.stop_requested.set()
            return 200, b"{}"
        if len(parts) >= 2 and parts[0] == "hosts":
            host = self.hosts.get(parts[1])
            if host is None:
                return 404, json.dumps({"error": f"unknown host {parts[1]}"}).encode()
            if len(parts) == 2 and method == "GET":
                with host.lock:
                    # What Win32_TerminalServiceSetting answers now, for `rds-sim show` (derived, never saved).
                    return 200, json.dumps({**host.to_state(), "wmi": wmi.terminal_service_state(host)}).encode()
            if len(parts) == 2 and method == "PUT":
                replacement = Host(json.loads(body))
                replacement.counters = host.counters
                self.hosts[host.name] = replacement
                self.save(replacement)
                return 200, b"{}"
            if len(parts) == 3 and parts[2] == "faults" and method == "POST":
                try:
                    faults = validate_faults(json.loads(body))
                except ValueError as exc:
                    return 400, json.dumps({"error": str(exc)}).encode()
                with host.lock:
                    host.faults = faults
                self.save(host)
                return 200, b"{}"
        return 404, json.dumps({"error": f"no control endpoint {method} {path}"}).encode()
