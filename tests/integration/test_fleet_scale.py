"""Scale: one simulator process holds a fleet of 1,000 hosts and answers many of them at once; the
fleet report renders 10,000 hosts' results."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import jsonschema

from tests.helpers import saved_results
from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _run_manifest, _wmi_reads


def test_thousand_host_fleet(tmp_path):
    fleet = SimFleet(tmp_path / "big").up(1000, ["fresh", "per_user", "gpo_conflict", "client_cache"])
    try:
        hosts = fleet.hosts()
        assert len(hosts) == 1000
        sample = hosts[::20]  # 50 hosts spread over the fleet, 25 at a time
        request = payload.build_request([_wmi_reads.terminal_service("wmi")])

        def licensing_type(host: str) -> int:
            return fleet.agent_client(host).run(request)["results"][0]["instances"][0]["values"]["LicensingType"]

        with ThreadPoolExecutor(max_workers=25) as pool:
            answers = dict(zip(sample, pool.map(licensing_type, sample)))
        expected = {"fresh": 5, "per-user": 4, "gpo-conflict": 2, "client-cache": 5}
        for host, mode in answers.items():
            assert mode == expected[host.rsplit("-", 1)[0]], host
        stats = fleet.stats()
        assert sum(item["commands"] for item in stats.values()) == len(sample)
    finally:
        fleet.down()


def test_fleet_report_renders_ten_thousand_hosts_without_an_inventory(tmp_path):
    """10,000 saved results (generated, no host contacted) and the run manifest; the shipped playbook
    renders them with no -i, lists the hosts without a result and keeps the charts a fixed size."""
    hosts = saved_results.host_names(10_000)
    written = saved_results.write_fleet(str(tmp_path), hosts, "night-10k")
    assert _run_manifest.write(str(tmp_path / "hosts"), "night-10k", hosts, "licensing_report", "2026-11-28T10:00:00Z")
    gone = ["rdsh-00001", "rdsh-04242", "rdsh-10000"]
    for host in gone:  # their batch stopped before its save step
        os.remove(tmp_path / "hosts" / f"{host}.json")
    run = run_playbook("remote_desktop.licensing.fleet_report", None, str(tmp_path / "unused"), {"report_dir": str(tmp_path)})
    assert run.rc == 0, run.output[-3000:]
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    with open(os.path.join(ROOT, "schemas", "fleet_report.schema.json"), encoding="utf-8") as handle:
        jsonschema.validate(report, json.load(handle))
    summary = report["summary"]
    assert summary["hosts"] == 10_000 and summary["hosts_source"] == "run_manifest" and summary["missing"] == gone
    kept = {host: result for host, result in written.items() if host not in gone}
    assert sorted(summary["unreachable"]) == sorted(host for host, result in kept.items() if result.get("unreachable"))
    session_hosts_read = sum(1 for item in report["hosts"] if item["status"] == "ok" and item["grace_class"] != "not_applicable")
    assert sum(bucket["hosts"] for bucket in summary["grace_histogram"]) == session_hosts_read > 9_000
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    charts = re.findall(r'<svg id="([a-z-]+)"[^>]* height="(\d+)"', page)
    assert [name for name, _height in charts] == ["grace-chart", "class-chart"]
    assert all(int(height) < 400 for _name, height in charts)  # was one 24 px row per host
    assert page.count("<rect") <= len(summary["grace_histogram"]) * 6 + 7  # (bucket, class) segments + classes
    # Per-host detail stays, folded: every host is a row of the table (and of the CSV).
    assert '<details id="hosts-section"><summary>10000 host(s)' in page and page.count("<tr>") >= 10_000
    with open(tmp_path / "report.csv", encoding="utf-8", newline="") as handle:
        assert sum(1 for _row in csv.DictReader(handle)) == 10_000


def test_fleet_report_bench_script_runs(tmp_path):
    """The script that reproduces the 10,000-host numbers, at 20 hosts so it cannot silently rot (no timing asserted)."""
    completed = subprocess.run([sys.executable, "-m", "tests.bench.fleet_report_bench", "--hosts", "20", "--reps", "1",
                                "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    result = json.loads((tmp_path / "fleet_report.json").read_text(encoding="utf-8"))
    assert set(result["samples"]) == {"inventory", "manifest"} and result["hosts"] == 20
    assert all(sample["rc"] == 0 and sample["user_s"] > 0 for runs in result["samples"].values() for sample in runs)
    assert set(result["stages_cpu_s"]) == {"load", "manifest", "records", "summary", "json", "csv", "md", "html"}
    assert "| manifest | 1 |" in completed.stdout
