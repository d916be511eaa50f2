"""The agent's contract, as data: every vector passes against the simulator, and the vectors
marked for it pass against a real Windows host when one is configured:

    RDS_CONTRACT_ENDPOINT=https://win01:5986/wsman RDS_CONTRACT_USER=... RDS_CONTRACT_PASSWORD=...
    [RDS_CONTRACT_TRANSPORT=ntlm] make contract

On a real host only read-only vectors run; vectors that need a prepared registry are skipped.
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

from tests.contract.agent_client import AgentClient
from tests.helpers.fleet import SimFleet

VECTOR_DIR = os.path.join(os.path.dirname(__file__), "vectors")
VECTORS = sorted(glob.glob(os.path.join(VECTOR_DIR, "*.json")))


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
def sim(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("contract")).up(1, ["fresh"])
    host = fleet.hosts()[0]
    yield fleet, fleet.agent_client(host), host
    fleet.down()


def initial_state(name: str, vector: dict[str, t.Any]) -> dict[str, t.Any]:
    setup = vector["host"]
    state = scenarios.build(name, setup["scenario"], time.time())
    for path, values in (setup.get("registry") or {}).items():
        state["registry"].setdefault(path, {}).update(copy.deepcopy(values))
    state["faults"] = copy.deepcopy(setup.get("faults") or {})
    return state


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
        assert fleet.stats()[host]["writes"] == 0


def test_every_vector_is_well_formed():
    assert len(VECTORS) >= 9
    for path in VECTORS:
        vector = load(path)
        assert set(vector) >= {"description", "real_host", "host", "request", "expect", "final_registry"}, path
        assert vector["real_host"] in ("read_only", "needs_setup", "no"), path


REAL = os.environ.get("RDS_CONTRACT_ENDPOINT")


@pytest.mark.skipif(not REAL, reason="no real Windows host configured (RDS_CONTRACT_ENDPOINT)")
@pytest.mark.parametrize("path", VECTORS, ids=[os.path.basename(path)[:-5] for path in VECTORS])
def test_vector_against_a_real_host(path):
    vector = load(path)
    if vector["real_host"] != "read_only":
        pytest.skip("needs a prepared registry or a simulated fault")
    client = AgentClient(REAL, os.environ["RDS_CONTRACT_USER"], os.environ["RDS_CONTRACT_PASSWORD"],
                         os.environ.get("RDS_CONTRACT_TRANSPORT", "ntlm"))
    answer = client.run(vector["request"])
    assert matches(vector["expect"], answer) == [], json.dumps(answer, indent=1)
