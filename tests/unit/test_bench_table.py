"""The benchmark's arithmetic: medians, marginal cost per host, ratios, the tables, the wall model."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.bench import cases, table
from tests.bench.measure import run_measured
from tests.bench.run_bench import changed_count


def sample(case: str, hosts: int, cpu_s: float, commands_per_host: int = 1, rc: int = 0, latency: float = 0,
           side: str = "ours", **extra) -> dict:
    return {"hosts": hosts, "latency_ms": latency, "case": case, "side": side, "rc": rc, "wall_s": cpu_s,
            "cpu_s": cpu_s, "peak_rss_mb": 60.0, "commands": commands_per_host * hosts, "bytes_in": 1024 * hosts,
            "bytes_out": 512 * hosts, **extra}


def by_case(rows: list[dict]) -> dict:
    return {(row["case"], row["hosts"]): row for row in rows}


def test_medians_per_host_figures_and_ratios_at_one_size():
    rows = by_case(table.summarise([
        sample("floor_raw", 10, 1.0, side="floor"), sample("floor_raw", 10, 3.0, side="floor"),
        sample("floor_raw", 10, 2.0, side="floor"),
        sample("ours_info", 10, 2.5), sample("ours_info", 10, 2.5, rc=2),
        sample("peer_audit", 10, 10.0, commands_per_host=5, side="peer"),
    ]))
    floor, ours, peer = rows[("floor_raw", 10)], rows[("ours_info", 10)], rows[("peer_audit", 10)]
    assert floor["cpu_s"] == 2.0 and floor["runs"] == 3 and floor["cpu_ms_per_host"] == 200.0
    assert ours["failed_runs"] == 1 and ours["x_floor"] == pytest.approx(1.25)
    assert peer["x_ours"] == pytest.approx(4.0) and peer["commands_per_host"] == 5
    assert peer["cpu_ms_per_command"] == pytest.approx(200.0)
    assert peer["bytes_in_per_host"] == 1024 and peer["cpu_ms_marginal"] is None


def test_two_sizes_give_the_marginal_cost_without_the_fixed_start_up():
    # 1.0 CPU-s of start-up plus 50 ms per host for ours, 250 ms per host for the peer
    samples = [sample("ours_info", hosts, 1.0 + 0.05 * hosts) for hosts in (10, 100)]
    samples += [sample("peer_audit", hosts, 1.0 + 0.25 * hosts, side="peer") for hosts in (10, 100)]
    rows = by_case(table.summarise(samples))
    assert rows[("ours_info", 10)]["cpu_ms_per_host"] == pytest.approx(150.0)
    assert rows[("ours_info", 10)]["cpu_ms_marginal"] == pytest.approx(50.0)
    assert rows[("peer_audit", 100)]["x_ours"] == pytest.approx(5.0)
    assert rows[("peer_audit", 100)]["x_floor"] is None  # no floor run


def test_slope_needs_two_sizes():
    assert table.slope([(10, 1.0)]) is None
    assert table.slope([(10, 1.0), (10, 2.0)]) is None
    assert table.slope([(0, 1.0), (10, 2.0), (20, 3.0)]) == pytest.approx(0.1)


def test_text_and_markdown_tables_list_every_row_floor_first():
    rows = table.summarise([sample("peer_audit", 10, 4.0, side="peer"), sample("floor_raw", 10, 2.0, side="floor"),
                            sample("ours_info", 10, 2.0)])
    text = table.render_text(rows).splitlines()
    assert text[0].startswith("case") and [line.split()[0] for line in text[2:]] == ["floor_raw", "ours_info", "peer_audit"]
    markdown = table.render_markdown(rows).splitlines()
    assert len(markdown) == 5 and markdown[1].startswith("|---|")
    assert "| peer_audit | 10 |" in markdown[4]


def test_wall_model_bounds_by_host_waves_and_controller_cpu():
    rows = table.summarise([sample("ours_info", 100, 8.0),
                            sample("peer_audit", 100, 40.0, commands_per_host=5, side="peer", extra_starts_per_host=1)])
    model = {entry["case"]: entry for entry in table.wall_model(rows, hosts=1000, forks=50, startup_s=(0.5,), cores=2)}
    # ours: 80 ms/host -> 40 s on 2 cores; hosts: 20 waves x 1 start x 0.5 s = 10 s
    assert model["ours_info"]["controller_s"] == pytest.approx(40.0)
    assert model["ours_info"]["wall_s@0.5"] == pytest.approx([40.0, 50.0])
    # peer: 400 ms/host -> 200 s; hosts: 20 waves x 6 starts x 0.5 s = 60 s
    assert model["peer_audit"]["wall_s@0.5"] == pytest.approx([200.0, 260.0])


def test_every_case_builds_a_command(tmp_path):
    for case in cases.CASES:
        command = cases.command(case, "/venv/bin", "inv.yml", "fleet", str(tmp_path), 7)
        assert "7" in command
        if case.playbook:
            extra = json.loads(command[command.index("-e") + 1])
            assert extra["target_hosts"] == "all" and command[0].endswith("ansible-playbook")
            assert os.path.exists(command[5]) or command[5].startswith("remote_desktop.licensing.")
    report = cases.command(cases.BY_NAME["pb_licensing_report"], "/b", "i", "f", "/run", 1)
    assert json.loads(report[report.index("-e") + 1])["report_dir"] == "/run/report"


def test_a_measured_run_counts_the_cpu_of_the_whole_tree(tmp_path):
    # A grandchild burns CPU and writes down what its own rusage says; the run must include it.
    grandchild = ("import resource, sys; sum(range(3_000_000)); u = resource.getrusage(resource.RUSAGE_SELF); "
                  "open(sys.argv[1], 'w').write(str(u.ru_utime + u.ru_stime))")
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {grandchild!r}, sys.argv[1]], check=True)"
    report = tmp_path / "grandchild_cpu"
    result = run_measured([sys.executable, "-c", child, str(report)], str(tmp_path / "log"))
    assert result.rc == 0 and result.cpu_s >= float(report.read_text()) and result.peak_rss_mb > 1
    assert run_measured([sys.executable, "-c", "raise SystemExit(3)"], str(tmp_path / "log2")).rc == 3


def test_changed_count_sums_the_play_recap():
    output = """PLAY RECAP *********
fresh-01                   : ok=2    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
per-user-02                : ok=2    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
localhost                  : ok=3    changed=2    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
"""
    assert changed_count(output) == 3
    assert changed_count('{"hosts": 2, "failed": []}') is None


def test_a_playbook_is_compared_with_its_own_module_alone():
    # 40 ms per host for the module alone, 50 ms for the playbook that runs it once per host plus batch steps
    samples = [sample("ours_info", hosts, 1.0 + 0.04 * hosts) for hosts in (10, 100)]
    samples += [sample("ours_baseline_check", hosts, 1.0 + 0.04 * hosts) for hosts in (10, 100)]
    samples += [sample("pb_drift_check", hosts, 2.0 + 0.05 * hosts, module_case="ours_baseline_check") for hosts in (10, 100)]
    rows = by_case(table.summarise(samples))
    assert rows[("pb_drift_check", 100)]["x_module"] == pytest.approx(1.25)
    assert rows[("pb_drift_check", 100)]["x_ours"] == pytest.approx(1.25)
    assert rows[("ours_info", 100)]["x_module"] is None
    assert "x module" in table.render_text(list(rows.values())).splitlines()[0]

