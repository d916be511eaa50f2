"""Which run a fleet report's numbers come from, end to end over winrm against rds-sim: a diagnosis of the same
run as the licensing results counts in the fleet's critical hosts, one of another run is marked and combined
with nothing; results left from an earlier run are stale, never unreachable of this run; and licensing_report
does not end green when a host of its run could not be read."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest

from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
SCENARIOS = ["license_server+lsrv_unactivated", "license_server+lsrv_device_only", "license_server+lsrv_full",
             "diag_not_activated", "diag_wrong_cal_type", "diag_no_cals_left", "per_user", "per_user", "per_user"]
# The three presets whose license server cannot license them: the diagnosis finds them critical, while their grace
# period (100 days left, licensing configured) alone is ok.
DIAGNOSED_CRITICAL = ["diag-no-cals-left-06", "diag-not-activated-04", "diag-wrong-cal-type-05"]
READABLE = [f"license-server-lsrv-{name}-{index:02d}" for index, name in enumerate(("unactivated", "device-only", "full"), 1)] \
    + DIAGNOSED_CRITICAL + ["per-user-07"]
DENIED, DOWN = "per-user-08", "per-user-09"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("runs-fleet")).up(len(SCENARIOS), SCENARIOS,
                                                                faults=[f"{DENIED}=access_denied:{CORE}", f"{DOWN}=refused"])
    yield fleet
    fleet.down()


def play(fleet, name, report_dir, args=(), **variables):
    return run_playbook(f"remote_desktop.licensing.{name}", fleet.inventory, str(report_dir / "unused"),
                        {"report_dir": str(report_dir), **variables}, args=list(args))


def report_of(report_dir):
    with open(report_dir / "report.json", encoding="utf-8") as handle:
        report = json.load(handle)
    with open(os.path.join(ROOT, "schemas", "fleet_report.schema.json"), encoding="utf-8") as handle:
        jsonschema.validate(report, json.load(handle))
    return report


def test_a_diagnosis_of_the_same_run_counts_in_the_critical_hosts_and_one_of_another_run_is_not_combined(fleet, tmp_path):
    limit = ["--limit", ",".join(READABLE)]
    collected = play(fleet, "licensing_report", tmp_path, limit, run_id="job42", render_report=False)
    assert collected.rc == 0, collected.output
    diagnosed = play(fleet, "diagnose", tmp_path, limit, run_id="job42")
    assert diagnosed.rc == 0, diagnosed.output
    rendered = play(fleet, "fleet_report", tmp_path, run_id="job42", report_hosts=",".join(DIAGNOSED_CRITICAL))
    assert rendered.rc == 0, rendered.output
    report = report_of(tmp_path)
    summary = report["summary"]
    # What a "critical > 0 -> notify" workflow reads (licensing_critical_count is built from critical_hosts).
    assert summary["critical_hosts"] == DIAGNOSED_CRITICAL and summary["critical_by_diagnosis"] == DIAGNOSED_CRITICAL
    assert summary["critical_by_grace"] == [] and summary["by_grace_class"] == {"ok": 3}
    assert report["diagnosis"]["by_state"] == {"critical": 3} and report["diagnosis"]["other_run_hosts"] == []
    for row in report["hosts"]:
        assert row["diagnosis"]["same_run"] is True and row["diagnosis"]["run_id"] == "job42" and row["diagnosis"]["read_at"]
    assert "| 3 (grace 0, diagnosis 3) |" in (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "critical 3 (by diagnosis 3);" in " ".join(rendered.output.split())

    # A newer diagnosis (another run) over the same licensing run: shown, marked, and counted nowhere.
    newer = play(fleet, "diagnose", tmp_path, limit, run_id="job43")
    assert newer.rc == 0, newer.output
    again = play(fleet, "fleet_report", tmp_path, run_id="job42", report_hosts=",".join(DIAGNOSED_CRITICAL))
    assert again.rc == 0, again.output
    report = report_of(tmp_path)
    assert report["summary"]["critical_hosts"] == [] and report["summary"]["critical_by_diagnosis"] == []
    found = report["diagnosis"]
    assert found["other_run_hosts"] == DIAGNOSED_CRITICAL and found["by_state"] == {} and found["findings"] == []
    assert {item["host"]: (item["state"], item["run_id"], item["same_run"]) for item in found["hosts"]} == {
        host: ("critical", "job43", False) for host in DIAGNOSED_CRITICAL}
    for row in report["hosts"]:
        assert any("diagnosis from run job43" in warning and "licensing run job42" in warning for warning in row["warnings"])
    assert "critical (other run: not combined)" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_unread_hosts_fail_the_report_job_and_an_earlier_run_s_hosts_are_stale_not_unreachable(fleet, tmp_path):
    targets = ",".join(["per-user-07", DENIED, DOWN])
    monday = play(fleet, "licensing_report", tmp_path, target_hosts=targets, run_id="monday")
    assert monday.rc != 0, monday.output
    assert f"2 host(s) of this run could not be read: {DENIED}, {DOWN}" in " ".join(monday.output.split())
    # Everything was saved and rendered first.
    summary = report_of(tmp_path)["summary"]
    assert (summary["reachable"], summary["failed"], summary["unreachable"]) == (1, [DENIED], [DOWN])

    tolerated = play(fleet, "licensing_report", tmp_path, target_hosts=targets, run_id="monday", tolerate_unread_hosts=True)
    assert tolerated.rc == 0, tolerated.output
    assert f"NOT READ, TOLERATED (tolerate_unread_hosts=true): 2 host(s) of this run could not be read: {DENIED}, {DOWN}" in \
        " ".join(tolerated.output.split())

    # Tuesday reads the one host it targets; the others' files are Monday's.
    tuesday = play(fleet, "licensing_report", tmp_path, ["--limit", "per-user-07"], target_hosts=targets, run_id="tuesday")
    assert tuesday.rc == 0, tuesday.output
    report = report_of(tmp_path)
    summary = report["summary"]
    assert (summary["reachable"], summary["unreachable"], summary["failed"], summary["missing"]) == (1, [], [], [])
    assert summary["stale"] == [DENIED, DOWN]
    rows = {row["host"]: row for row in report["hosts"]}
    assert rows[DOWN]["status"] == "unreachable" and rows[DOWN]["stale"] is True and rows[DOWN]["run_id"] == "monday"
    assert "unreachable 0;" in tuesday.output and "stale 2" in tuesday.output
