"""`make bench` at two hosts, so the benchmark cannot silently rot: every kind of case runs for real
(ansible-playbook over winrm, pywinrm, ansible.windows against rds-sim), and a fleet that is not a
benchmark fleet still refuses everything but the collection's agent. No timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.bench import cases, peer_collection
from tests.bench.run_bench import _environment
from tests.helpers.fleet import SimFleet
from tests.helpers.paths import ROOT, tool


def test_bench_smoke_runs_every_kind_of_case(tmp_path):
    out = tmp_path / "bench"
    completed = subprocess.run(
        [sys.executable, "-m", "tests.bench.run_bench", "--sizes", "2", "--latency-ms", "0", "--reps", "1",
         "--cases", ",".join(cases.SMOKE_CASES), "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    with open(out / "latest.json", encoding="utf-8") as handle:
        result = json.load(handle)
    rows = {row["case"]: row for row in result["rows"]}
    assert set(rows) == set(cases.SMOKE_CASES)
    assert all(row["failed_runs"] == 0 and row["hosts"] == 2 for row in rows.values())
    # round trips per host: one command for each of ours, one per module task for the peer
    expected = {"floor_raw": 1, "floor_pywinrm": 1, "ours_info": 1, "ours_mode_check": 1, "peer_audit": 5,
                "peer_change_check": 2, "pb_licensing_report": 1}
    assert {case: row["commands_per_host"] for case, row in rows.items()} == expected
    assert rows["peer_audit"]["bytes_in_per_host"] > rows["ours_info"]["bytes_in_per_host"] > 0
    assert all(row["cpu_s"] > 0 and row["peak_rss_mb"] > 0 for row in rows.values())
    assert rows["ours_info"]["x_floor"] is not None and rows["peer_audit"]["x_ours"] is not None
    assert "peer_audit" in completed.stdout and (out / "latest.md").read_text().count("| peer_audit |") == 1
    assert {entry["case"] for entry in result["wall_model"]["cases"]} == set(cases.SMOKE_CASES)


def test_a_normal_fleet_refuses_the_peer_modules_and_raw_commands(tmp_path):
    env = _environment(peer_collection.ensure_peer_collection())
    fleet = SimFleet(tmp_path / "fleet").up(1, ["fresh"])
    try:
        for playbook in ("peer_audit.yml", "floor_raw.yml"):
            completed = subprocess.run(
                [tool("ansible-playbook"), "-i", fleet.inventory, os.path.join(cases.PLAYBOOKS, playbook)],
                cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
            assert completed.returncode != 0, completed.stdout
            assert "rds-sim refused the command" in completed.stdout, completed.stdout[-2000:]
        assert fleet.stats()["fresh-01"]["reads"] == 0
    finally:
        fleet.down()
