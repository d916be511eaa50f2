"""Fleet report records, summary and renderers, including hostile text in every format."""

from __future__ import annotations

import csv
import io
import json
import re

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _fleet_report as fleet

THRESHOLDS = {"warning_days": 30, "critical_days": 7}
HOSTILE = 'evil<script>alert(1)</script>|"quoted",comma'


def licensing(mode=5, servers=None, days=10, state="expiring", warnings=()):
    names = {2: "per_device", 4: "per_user", 5: "not_configured"}
    return {"licensing": {
        "mode": {"effective": mode, "effective_name": names[mode], "source": "local", "policy": None, "local": mode},
        "license_servers": {"effective": servers or [], "source": "local" if servers else "unset", "policy": None, "local": servers},
        "grace_period": {"days_left": days, "state": state}, "os": {"server_version": "Windows Server 2022"},
        "role": {"rdsh_installed": True}, "warnings": list(warnings)}}


def build(results, hosts, baseline=None, run_id=None, exclude_stale=False):
    records = [fleet.record(host, results.get(host), THRESHOLDS, baseline, run_id, exclude_stale) for host in hosts]
    return fleet.build(records, THRESHOLDS, baseline, "2026-11-28T10:00:00Z", run_id)


def test_statuses_and_summary():
    report = build({"a": licensing(), "b": {"unreachable": True, "msg": "refused"}, "c": {"failed": True, "msg": "boom"},
                    "d": licensing(4, ["ls01"], 0, "expired")}, ["d", "c", "b", "a", "e"], {"mode": "per_user"})
    statuses = {item["host"]: item["status"] for item in report["hosts"]}
    assert statuses == {"a": "ok", "b": "unreachable", "c": "failed", "d": "ok", "e": "missing"}
    summary = report["summary"]
    assert [item["host"] for item in report["hosts"]] == ["a", "b", "c", "d", "e"]
    assert (summary["reachable"], summary["unreachable"], summary["failed"], summary["missing"]) == (2, ["b"], ["c"], ["e"])
    assert summary["by_mode"] == {"not_configured": 1, "per_user": 1}
    # d is configured but its grace period is over: not verified, so "unknown", never "ok".
    assert summary["by_grace_class"] == {"unknown": 1, "warning": 1}
    assert summary["drifted_hosts"] == ["a"] and summary["critical_hosts"] == []


def test_csv_quotes_what_needs_quoting():
    report = build({HOSTILE: licensing(4, ["ls01", "ls02"], warnings=[HOSTILE])}, [HOSTILE])
    rows = list(csv.DictReader(io.StringIO(fleet.to_csv(report))))
    assert rows[0]["host"] == HOSTILE and rows[0]["license_servers"] == "ls01;ls02"
    assert tuple(rows[0]) == fleet.CSV_COLUMNS


def test_csv_neutralises_host_controlled_formulas():
    servers = ["=HYPERLINK(\"http://x\")", "ls02"]
    payloads = {"=cmd|' /C calc'!A0": licensing(4, servers, days=-3), "+1+1": licensing(), "@SUM(A1)": licensing(),
                "\tx": licensing(), "-2+3": {"failed": True, "msg": "=1+1"}}
    rows = {row["host"]: row for row in csv.DictReader(io.StringIO(fleet.to_csv(build(payloads, list(payloads)))))}
    assert set(rows) == {"'=cmd|' /C calc'!A0", "'+1+1", "'@SUM(A1)", "'\tx", "'-2+3"}
    assert rows["'=cmd|' /C calc'!A0"]["license_servers"] == "'=HYPERLINK(\"http://x\");ls02"
    assert rows["'=cmd|' /C calc'!A0"]["grace_days_left"] == "-3"  # a number stays a number
    assert rows["'-2+3"]["error"].startswith("'=1+1")
    for row in rows.values():
        assert not any(str(cell).startswith(("=", "+", "-", "@", "\t", "\r")) for key, cell in row.items()
                       if key != "grace_days_left"), row


def test_markdown_escapes_pipes():
    text = fleet.to_markdown(build({HOSTILE: licensing()}, [HOSTILE]))
    assert "evil<script>alert(1)</script>\\|" in text
    row = next(line for line in text.splitlines() if line.startswith("| evil"))
    assert row.count(" | ") == 9


def test_html_escapes_everything_and_fetches_nothing():
    page = fleet.to_html(build({HOSTILE: licensing(), "down": {"unreachable": True, "msg": HOSTILE}}, [HOSTILE, "down"],
                               {"mode": "per_user"}))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert 'class="bar warning"' in page and 'id="unreachable"' in page and 'id="drift"' in page


def test_json_round_trips():
    report = build({"a": licensing()}, ["a"])
    assert json.loads(fleet.to_json(report)) == report


def test_without_a_baseline_the_report_says_drift_was_not_checked():
    report = build({"a": licensing(5, None, 100, "active")}, ["a"])
    host = report["hosts"][0]
    assert host["drift"] is None and host["drift_count"] is None and report["summary"]["drift_checked"] is False
    assert host["grace_class"] == "unlicensed"  # not configured: not green
    page, text = fleet.to_html(report), fleet.to_markdown(report)
    assert "No drift" not in page and "no baseline given" in page.lower()
    assert "no baseline given" in text and "not checked" in text
    assert list(csv.DictReader(io.StringIO(fleet.to_csv(report))))[0]["drift_count"] == ""


def test_results_of_an_earlier_run_are_stale_or_excluded():
    old = {**licensing(), "run_id": "run-1", "read_at": "2026-11-20T08:00:00Z"}
    new = {**licensing(4, ["ls01"], 60, "active"), "run_id": "run-2", "read_at": "2026-11-28T08:00:00Z"}
    shown = build({"old": old, "new": new}, ["old", "new"], run_id="run-2")
    hosts = {item["host"]: item for item in shown["hosts"]}
    assert hosts["old"]["stale"] is True and hosts["new"]["stale"] is False and shown["summary"]["stale"] == ["old"]
    assert hosts["old"]["read_at"] == "2026-11-20T08:00:00Z" and "earlier run" in hosts["old"]["warnings"][0]
    assert "ok (stale)" in fleet.to_html(shown) and 'class="stale"' in fleet.to_html(shown)
    excluded = build({"old": old, "new": new}, ["old", "new"], run_id="run-2", exclude_stale=True)
    hosts = {item["host"]: item for item in excluded["hosts"]}
    assert hosts["old"]["status"] == "stale" and hosts["old"]["mode"] is None
    assert excluded["summary"]["excluded_stale"] == ["old"] and excluded["summary"]["reachable"] == 1


def test_a_stale_host_is_never_counted_as_unreachable_failed_or_reachable_in_this_run():
    """A --limit run that read both hosts it targeted, in a report_dir that holds an earlier run's unreachable and
    failed hosts: those are stale, not unreachable or failed of this run; every host is counted in one place only."""
    earlier = {"run_id": "run-1", "saved_at": "2026-11-27T08:00:00Z"}
    this = {"run_id": "run-2", "read_at": "2026-11-28T08:00:00Z"}
    results = {"rdsh01": {**licensing(4, ["ls01"], 60, "active"), **this}, "rdsh02": {**licensing(4, ["ls01"], 60, "active"), **this},
               "rdsh03": {"unreachable": True, "msg": "refused", **earlier}, "rdsh04": {"failed": True, "msg": "denied", **earlier},
               "rdsh05": {**licensing(4, ["ls01"], 60, "active"), **earlier}}
    report = build(results, sorted(results) + ["rdsh06"], {"mode": "per_user"}, run_id="run-2")
    summary = report["summary"]
    assert (summary["reachable"], summary["unreachable"], summary["failed"], summary["missing"]) == (2, [], [], ["rdsh06"])
    assert summary["stale"] == ["rdsh03", "rdsh04", "rdsh05"]
    assert summary["reachable"] + len(summary["unreachable"] + summary["failed"] + summary["missing"] + summary["stale"]) == \
        summary["hosts"]
    assert "| 6 | 2 | 0 | 0 | 1 |" in fleet.to_markdown(report)
    # The row still says what the earlier run found, marked stale; a host not read has no drift count, not 0.
    rows = {item["host"]: item for item in report["hosts"]}
    assert rows["rdsh03"]["status"] == "unreachable" and rows["rdsh03"]["stale"] is True
    assert (rows["rdsh03"]["drift_count"], fleet.drift_cell(rows["rdsh03"]), rows["rdsh01"]["drift_count"]) == (None, "not read", 0)
    assert "<td>unreachable (stale)</td>" in fleet.to_html(report)


def test_warnings_column_legend_and_colours_a_manager_can_read():
    report = build({"a": licensing(4, ["ls01", "ls02"], 0, "expired", warnings=["GPO overrides the mode"]),
                    "b": licensing(5, None, 100, "active")}, ["a", "b"], {"license_servers": ["ls09"]})
    row = {item["host"]: item for item in csv.DictReader(io.StringIO(fleet.to_csv(report)))}
    assert "GPO overrides the mode" in row["a"]["warnings"] and "not verified" in row["a"]["warnings"]
    page = fleet.to_html(report)
    assert 'id="legend"' in page and "Unknown (not verified)" in page and "Not licensed (in grace)" in page
    assert 'class="c-unknown"' in page and 'class="c-unlicensed"' in page
    assert fleet.CLASS_COLOURS["unknown"] != fleet.CLASS_COLOURS["ok"]
    # Lists are written as text, never as Python reprs.
    assert "[&#x27;" not in page and "['" not in page and "ls01, ls02" in page


def test_grace_histogram_follows_the_thresholds_and_splits_by_class():
    results = {"ended": licensing(5, None, 0, "expired"), "crit": licensing(5, None, 3), "warn": licensing(5, None, 20),
               "ok": licensing(4, ["ls01"], 20, "active"), "late": licensing(5, None, 100, "active"),
               "none": licensing(5, None, None, "unknown"), "rdp": licensing(5, None, None, "not_applicable"),
               "down": {"unreachable": True, "msg": "refused"}}
    report = build(results, list(results) + ["missing"])
    buckets = {bucket["label"]: bucket for bucket in report["summary"]["grace_histogram"]}
    assert list(buckets) == ["ended (0 or less)", "1-7 days", "8-30 days", "31-60 days", "61-90 days", "91-120 days",
                             "over 120 days", "no day count"]
    assert buckets["ended (0 or less)"]["by_class"] == {"critical": 1} and buckets["1-7 days"]["by_class"] == {"critical": 1}
    assert buckets["8-30 days"] == {"label": "8-30 days", "min": 8, "max": 30, "hosts": 2, "by_class": {"ok": 1, "warning": 1}}
    assert buckets["91-120 days"]["by_class"] == {"unlicensed": 1} and buckets["no day count"]["by_class"] == {"unknown": 1}
    assert sum(bucket["hosts"] for bucket in buckets.values()) == 6  # not the RDP client, nor hosts not read
    assert "| 8-30 days | 2 | OK 1, Warning 1 |" in fleet.to_markdown(report)
    # Other thresholds move the bucket edges with them.
    edges = [(item["min"], item["max"]) for item in fleet.chart.buckets({"warning_days": 45, "critical_days": 10})]
    assert edges == [(None, 0), (1, 10), (11, 30), (31, 45), (46, 60), (61, 90), (91, 120), (121, None), (None, None)]


def test_charts_do_not_grow_with_the_fleet():
    results = {f"h{index:05d}": licensing(5, None, index % 130 - 5, "expiring") for index in range(3000)}
    page = fleet.to_html(build(results, list(results)))
    heights = [int(value) for value in re.findall(r'<svg id="[a-z-]+"[^>]* height="(\d+)"', page)]
    assert len(heights) == 2 and max(heights) < 400 and page.count("<rect") <= 8 * 6 + 7
    assert '<details id="hosts-section"><summary>3000 host(s)' in page  # folded, not open


def test_short_tables_stay_open_and_the_host_source_is_said():
    report = build({"a": licensing()}, ["a"])
    page, text = fleet.to_html(report), fleet.to_markdown(report)
    assert '<details id="hosts-section" open>' in page
    assert "Hosts from the hosts given to the report" in page and "Hosts from the hosts given" in text


def test_only_what_a_row_needs_is_kept_from_a_saved_result():
    saved = {**licensing(4, ["ls01"], 50, "active"), "agent": {"user": "x"}, "run_id": "r", "read_at": "t", "changed": False}
    saved["licensing"]["services"] = {"TermService": {"state": "running"}}
    slim = fleet.saved_fields(saved)
    assert set(slim) == {"licensing", "run_id", "read_at"} and "services" not in slim["licensing"]
    assert fleet.record("a", slim, THRESHOLDS, {"mode": "per_user"}) == fleet.record("a", saved, THRESHOLDS, {"mode": "per_user"})
    assert fleet.saved_fields(["not", "a", "dict"]) == ["not", "a", "dict"]
