"""The agent's contract, as data: every vector passes against the simulator, and the vectors
marked for it pass against a real Windows host when one is configured:

    RDS_CONTRACT_ENDPOINT=https://win01:5986/wsman RDS_CONTRACT_USER=... RDS_CONTRACT_PASSWORD=...
    [RDS_CONTRACT_TRANSPORT=ntlm] [RDS_CONTRACT_CONNECTION=psrp] make contract   # or make contract-record

(docs/lab-validation.md describes the lab kit; tests/contract/test_recordings.py replays what was saved.)
Against the simulator every vector runs over both connections: WinRS (pywinrm, as the winrm plugin)
and PowerShell remoting (pypsrp, as the psrp plugin).

On a real host the read-only vectors run, and so do the "scratch" vectors, which write only under
SCRATCH_KEY: the runner prepares their values there first and deletes them afterwards (keys stay).
Vectors that need a simulated fault or touch live licensing keys are skipped. A vector with "lab_role":
"license_server" runs only against the license-server lab host (RDS_CONTRACT_ROLE=license_server), every
other one only against the session host (the default role). On a real host a vector's "real_host_expect",
when it has one, is checked instead of "expect": the lab's own data (server names, key packs) cannot be
known here, so the lab checks the shape and rds-sim the values.
"""

from __future__ import annotations

import copy
import glob
import json
import os
import time
import typing as t

import pytest
from rds_sim import scenarios

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _protocol

from tests.contract import recordings
from tests.contract.agent_client import AgentClient
from tests.contract.psrp_agent_client import PsrpAgentClient
from tests.helpers.fleet import SimFleet

VECTOR_DIR = os.path.join(os.path.dirname(__file__), "vectors")
SCRATCH_KEY = "SOFTWARE\\RemoteDesktopLicensingContract"
WRITE_OPS = tuple(name for name, operation in _protocol.OPERATIONS.items() if operation.writes)
VECTORS = sorted(glob.glob(os.path.join(VECTOR_DIR, "*.json")))
LAB_ROLES = ("session_host", "license_server")


def real_host_expect(vector: dict[str, t.Any]) -> t.Any:
    """What a real host's answer must satisfy."""
    return vector.get("real_host_expect", vector["expect"])


def load(path: str) -> dict[str, t.Any]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def matches(expected: t.Any, actual: t.Any, where: str = "$") -> list[str]:
    """Differences between an expected shape and an actual answer (dicts compare as subsets)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {actual!r}"]
        problems = []
        for key, value in expected.items():
            if key == "values_unordered":
                got = sorted(actual.get("values") or [], key=lambda entry: entry["name"])
                want = sorted(value, key=lambda entry: entry["name"])
                if got != want:
                    problems.append(f"{where}.values: expected {want!r}, got {got!r}")
            elif key == "subkeys_include":
                # Scratch keys stay on a real host between runs, so other vectors' subkeys may be there too.
                missing = [name for name in value if name not in (actual.get("subkeys") or [])]
                if missing:
                    problems.append(f"{where}.subkeys: {missing!r} missing from {actual.get('subkeys')!r}")
            elif key not in actual:
                problems.append(f"{where}.{key}: missing")
            else:
                problems += matches(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{where}: expected {len(expected)} items, got {actual!r}"]
        return [problem for index, (want, got) in enumerate(zip(expected, actual))
                for problem in matches(want, got, f"{where}[{index}]")]
    return [] if expected == actual else [f"{where}: expected {expected!r}, got {actual!r}"]


def test_matcher_reports_differences():
    assert matches({"a": 1, "b": [1, {"c": 2}]}, {"a": 1, "b": [1, {"c": 2, "d": 3}], "e": 0}) == []
    assert matches({"a": 1}, {"a": 2}) == ["$.a: expected 1, got 2"]
    assert matches({"b": [1]}, {"b": [1, 2]})
    assert matches({"x": 1}, {})


@pytest.fixture(scope="module")
def sim_fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("contract")).up(1, ["fresh"])
    yield fleet
    fleet.down()


@pytest.fixture(params=["winrm", "psrp"])
def sim(sim_fleet, request):
    """The simulated host and an agent client over one connection (one endpoint serves both)."""
    host = sim_fleet.hosts()[0]
    if request.param == "winrm":
        return sim_fleet, sim_fleet.agent_client(host), host
    meta = sim_fleet.meta()
    client = PsrpAgentClient(f"http://127.0.0.1:{meta['port']}/wsman/{host}", meta["username"], meta["password"])
    return sim_fleet, client, host


def initial_state(name: str, vector: dict[str, t.Any]) -> dict[str, t.Any]:
    setup = vector["host"]
    state = scenarios.build(name, setup["scenario"], time.time())
    for path, values in (setup.get("registry") or {}).items():
        state["registry"].setdefault(path, {}).update(copy.deepcopy(values))
    state["faults"] = copy.deepcopy(setup.get("faults") or {})
    state["facts"].update(copy.deepcopy(setup.get("facts") or {}))
    return state


def final_state_problems(client: AgentClient | PsrpAgentClient, final: list[dict[str, t.Any]]) -> list[str]:
    """Read each expected key back through the agent; a value of null must be absent."""
    ops = [{"id": str(index), "op": "read_key", "path": item["path"], "view": item["view"]} for index, item in enumerate(final)]
    answer = client.run({"version": 2, "ops": ops})
    problems = []
    for item, result in zip(final, answer["results"]):
        where = f"{item['path']} ({item['view']}-bit)"
        if item.get("exists") is False:
            if result.get("exists"):
                problems.append(f"{where}: key should not exist")
            continue
        values = {entry["name"].lower(): entry for entry in result.get("values") or []}
        for name, want in item.get("values", {}).items():
            got = values.get(name.lower())
            if want is None and got is not None:
                problems.append(f"{where} {name!r}: should be absent, is {got!r}")
            elif want is not None and (got is None or (got["type"], got["data"]) != (want["type"], want["data"])):
                problems.append(f"{where} {name!r}: expected {want!r}, got {got!r}")
    return problems


def writes_in(vector: dict[str, t.Any]) -> bool:
    return any(op.get("op") in WRITE_OPS for op in vector["request"].get("ops", []))


@pytest.mark.parametrize("path", VECTORS, ids=[os.path.basename(path)[:-5] for path in VECTORS])
def test_vector_against_the_simulator(sim, path):
    fleet, client, host = sim
    vector = load(path)
    fleet.put_host(host, initial_state(host, vector))
    before = fleet.show(host)["registry"]
    fleet.reset_stats()
    answer = client.run(vector["request"])
    assert matches(vector["expect"], answer) == [], json.dumps(answer, indent=1)
    if vector["final_registry"] == "unchanged":
        assert fleet.show(host)["registry"] == before
        if not writes_in(vector):
            assert fleet.stats()[host]["writes"] == 0
    else:
        assert final_state_problems(client, vector["final_registry"]) == []
    if "sim_facts" in vector:
        # What only the simulated host can show (key permissions, service states), as a subset.
        assert matches(vector["sim_facts"], fleet.show(host)["facts"]) == []


def test_every_vector_is_well_formed():
    assert len(VECTORS) >= 9
    for path in VECTORS:
        vector = load(path)
        assert set(vector) >= {"description", "real_host", "host", "request", "expect", "final_registry"}, path
        assert vector["real_host"] in ("read_only", "scratch", "no"), path
        assert vector.get("lab_role", "session_host") in LAB_ROLES, path
        if vector["real_host"] == "read_only":
            assert not writes_in(vector), path
        if vector["real_host"] == "scratch":
            touched = [op["path"] for op in vector["request"]["ops"]] + list(vector["host"].get("registry") or {})
            assert all(key.lower().startswith(SCRATCH_KEY.lower()) for key in touched), path
            assert not vector["host"].get("faults"), path


REAL = os.environ.get("RDS_CONTRACT_ENDPOINT")


@pytest.mark.skipif(not REAL, reason="no real Windows host configured (RDS_CONTRACT_ENDPOINT)")
@pytest.mark.parametrize("path", VECTORS, ids=[os.path.basename(path)[:-5] for path in VECTORS])
def test_vector_against_a_real_host(path):
    vector = load(path)
    if vector["real_host"] == "no":
        pytest.skip("needs a simulated fault or touches live licensing keys")
    role = os.environ.get("RDS_CONTRACT_ROLE", "session_host")
    if vector.get("lab_role", "session_host") != role:
        pytest.skip(f"for the {vector.get('lab_role', 'session_host')} lab host; this endpoint is the {role} (RDS_CONTRACT_ROLE)")
    client_class = PsrpAgentClient if os.environ.get("RDS_CONTRACT_CONNECTION") == "psrp" else AgentClient
    client = client_class(REAL, os.environ["RDS_CONTRACT_USER"], os.environ["RDS_CONTRACT_PASSWORD"],
                          os.environ.get("RDS_CONTRACT_TRANSPORT", "ntlm"))
    scratch_values = scratch_names(vector)
    if vector["real_host"] == "scratch":
        client.run({"version": 2, "ops": cleanup_ops(scratch_values) + setup_ops(vector)})
    try:
        answer = client.run(vector["request"])
        if os.environ.get("RDS_CONTRACT_RECORD"):
            # Saved before the check: a real answer that breaks a vector is exactly what the lab must send back.
            source = recordings.source_for(REAL)
            recordings.save(path, source, recordings.host_identity(client), vector["request"], answer)
        assert matches(real_host_expect(vector), answer) == [], json.dumps(answer, indent=1)
        if isinstance(vector["final_registry"], list):
            assert final_state_problems(client, vector["final_registry"]) == []
    finally:
        if vector["real_host"] == "scratch":
            client.run({"version": 2, "ops": cleanup_ops(scratch_values)})


def scratch_names(vector: dict[str, t.Any]) -> list[tuple[str, int, str]]:
    """Every (path, view, name) a scratch vector sets up, writes or checks."""
    names = {(path, 64, name) for path, values in (vector["host"].get("registry") or {}).items() for name in values}
    names |= {(op["path"], op.get("view", 64), op["name"]) for op in vector["request"]["ops"] if "name" in op}
    for item in vector["final_registry"] if isinstance(vector["final_registry"], list) else []:
        names |= {(item["path"], item["view"], name) for name in item.get("values", {})}
    return sorted(names)


def cleanup_ops(names: list[tuple[str, int, str]]) -> list[dict[str, t.Any]]:
    return [{"id": f"clean{index}", "op": "delete_value", "path": path, "view": view, "name": name}
            for index, (path, view, name) in enumerate(names)]


def setup_ops(vector: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    ops = []
    for path, values in (vector["host"].get("registry") or {}).items():
        if not values:  # an empty key: create it through a value that is removed again
            ops += [{"id": f"setup{len(ops)}", "op": "set_value", "path": path, "view": 64, "name": "contract-setup",
                     "type": "string", "data": ""},
                    {"id": f"setup{len(ops) + 1}", "op": "delete_value", "path": path, "view": 64, "name": "contract-setup"}]
        for name, value in values.items():
            data = str(value["data"]) if value["type"] in ("dword", "qword") else value["data"]
            ops.append({"id": f"setup{len(ops)}", "op": "set_value", "path": path, "view": 64, "name": name,
                        "type": value["type"], "data": data})
    return ops
