"""The playbooks through ansible-runner, the engine AWX and Automation Controller use: job events,
set_stats artifacts for workflow branching, and a check-mode job's changed/diff events."""

from __future__ import annotations

import os

import pytest

from tests.helpers.fleet import SimFleet
from tests.helpers.runner import artifact_data, job

SCENARIOS = ["fresh", "per_user", "gpo_conflict", "grace_expiring"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("runner-fleet")).up(len(SCENARIOS), SCENARIOS)
    yield fleet
    fleet.down()


def test_drift_check_job_events_and_set_stats_artifacts(fleet, tmp_path):
    fleet.reset_stats()
    run = job(fleet, tmp_path, "drift_check.yml", {"drift_check_baseline": {"mode": "per_user"}}, cmdline="--check")
    assert run.status == "successful" and run.rc == 0
    reads = [event for event in run.events if event["event"] == "runner_on_ok"
             and event["event_data"].get("task") == "Compare the licensing state with the baseline"]
    assert sorted(event["event_data"]["host"] for event in reads) == ["fresh-01", "gpo-conflict-03", "grace-expiring-04",
                                                                      "per-user-02"]
    drift = artifact_data(run)["drift_check"]
    assert sorted(drift) == ["fresh-01", "gpo-conflict-03", "grace-expiring-04", "per-user-02"]
    assert drift["per-user-02"]["drift"] == [] and drift["gpo-conflict-03"]["policy_controlled"] is True
    assert drift["per-user-02"]["drifted"] is False and drift["fresh-01"]["drifted"] is True
    assert all(counters["writes"] == 0 for counters in fleet.stats().values())


def test_check_job_reports_changed_and_diff_events_and_writes_nothing(fleet, tmp_path):
    fleet.reset_stats()
    run = job(fleet, tmp_path, "configure_licensing.yml", {"configure_licensing_policy_conflict": "warn"},
              cmdline="--check --diff")
    text = run.stdout.read()
    assert run.status == "successful", text[-3000:]
    # The per-host lines say a check run wrote nothing.
    assert "[check mode] fresh-01: licensing changed" in text and "[check mode, nothing written] Changed " in text
    changed = {event["event_data"]["host"]: event["event_data"]["res"] for event in run.events
               if event["event"] == "runner_on_ok" and event["event_data"].get("task") == "Set the licensing mode and license servers"}
    assert changed["fresh-01"]["changed"] is True and "+LicensingMode: per_user (4)" not in str(changed["per-user-02"].get("diff"))
    assert "LicensingMode: per_user (4)" in changed["fresh-01"]["diff"]["after"]
    assert changed["per-user-02"]["changed"] is False
    assert all(counters["writes"] == 0 for counters in fleet.stats().values())


def test_report_job_publishes_the_summary_for_workflow_branching(fleet, tmp_path):
    run = job(fleet, tmp_path, "licensing_report.yml", {"report_dir": str(tmp_path / "report"), "target_hosts": "all"})
    assert run.status == "successful"
    data = artifact_data(run)
    assert int(data["licensing_critical_count"]) == 1  # grace-expiring-04 has 5 days left
    assert sorted(data["licensing_hosts"]) == ["fresh-01", "gpo-conflict-03", "grace-expiring-04", "per-user-02"]
    assert data["licensing_summary"]["hosts"] == 4
    assert os.path.exists(data["licensing_report_files"]["html"])
