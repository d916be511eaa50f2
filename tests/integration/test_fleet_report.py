"""The fleet report end to end: collect over winrm (whole, or in three slices as AWX job slicing
would), render once on the controller, and check every file a user opens."""

from __future__ import annotations

import csv
import json
import os
import re

import jsonschema
import pytest

from tests.helpers.browser import needs_browser, rendered_dom
from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT

SCENARIOS = ["fresh", "per_device", "gpo_conflict", "grace_expiring", "grace_expired", "client_cache", "per_user"]
BASELINE = {"mode": "per_user", "forbid_policy_conflicts": True}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("report-fleet")).up(len(SCENARIOS), SCENARIOS, faults=["per-user-07=refused"])
    yield fleet
    fleet.down()


def collect(fleet, report_dir, args=(), **extra):
    """licensing_report over the fleet; per-user-07 is unreachable, tolerated unless tolerate_unread_hosts=False."""
    variables = {"report_dir": str(report_dir), "baseline": BASELINE, "target_hosts": "all", "tolerate_unread_hosts": True,
                 **extra}
    return run_playbook("remote_desktop.licensing.licensing_report", fleet.inventory, str(report_dir / "unused"),
                        variables, args=list(args))


@pytest.fixture(scope="module")
def whole(fleet, tmp_path_factory):
    report_dir = tmp_path_factory.mktemp("whole")
    run = collect(fleet, report_dir, tolerate_unread_hosts=False)
    # The job fails on the unreachable host, after the report was written.
    assert run.rc != 0 and "1 host(s) of this run could not be read: per-user-07" in " ".join(run.output.split()), run.output
    with open(report_dir / "report.json", encoding="utf-8") as handle:
        return report_dir, json.load(handle)


def test_report_json_validates_against_its_schema(whole):
    _dir, report = whole
    with open(os.path.join(ROOT, "schemas", "fleet_report.schema.json"), encoding="utf-8") as handle:
        jsonschema.validate(report, json.load(handle))
    assert report["summary"]["hosts"] == len(SCENARIOS)
    assert report["summary"]["unreachable"] == ["per-user-07"]
    assert report["summary"]["critical_hosts"] == ["grace-expired-05", "grace-expiring-04"]
    assert report["summary"]["by_mode"] == {"not_configured": 4, "per_device": 2}


def test_unreachable_hosts_are_listed_as_unreachable(whole):
    _dir, report = whole
    (down,) = [item for item in report["hosts"] if item["host"] == "per-user-07"]
    assert down["status"] == "unreachable" and "refused" in down["error"].lower()


def test_drift_and_policy_in_the_report(whole):
    _dir, report = whole
    hosts = {item["host"]: item for item in report["hosts"]}
    assert hosts["gpo-conflict-03"]["drift_count"] == 3
    assert all(item["gpo_overrides_local_fix"] for item in hosts["gpo-conflict-03"]["drift"])
    assert hosts["client-cache-06"]["drift_count"] == 0  # not a Session Host
    assert report["summary"]["drifted_hosts"] == ["fresh-01", "gpo-conflict-03", "grace-expired-05",
                                                  "grace-expiring-04", "per-device-02"]


def test_csv_has_the_documented_header_and_one_row_per_host(whole):
    report_dir, _report = whole
    with open(report_dir / "report.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["host", "status", "read_at", "stale", "os", "mode", "mode_source", "license_servers",
                             "grace_days_left", "grace_state", "grace_class", "drift_count", "warnings", "error"]
    assert [row["host"] for row in rows] == sorted(SCENARIOS_HOSTS())
    gpo = next(row for row in rows if row["host"] == "gpo-conflict-03")
    assert gpo["license_servers"] == "ls01.example.test;ls02.example.test" and gpo["mode_source"] == "policy"


def SCENARIOS_HOSTS():  # noqa: N802 - reads like the constant it derives from
    return [f"{name.replace('_', '-')}-{index:02d}" for index, name in enumerate(SCENARIOS, 1)]


def test_markdown_summary_table(whole):
    report_dir, _report = whole
    text = (report_dir / "report.md").read_text(encoding="utf-8")
    assert "| Hosts | Reachable | Unreachable | Failed | Missing | Drifted | Critical | Stale |" in text
    assert f"| {len(SCENARIOS)} | 6 | 1 | 0 | 0 | 5 | 2 | 0 |" in text


def test_three_slices_rendered_afterwards_give_the_same_report(fleet, whole, tmp_path):
    _dir, report = whole
    hosts = SCENARIOS_HOSTS()
    for part in range(3):  # every slice of one workflow saves with the same run id
        run = collect(fleet, tmp_path, ["--limit", ",".join(hosts[part::3])], render_report=False, run_id="workflow-7")
        assert run.rc == 0, run.output
        assert not (tmp_path / "report.json").exists()
    render = run_playbook("remote_desktop.licensing.fleet_report", fleet.inventory, str(tmp_path / "unused"),
                          {"report_dir": str(tmp_path), "baseline": BASELINE, "run_id": "workflow-7", "target_hosts": "all"})
    assert render.rc == 0, render.output
    with open(tmp_path / "report.json", encoding="utf-8") as handle:
        sliced = json.load(handle)
    assert sliced["summary"]["stale"] == [] and sliced["run_id"] == "workflow-7"
    for document in (sliced, report):
        for key in ("generated_at", "run_id"):
            document.pop(key)
        for host in document["hosts"]:
            host.pop("read_at"), host.pop("run_id")
    assert sliced == report


def test_a_host_without_any_saved_result_is_missing_not_dropped(fleet, tmp_path):
    run = collect(fleet, tmp_path, ["--limit", "fresh-01"], render_report=False)
    assert run.rc == 0, run.output
    render = run_playbook("remote_desktop.licensing.fleet_report", fleet.inventory, str(tmp_path / "unused"),
                          {"report_dir": str(tmp_path), "target_hosts": "all"})
    assert render.rc == 0, render.output
    with open(tmp_path / "report.json", encoding="utf-8") as handle:
        summary = json.load(handle)["summary"]
    assert summary["hosts"] == len(SCENARIOS) and len(summary["missing"]) == len(SCENARIOS) - 1


def test_without_an_inventory_the_run_manifest_lists_hosts_without_a_result(fleet, tmp_path):
    run = collect(fleet, tmp_path, render_report=False, run_id="night-3")
    assert run.rc == 0, run.output
    (manifest,) = os.listdir(tmp_path / "runs")  # one play, one manifest
    assert manifest.startswith("night-3--")
    assert json.loads((tmp_path / "runs" / manifest).read_text(encoding="utf-8"))["hosts"] == sorted(SCENARIOS_HOSTS())
    # A host whose result never reached the controller (its batch stopped before the save step).
    os.remove(tmp_path / "hosts" / "grace-expired-05.json")
    render = run_playbook("remote_desktop.licensing.fleet_report", None, str(tmp_path / "unused"), {"report_dir": str(tmp_path)})
    assert render.rc == 0, render.output
    assert "No inventory was parsed" in render.output and "(from run manifest)" in render.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    with open(os.path.join(ROOT, "schemas", "fleet_report.schema.json"), encoding="utf-8") as handle:
        jsonschema.validate(report, json.load(handle))
    summary = report["summary"]
    assert summary["hosts_source"] == "run_manifest" and report["run_id"] == "night-3"
    assert summary["hosts"] == len(SCENARIOS) and summary["missing"] == ["grace-expired-05"]
    assert summary["unreachable"] == ["per-user-07"]
    # Every host is counted somewhere: the missing one in the console line and in the report's header too.
    assert "unreachable 1;" in render.output and "missing 1;" in render.output, render.output
    assert "| 0 | 1 |" in (tmp_path / "report.md").read_text(encoding="utf-8")  # Failed 0, Missing 1
    assert "<span>Missing: 1</span>" in (tmp_path / "report.html").read_text(encoding="utf-8")
    # The same directory with an inventory: the inventory group decides, as before.
    listed = run_playbook("remote_desktop.licensing.fleet_report", fleet.inventory, str(tmp_path / "unused"),
                          {"report_dir": str(tmp_path), "report_hosts": "fresh-01,per-device-02"})
    assert listed.rc == 0, listed.output
    summary = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["summary"]
    assert summary["hosts_source"] == "hosts" and summary["hosts"] == 2 and summary["missing"] == []
    # A misspelt group is an error, not a quiet fall back to the manifest.
    typo = run_playbook("remote_desktop.licensing.fleet_report", fleet.inventory, str(tmp_path / "unused"),
                        {"report_dir": str(tmp_path), "report_hosts": "rds_sesion_hosts"})
    assert typo.rc != 0
    assert "report_hosts 'rds_sesion_hosts' matches no host in the inventory" in " ".join(typo.output.split())


def test_a_run_writes_its_manifest_once_and_slices_add_theirs(fleet, tmp_path):
    hosts = SCENARIOS_HOSTS()
    for part in range(2):  # two of three slices of one workflow ran; the third never started
        run = collect(fleet, tmp_path, ["--limit", ",".join(hosts[part::3])], render_report=False, run_id="workflow-9")
        assert run.rc == 0, run.output
    again = collect(fleet, tmp_path, ["--limit", ",".join(hosts[0::3])], render_report=False, run_id="workflow-9")
    assert again.rc == 0, again.output
    assert len(os.listdir(tmp_path / "runs")) == 2  # the repeated slice found its manifest there
    render = run_playbook("remote_desktop.licensing.fleet_report", None, str(tmp_path / "unused"),
                          {"report_dir": str(tmp_path), "run_id": "workflow-9"})
    assert render.rc == 0, render.output
    summary = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["summary"]
    assert summary["hosts"] == len(hosts[0::3]) + len(hosts[1::3]) and summary["missing"] == []


def test_a_result_left_from_an_earlier_run_is_shown_stale_or_excluded(fleet, tmp_path):
    first = collect(fleet, tmp_path, render_report=False, run_id="monday")
    assert first.rc == 0, first.output
    second = collect(fleet, tmp_path, ["--limit", "fresh-01,per-device-02"], run_id="tuesday")
    assert second.rc == 0, second.output
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    hosts = {item["host"]: item for item in report["hosts"]}
    assert report["run_id"] == "tuesday" and hosts["fresh-01"]["stale"] is False
    assert hosts["gpo-conflict-03"]["stale"] is True and hosts["gpo-conflict-03"]["run_id"] == "monday"
    assert hosts["gpo-conflict-03"]["read_at"] and "earlier run" in hosts["gpo-conflict-03"]["warnings"][0]
    assert sorted(report["summary"]["stale"]) == sorted(set(SCENARIOS_HOSTS()) - {"fresh-01", "per-device-02"})
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "ok (stale)" in page and "Run tuesday" in page
    excluded = run_playbook("remote_desktop.licensing.fleet_report", fleet.inventory, str(tmp_path / "unused"),
                            {"report_dir": str(tmp_path), "target_hosts": "all", "stale_results": "exclude"})
    assert excluded.rc == 0, excluded.output
    summary = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["summary"]
    assert summary["reachable"] == 2 and len(summary["excluded_stale"]) == len(SCENARIOS) - 2


def test_default_report_dir_is_outside_the_collection_and_a_collection_path_is_refused(fleet, tmp_path):
    home = tmp_path / "home"
    run = run_playbook("remote_desktop.licensing.licensing_report", fleet.inventory, str(tmp_path / "unused"),
                       {"tolerate_unread_hosts": True}, env={"HOME": str(home)})
    assert run.rc == 0, run.output
    default = home / ".ansible" / "remote_desktop.licensing" / "reports" / "licensing_report"
    assert (default / "report.html").exists() and f"Fleet report written to {default}" in run.output
    # A read-only job, render step included: no host is reported changed.
    assert re.findall(r"changed=(\d+)", run.output) and set(re.findall(r"changed=(\d+)", run.output)) == {"0"}
    # The default target is rds_session_hosts, not every host of the inventory.
    assert sorted(os.listdir(default / "hosts")) == ["fresh-01.json", "gpo-conflict-03.json", "grace-expired-05.json",
                                                     "grace-expiring-04.json", "per-device-02.json", "per-user-07.json"]
    # What the playbooks used to default to: a directory beside the playbook, inside the installed collection.
    refused = run_playbook("remote_desktop.licensing.licensing_report", fleet.inventory, str(tmp_path / "unused"),
                           {"report_dir": "{{ playbook_dir }}/licensing-report"}, env={"HOME": str(home)})
    assert refused.rc != 0
    assert "inside an installed collection" in refused.output and "Set report_dir to a directory outside it" in refused.output


@needs_browser
def test_html_report_renders_in_headless_chromium(whole, tmp_path):
    report_dir, report = whole
    dom = rendered_dom(report_dir / "report.html", tmp_path / "profile", "fleet-report.png", 2000)
    # A histogram: one segment per (bucket, class) with hosts, whatever the number of hosts.
    segments = sum(len(bucket["by_class"]) for bucket in report["summary"]["grace_histogram"])
    assert '<svg id="grace-chart"' in dom and dom.count('class="bar ') == segments
    assert sum(bucket["hosts"] for bucket in report["summary"]["grace_histogram"]) == 5  # the RDP client has no grace period
    assert 'class="bar critical"' in dom and '<svg id="class-chart"' in dom
    for table in ("modes", "systems", "drift", "unreachable", "hosts"):
        assert f'id="{table}"' in dom
