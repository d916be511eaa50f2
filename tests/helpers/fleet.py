"""Start, inspect and stop an rds-sim fleet from tests, and run ansible-playbook against it."""

from __future__ import annotations

import json
import os
import subprocess
import time
import typing as t
import urllib.request

from tests.helpers.paths import ROOT, tool


class SimFleet:
    def __init__(self, directory: str):
        self.dir = str(directory)
        self.inventory = os.path.join(self.dir, "inventory.yml")

    def up(self, hosts: int, scenarios: list[str], faults: t.Iterable[str] = (), latency_ms: float = 0,
           transport: str = "basic", host_transports: t.Iterable[str] = (), limits: dict[str, int] | None = None,
           serve_peer_modules: bool = False) -> "SimFleet":
        """Start a fleet; limits maps `rds-sim up` limit flags without dashes (max_shells_per_user=3) to values."""
        command = [tool("rds-sim"), "up", "--dir", self.dir, "--hosts", str(hosts), "--latency-ms", str(latency_ms),
                   "--transport", transport]
        if serve_peer_modules:
            command.append("--serve-peer-modules")
        for scenario in scenarios:
            command += ["--scenario", scenario]
        for fault in faults:
            command += ["--fault", fault]
        for override in host_transports:
            command += ["--host-transport", override]
        for name, value in (limits or {}).items():
            command += [f"--{name.replace('_', '-')}", str(value)]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
        return self

    def down(self) -> None:
        subprocess.run([tool("rds-sim"), "down", "--dir", self.dir], capture_output=True, timeout=60)

    def meta(self) -> dict[str, t.Any]:
        """The fleet's fleet.json: port, credentials, host names."""
        with open(os.path.join(self.dir, "fleet.json"), encoding="utf-8") as handle:
            return json.load(handle)

    def transport_of(self, host: str) -> str:
        meta = self.meta()
        return meta.get("host_transports", {}).get(host, meta.get("transport", "basic"))

    def protocol_options(self, host: str) -> dict[str, t.Any]:
        """pywinrm Protocol arguments that reach a host over its transport, as the inventory does."""
        from rds_sim import transports

        meta = self.meta()
        name = self.transport_of(host)
        options: dict[str, t.Any] = {"endpoint": transports.endpoint(name, meta, host), "username": meta["username"],
                                     "password": meta["password"], "transport": "basic" if name == "basic" else "ntlm",
                                     "server_cert_validation": "ignore"}
        if name == "https-ca":
            options.update(server_cert_validation="validate", ca_trust_path=meta["tls"]["https-ca"]["ca"])
        return options

    def agent_client(self, host: str, **overrides: t.Any) -> t.Any:
        """A plain pywinrm client of one simulated host, over its transport (overrides: Protocol arguments)."""
        from tests.contract.agent_client import AgentClient

        return AgentClient(**{**self.protocol_options(host), **overrides})

    def _control(self, method: str, path: str, body: t.Any = None) -> t.Any:
        meta = self.meta()
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{meta['port']}/_sim/{path}", data=data, method=method,
                                         headers={"X-RDS-Sim-Token": meta.get("control_token", "")})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def hosts(self) -> list[str]:
        return self.meta()["hosts"]

    def show(self, host: str) -> dict[str, t.Any]:
        """What `rds-sim show` prints, through the CLI itself."""
        output = subprocess.run([tool("rds-sim"), "show", "--dir", self.dir, host],
                                check=True, capture_output=True, text=True, timeout=60).stdout
        return json.loads(output)

    def stats(self) -> dict[str, dict[str, int]]:
        output = subprocess.run([tool("rds-sim"), "stats", "--dir", self.dir],
                                check=True, capture_output=True, text=True, timeout=60).stdout
        return json.loads(output)

    def reset_stats(self) -> None:
        self._control("POST", "stats/reset", {})

    def put_host(self, host: str, state: dict[str, t.Any]) -> None:
        self._control("PUT", f"hosts/{host}", state)

    def set_faults(self, host: str, faults: dict[str, t.Any]) -> None:
        self._control("POST", f"hosts/{host}/faults", faults)

    def reset_host(self, host: str, scenario: str, faults: dict[str, t.Any] | None = None,
                   registry: dict[str, dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
        """Give a host a scenario's fresh state (plus values and faults) and zero its counters."""
        from rds_sim import scenarios

        state = scenarios.build(host, scenario, time.time())
        for path, values in (registry or {}).items():
            state["registry"].setdefault(path, {}).update(values)
        state["faults"] = faults or {}
        self.put_host(host, state)
        self.reset_stats()
        return self.show(host)

    def value(self, host: str, path: str, name: str) -> dict[str, t.Any] | None:
        """One value of a host's registry as `rds-sim show` reports it (None when absent)."""
        for key, values in self.show(host)["registry"].items():
            if key.lower() == path.lower():
                return next((value for value_name, value in values.items() if value_name.lower() == name.lower()), None)
        return None


class PlaybookRun(t.NamedTuple):
    rc: int
    output: str
    results: dict[str, dict[str, t.Any]]


def run_playbook(playbook: str, inventory: str | None, results_dir: str, extra_vars: dict[str, t.Any] | None = None,
                 args: t.Iterable[str] = (), env: dict[str, str] | None = None) -> PlaybookRun:
    """Run a playbook whose tasks save per-host results as JSON under results_dir/<host>.json
    (inventory None: no -i, only Ansible's implicit localhost)."""
    os.makedirs(results_dir, exist_ok=True)
    variables = {"results_dir": results_dir, **(extra_vars or {})}
    full_env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0", **(env or {})}
    completed = subprocess.run(
        [tool("ansible-playbook"), *(["-i", inventory] if inventory else []), playbook, "-e", json.dumps(variables), *args],
        cwd=ROOT, capture_output=True, text=True, env=full_env, timeout=900,
    )
    results = {}
    for name in os.listdir(results_dir):
        if name.endswith(".json"):
            with open(os.path.join(results_dir, name), encoding="utf-8") as handle:
                results[name[:-5]] = json.load(handle)
    return PlaybookRun(completed.returncode, completed.stdout + completed.stderr, results)


MODULE_PLAYBOOKS = os.path.join(ROOT, "tests", "integration", "playbooks")


def module_playbook_runner(fleet: SimFleet, tmp_path: t.Any, env: dict[str, str] | None = None) -> t.Callable[..., t.Any]:
    """run(playbook, host, args=(), **extra_vars): one of tests/integration/playbooks on one host, each run with its
    own results directory; returns (the host's result, the host's rds-sim counters, the output)."""
    def run(playbook: str, host: str, args: t.Iterable[str] = (), **options: t.Any) -> tuple[dict[str, t.Any], dict[str, t.Any], str]:
        results = tmp_path / f"run{len(list(tmp_path.glob('run*')))}"
        outcome = run_playbook(os.path.join(MODULE_PLAYBOOKS, playbook), fleet.inventory, str(results), options,
                               args=["--limit", host, *args], env=env)
        assert host in outcome.results, outcome.output
        assert "Traceback" not in outcome.output
        return outcome.results[host], fleet.stats()[host], outcome.output
    return run


def peer_collections_env() -> dict[str, str]:
    """ansible-playbook's environment with ansible.windows (win_reboot) next to the collection; ansible.windows
    comes from the PyPI wheel the benchmark pins, outside the project's virtualenv."""
    from tests.bench import peer_collection  # imported here: it fetches the wheel on first use
    from tests.helpers.paths import COLLECTIONS_PATH

    return {"ANSIBLE_COLLECTIONS_PATH": os.pathsep.join((COLLECTIONS_PATH, peer_collection.ensure_peer_collection()))}
