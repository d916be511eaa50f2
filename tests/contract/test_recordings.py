"""Replays every recorded answer (tests/contract/recordings/, see docs/lab-validation.md) against rds-sim:
the recorded host must still satisfy today's vector, and rds-sim, set up as the vector says on the same
Windows release, must answer in the same shape. Once a real Server 2019/2022/2025 is recorded, the
simulator can no longer differ from it silently."""

from __future__ import annotations

import json
import os

import pytest
from rds_sim import scenarios

from tests.contract import recordings
from tests.contract.test_contract_vectors import VECTOR_DIR, initial_state, load, matches, real_host_expect
from tests.helpers.fleet import SimFleet

RECORDED = recordings.all_recordings()
OS_PRESET_BY_BUILD = {"9600": "ws2012r2", "14393": "ws2016", "17763": "ws2019", "20348": "ws2022", "26100": "ws2025"}


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("replay")).up(1, ["fresh"])
    host = fleet.hosts()[0]
    yield fleet, fleet.agent_client(host), host
    fleet.down()


def replay_scenario(vector: dict, recording: dict) -> dict:
    """The vector's host set-up on the recorded host's Windows release, where rds-sim has a preset for it."""
    setup = dict(vector["host"])
    preset = OS_PRESET_BY_BUILD.get(recording["host"]["build"].split(".")[0])
    if preset and recording["source"] == "windows" and preset not in setup["scenario"].split("+"):
        setup["scenario"] = f"{setup['scenario']}+{preset}"
    return {**vector, "host": setup}


def test_recordings_say_where_they_come_from():
    for path in RECORDED:
        recording = recordings.load(path)
        folder = os.path.basename(os.path.dirname(path))
        assert recording["source"] in recordings.SOURCES, path
        # Simulator answers are filed apart and never under a build number, so no one reads them as Windows.
        assert (folder == recordings.SIMULATOR_DIR) == (recording["source"] == "rds-sim"), path
        if recording["source"] == "windows":
            assert folder == recording["host"]["build"], path
        assert os.path.exists(os.path.join(VECTOR_DIR, recording["vector"] + ".json")), f"{path}: its vector is gone"


@pytest.mark.skipif(not RECORDED, reason="no recordings yet (make contract-record, docs/lab-validation.md)")
@pytest.mark.parametrize("path", RECORDED, ids=[os.path.relpath(path, recordings.RECORDINGS_DIR)[:-5] for path in RECORDED])
def test_rds_sim_answers_like_the_recorded_host(sim, path):
    fleet, client, host = sim
    recording = recordings.load(path)
    vector = load(os.path.join(VECTOR_DIR, recording["vector"] + ".json"))
    assert matches(real_host_expect(vector), recording["answer"]) == [], "the recorded host no longer satisfies the vector"
    replay = replay_scenario(vector, recording)
    fleet.put_host(host, initial_state(host, replay))
    answer = client.run(recording["request"])
    assert recordings.shape_problems(recording["answer"], answer) == [], json.dumps(answer, indent=1)


def test_shape_comparison_catches_what_matters():
    recorded = {"ok": True, "results": [{"id": "w", "ok": True, "grace_days_left": 12, "values": [
        {"name": "A", "type": "dword", "data": 1}, {"name": "Only-real", "type": "string", "data": "x"}]}]}
    same_shape = {"ok": True, "results": [{"id": "w", "ok": True, "grace_days_left": 99, "values": [
        {"name": "a", "type": "dword", "data": 7}]}]}
    assert recordings.shape_problems(recorded, same_shape) == []
    assert recordings.shape_problems(recorded, {"ok": True, "results": [{"id": "w", "ok": True, "grace_days_left": None,
                                                                         "values": []}]})
    assert recordings.shape_problems({"ok": True, "results": [{"id": "w", "ok": False, "error": {"kind": "x"}}]},
                                     {"ok": True, "results": [{"id": "w", "ok": True, "exists": True}]})


def test_scenarios_know_every_release_the_replay_maps_to():
    assert set(OS_PRESET_BY_BUILD.values()) <= set(scenarios.OS_PRESETS)


def test_loopback_endpoints_are_never_filed_as_windows(monkeypatch):
    monkeypatch.delenv("RDS_CONTRACT_SOURCE", raising=False)
    with pytest.raises(recordings.RecordingRefused, match="RDS_CONTRACT_SOURCE=rds-sim"):
        recordings.source_for("http://127.0.0.1:5985/wsman/fresh-01")
    assert recordings.source_for("https://win2022.lab.example:5986/wsman") == "windows"
    monkeypatch.setenv("RDS_CONTRACT_SOURCE", "rds-sim")
    assert recordings.source_for("http://127.0.0.1:5985/wsman/fresh-01") == "rds-sim"
