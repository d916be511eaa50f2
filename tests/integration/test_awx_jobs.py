"""AWX jobs as they are documented in docs/awx.md: the wrapper project, survey answers as AWX passes
them (strings, text booleans, comma or newline separated server lists), and the scheduled drift
check whose job must never be green when it checked nothing or when hosts drift."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.helpers.fleet import SimFleet
from tests.helpers.runner import artifact_data, host_stats, job

SERVERS = ["ls01.example.test", "ls02.example.test"]
DRIFTING = {"per-user-02": "per_device", "per-user-05": "fresh", "per-user-09": "gpo_conflict"}
# What a survey sends: every answer a string, the servers typed into a textarea.
SURVEY = {"drift_check_baseline_mode": "per_user", "drift_check_baseline_license_servers": "ls01.example.test,\nls02.example.test",
          "drift_check_baseline_forbid_policy_conflicts": "yes", "drift_check_fail_on_drift": "false"}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """Ten Session Hosts configured as the baseline says; the tests make three of them drift."""
    fleet = SimFleet(tmp_path_factory.mktemp("scheduled")).up(10, ["per_user"])
    yield fleet
    fleet.down()


def drift_lines(text):
    return sorted(line.strip().strip('",') for line in text.splitlines() if ": DRIFT " in line and "=>" not in line)


def test_scheduled_check_job_changed_hosts_are_exactly_the_drifting_ones(fleet, tmp_path):
    for host, scenario in DRIFTING.items():
        fleet.reset_host(host, scenario)
    fleet.reset_stats()
    run = job(fleet, tmp_path / "check", "drift_check.yml", SURVEY, cmdline="--check --diff")
    text = run.stdout.read()
    assert run.status == "successful", text[-3000:]
    assert set(host_stats(run)["changed"]) == set(DRIFTING)
    # The log says what drifted, per host, and names them in the fleet line.
    lines = drift_lines(text)
    assert [line.split(":")[0] for line in lines] == sorted(DRIFTING)
    assert any("per-user-02: DRIFT mode is per_device, expected per_user (local)" in line for line in lines)
    assert "Drift on 3 of 10 host(s): per-user-02, per-user-05, per-user-09" in text
    # --diff: expected versus actual, per drifting host.
    diffs = [event["event_data"]["res"]["diff"] for event in run.events if event["event"] == "runner_on_ok"
             and event["event_data"]["res"].get("diff")]
    assert len(diffs) == 3 and all("baseline (expected)" in str(diff) for diff in diffs)
    # The artifacts list them for workflow branching.
    records = artifact_data(run)["drift_check"]
    assert sorted(host for host, record in records.items() if record["drifted"]) == sorted(DRIFTING)
    assert len(records) == 10
    assert all(counters["writes"] == 0 for counters in fleet.stats().values())

    failing = job(fleet, tmp_path / "fail", "drift_check.yml", {**SURVEY, "drift_check_fail_on_drift": "True"},
                  cmdline="--check")
    assert failing.status == "failed"
    assert "Drift on 3 of 10 host(s): per-user-02, per-user-05, per-user-09 (drift_check_fail_on_drift is true)" in \
        failing.stdout.read()
    assert sorted(host for host, record in artifact_data(failing)["drift_check"].items() if record["drifted"]) == \
        sorted(DRIFTING)

    typo = job(fleet, tmp_path / "typo", "drift_check.yml", {**SURVEY, "target_hosts": "rds_sesion_hosts"},
               cmdline="--check")
    assert typo.status == "failed"
    assert "The host pattern 'rds_sesion_hosts' matches no host in the inventory" in typo.stdout.read()

    # Without --check the same read-only job is green with changed=0; the drift is in the lines and artifacts.
    plain = job(fleet, tmp_path / "run", "drift_check.yml", SURVEY)
    assert plain.status == "successful" and host_stats(plain)["changed"] == {}
    assert len(drift_lines(plain.stdout.read())) == 3


@pytest.mark.parametrize("answer, message", [
    ("-5", "baseline min_grace_days is -5; give a number of days from 0 to 120"),
    ("two weeks", "min_grace_days (a whole number of days from 0 to 120); the drift_check role takes them"),
])
def test_a_bad_grace_days_answer_fails_the_job_before_any_host_is_read(fleet, tmp_path, answer, message):
    fleet.reset_stats()
    run = job(fleet, tmp_path, "drift_check.yml", {**SURVEY, "drift_check_baseline_min_grace_days": answer}, cmdline="--check")
    text = run.stdout.read()
    assert run.status == "failed", text[-3000:]
    assert message in text
    assert all(counters["commands"] == 0 for counters in fleet.stats().values())


def test_batch_answers_left_empty_take_the_defaults_and_bad_ones_are_named(fleet, tmp_path):
    """Optional survey questions arrive as "" when left empty; a typo must fail with words, not a traceback."""
    for host in DRIFTING:
        fleet.reset_host(host, "per_user")
    empty = job(fleet, tmp_path / "empty", "drift_check.yml", {**SURVEY, "batch_size": "", "batch_max_fail_percentage": ""},
                cmdline="--check")
    assert empty.status == "successful", empty.stdout.read()[-3000:]
    fleet.reset_stats()
    for index, answers in enumerate(({"batch_size": "ten"}, {"batch_size": "25% "}, {"batch_max_fail_percentage": "150"},
                                     {"max_fail_percentage": "150"})):
        typo = job(fleet, tmp_path / f"typo{index}", "drift_check.yml", {**SURVEY, **answers}, cmdline="--check")
        text = typo.stdout.read()
        assert typo.status == "failed" and "Unexpected Exception" not in text, answers
        assert "batch_size must be a number of hosts (10) or a percentage (25%)" in " ".join(text.split())
    assert all(counters["commands"] == 0 for counters in fleet.stats().values())


def test_scheduled_check_job_without_drift_is_green_with_nothing_changed(fleet, tmp_path):
    for host in DRIFTING:
        fleet.reset_host(host, "per_user")
    run = job(fleet, tmp_path, "drift_check.yml", {**SURVEY, "drift_check_fail_on_drift": "yes"}, cmdline="--check --diff")
    text = run.stdout.read()
    assert run.status == "successful" and run.rc == 0, text[-3000:]
    assert host_stats(run)["changed"] == {} and drift_lines(text) == []
    assert "Drift on 0 of 10 host(s)" in text
    assert not any(record["drifted"] for record in artifact_data(run)["drift_check"].values())
    # The baseline's own license_servers as the comma-separated text docs/awx.md used to suggest.
    typed = job(fleet, tmp_path / "typed", "drift_check.yml",
                {"drift_check_baseline": {"mode": "per_user", "license_servers": "ls01.example.test, ls02.example.test"}},
                cmdline="--check")
    assert typed.status == "successful" and host_stats(typed)["changed"] == {}
    assert "Drift on 0 of 10 host(s)" in typed.stdout.read()


def test_survey_answers_as_strings_drive_every_role(fleet, tmp_path):
    core = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
    servers_key = "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"
    fleet.reset_host("per-user-01", "fresh")
    fleet.reset_host("per-user-03", "client_cache")
    fleet.reset_host("per-user-04", "license_server")
    configure = job(fleet, tmp_path / "configure", "configure_licensing.yml", {
        "target_hosts": "per-user-01", "configure_licensing_mode": "per_device",
        "configure_licensing_license_servers": "ls01.example.test, ls02.example.test", "configure_licensing_backup": "yes",
        "configure_licensing_backup_dir": str(tmp_path / "backups"), "configure_licensing_policy_conflict": "warn",
        "batch_size": "5", "batch_max_fail_percentage": "10"})
    configure_text = configure.stdout.read()
    assert configure.status == "successful", configure_text[-3000:]
    assert "per-user-01: licensing changed; restart TermService (or reboot) in a maintenance window" in configure_text
    assert fleet.value("per-user-01", core, "LicensingMode") == {"type": "dword", "data": 2}
    assert fleet.value("per-user-01", servers_key, "SpecifiedLicenseServers")["data"] == SERVERS
    assert artifact_data(configure)["configure_licensing"]["per-user-01"]["changed"] is True

    grace = job(fleet, tmp_path / "grace", "grace_report.yml", {"grace_report_warning_days": "30",
                                                                "grace_report_critical_days": "7",
                                                                "grace_report_results_dir": str(tmp_path / "grace")})
    grace_text = grace.stdout.read()
    assert grace.status == "successful", grace_text[-3000:]
    assert artifact_data(grace)["grace_report"]["per-user-01"]["class"] == "ok"
    # Printed per host and for the batch, on the command line.
    assert re.search(r"per-user-06: OK 8[78] grace day\(s\) left, mode per_user, license servers "
                     r"ls01\.example\.test, ls02\.example\.test", grace_text)
    assert "Grace period on 10 host(s): " in grace_text
    with open(tmp_path / "grace" / "per-user-06.json", encoding="utf-8") as handle:
        assert json.load(handle)["class"] == "ok"

    reset = job(fleet, tmp_path / "reset", "mslicensing_reset.yml", {
        "target_hosts": "per-user-03", "mslicensing_reset_views": "64,32", "mslicensing_reset_recreate_for_users": "false",
        "mslicensing_reset_backup_dir": str(tmp_path / "cache-backups")})
    assert reset.status == "successful", reset.stdout.read()[-3000:]
    assert artifact_data(reset)["mslicensing_reset"]["per-user-03"]["changed"] is True

    lab = job(fleet, tmp_path / "lab", "grace_reset.yml", {
        "target_hosts": "per-user-05", "grace_reset_acknowledge_lab_use": "true", "grace_reset_restart_strategy": "none",
        "grace_reset_backup_dir": str(tmp_path / "grace-backups")})
    assert lab.status == "successful", lab.stdout.read()[-3000:]
    assert "grace-backups" in str(artifact_data(lab)["grace_reset"]["per-user-05"]["backup_file"])

    servers = job(fleet, tmp_path / "servers", "license_server_report.yml", {"target_hosts": "per-user-04"})
    servers_text = servers.stdout.read()
    assert servers.status == "successful", servers_text[-3000:]
    assert "per-user-04: license server, activation activated" in servers_text
    assert artifact_data(servers)["license_server_report"]["per-user-04"]["is_license_server"] is True

    report = job(fleet, tmp_path / "report", "licensing_report.yml", {
        "report_dir": str(tmp_path / "report-files"), "render_report": "false", "target_hosts": "all"})
    assert report.status == "successful", report.stdout.read()[-3000:]
    assert not os.path.exists(tmp_path / "report-files" / "report.json")
    assert len(os.listdir(tmp_path / "report-files" / "hosts")) == 10
    # Read-only jobs leave every managed host unchanged.
    for run in (grace, servers, report):
        assert host_stats(run)["changed"] == {}
