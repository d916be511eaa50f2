"""Fleet report records, summary and renderers, including hostile text in every format."""

from __future__ import annotations

import csv
import io
import json

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


def build(results, hosts, baseline=None):
    records = [fleet.record(host, results.get(host), THRESHOLDS, baseline) for host in hosts]
    return fleet.build(records, THRESHOLDS, baseline, "2026-11-28T10:00:00Z")


def test_statuses_and_summary():
    report = build({"a": licensing(), "b": {"unreachable": True, "msg": "refused"}, "c": {"failed": True, "msg": "boom"},
                    "d": licensing(4, ["ls01"], 0, "expired")}, ["d", "c", "b", "a", "e"], {"mode": "per_user"})
    statuses = {item["host"]: item["status"] for item in report["hosts"]}
    assert statuses == {"a": "ok", "b": "unreachable", "c": "failed", "d": "ok", "e": "missing"}
    summary = report["summary"]
    assert [item["host"] for item in report["hosts"]] == ["a", "b", "c", "d", "e"]
    assert (summary["reachable"], summary["unreachable"], summary["failed"], summary["missing"]) == (2, ["b"], ["c"], ["e"])
    assert summary["by_mode"] == {"not_configured": 1, "per_user": 1}
    assert summary["by_grace_class"] == {"ok": 1, "warning": 1}
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
    assert row.count(" | ") == 7


def test_html_escapes_everything_and_fetches_nothing():
    page = fleet.to_html(build({HOSTILE: licensing(), "down": {"unreachable": True, "msg": HOSTILE}}, [HOSTILE, "down"],
                               {"mode": "per_user"}))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page
    assert 'class="bar warning"' in page and 'id="unreachable"' in page and 'id="drift"' in page


def test_json_round_trips():
    report = build({"a": licensing()}, ["a"])
    assert json.loads(fleet.to_json(report)) == report
