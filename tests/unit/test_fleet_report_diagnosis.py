"""The fleet report's Diagnosis section from saved diagnose results: counts and hosts per finding,
unknown hosts kept, CAL capacity per server, and no change at all to a report without results."""

from __future__ import annotations

import copy
import json
import os

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _fleet_report_diagnosis as section
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _paths

FINDING = {"id": "license_server_unreachable", "severity": "critical", "summary": "ls9 does not answer", "evidence": {},
           "remedy": "Check it."}
RESULTS = {
    "rdsh1": {"role": "session_host", "state": "critical", "run_id": "r1", "read_at": "2026-11-28T16:07:00Z",
              "diagnosis": {"state": "critical", "grace_class": "ok", "findings": [FINDING], "notes": [],
                            "working_servers": []}},
    "rdsh2": {"role": "session_host", "state": "healthy", "run_id": "r1", "read_at": "2026-11-28T16:07:01Z",
              "diagnosis": {"state": "healthy", "grace_class": "ok", "findings": [], "notes": [],
                            "working_servers": ["ls01"]}},
    "rdsh3": {"role": "session_host", "state": "unknown", "error": "unreachable", "diagnosis": None, "run_id": "r1",
              "saved_at": "2026-11-28T16:07:02Z"},
    "ls1": {"role": "license_server", "state": "license_server", "diagnosis": None, "license_server_view": {
        "computer_name": "LS01", "server": {"is_license_server": True, "activation": {"name": "activated"},
                                           "version": "10.0.20348", "capacity": [
                                               {"product_version": "Windows Server 2022", "cal_type": "per_user",
                                                "total": 5, "issued": 1, "available": 4, "key_packs": 1}]}}},
}
REPORT = {"summary": {"by_grace_class": {"ok": 2}, "critical_hosts": []}, "hosts": [
    {"host": "rdsh1", "status": "ok", "run_id": "r1", "grace_class": "ok", "grace_days_left": 0, "warnings": []},
    {"host": "rdsh2", "status": "ok", "run_id": "r1", "grace_class": "ok", "grace_days_left": 0, "warnings": []},
    {"host": "rdsh3", "status": "unreachable", "run_id": "r1", "grace_class": None, "grace_days_left": None, "warnings": []}]}
THRESHOLDS = {"warning_days": 30, "critical_days": 7}


def test_without_results_the_report_is_unchanged():
    report = copy.deepcopy(REPORT)
    assert section.attach(report, {}, THRESHOLDS) == REPORT
    assert section.render("html", report, "<h2>Grace days left</h2>") == "<h2>Grace days left</h2>"
    assert section.extra_files(report, {}, ["csv"]) == {}


def test_section_counts_capacity_and_grace_class():
    report = section.attach(copy.deepcopy(REPORT), RESULTS, THRESHOLDS)
    found = report["diagnosis"]
    assert found["by_state"] == {"critical": 1, "healthy": 1, "unknown": 1}
    assert found["findings"][0]["id"] == "license_server_unreachable" and found["findings"][0]["hosts"] == ["rdsh1"]
    assert found["healthy_hosts"] == ["rdsh2"]
    assert report["cal_capacity"] == [{"license_server": "ls1", "computer_name": "LS01", "activation": "activated",
                                       "version": "10.0.20348", "capacity": [
                                           {"product_version": "Windows Server 2022", "cal_type": "per_user",
                                            "total": 5, "issued": 1, "available": 4}]}]
    # 0 days without a working server is critical; with one it stays ok.
    assert report["summary"]["critical_hosts"] == ["rdsh1"]
    assert report["summary"]["by_grace_class"] == {"critical": 1, "ok": 1}
    files = section.extra_files(report, RESULTS, ["csv"])
    assert files["diagnosis.csv"].splitlines()[1].startswith("rdsh1,critical,ok,license_server_unreachable,critical,")
    assert files["diagnosis.csv"].splitlines()[1].endswith(",r1,2026-11-28T16:07:00Z,yes")
    assert len(files["cal_capacity.csv"].splitlines()) == 2
    assert 'id="diagnosis-findings"' in section.render("html", report, "<h2>Grace days left</h2>")
    assert "| license_server_unreachable | critical | 1 | rdsh1 |" in section.render("md", report, "")


def test_saved_results_are_keyed_by_the_inventory_host_their_file_name_encodes(tmp_path):
    for host in ("a/b", "rdsh1"):
        (tmp_path / f"{_paths.host_file_name(host)}.json").write_text(json.dumps(RESULTS["rdsh1"]), encoding="utf-8")
    assert sorted(section.load(str(tmp_path))) == ["a/b", "rdsh1"]


def test_a_damaged_saved_result_is_a_clear_error_naming_the_file(tmp_path):
    (tmp_path / "rdsh1.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(section.DiagnosisFileError, match=r"rdsh1\.json is not a saved diagnose result.*Run the diagnose playbook"):
        section.load(str(tmp_path))


def test_a_diagnosis_that_verifies_the_class_leaves_no_unknown_behind():
    """Configured, grace ended, license server working: the table, the warnings, the counts and the histogram
    all say ok; none of them still says "unknown, not verified"."""
    from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _fleet_report as fleet

    host = {"host": "rdsh2", "status": "ok", "run_id": "r1", "grace_class": "unknown", "grace_days_left": 0,
            "warnings": ["a note from the host", fleet.UNKNOWN_CLASS_WARNING]}
    report = fleet.build([host], THRESHOLDS, None, "2026-11-28T00:00:00Z")
    assert report["summary"]["by_grace_class"] == {"unknown": 1}
    section.attach(report, {"rdsh2": RESULTS["rdsh2"]}, THRESHOLDS)
    (record,) = report["hosts"]
    assert record["grace_class"] == "ok" and record["warnings"] == ["a note from the host"]
    assert report["summary"]["by_grace_class"] == {"ok": 1}
    ended = report["summary"]["grace_histogram"][0]
    assert ended["label"].startswith("ended") and ended["by_class"] == {"ok": 1}


def _validate(report):
    import jsonschema

    from tests.helpers.paths import ROOT

    with open(os.path.join(ROOT, "schemas", "fleet_report.schema.json"), encoding="utf-8") as handle:
        jsonschema.validate(report, json.load(handle))


def _fleet_report(hosts, run_id="r1", unconfigured=()):
    """A report of configured Per User hosts ({host: grace days left}); the unconfigured ones name no license server."""
    from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _fleet_report as fleet

    records = [{**fleet.record(host, {"run_id": run_id, "read_at": "2026-11-28T16:07:00Z", "licensing": {
        "mode": {"effective": 4, "effective_name": "per_user", "source": "local"},
        "license_servers": {"effective": [] if host in unconfigured else ["ls9"], "source": "local"},
        "grace_period": {"days_left": days, "state": "active"}, "role": {"rdsh_installed": True}, "warnings": []}},
        THRESHOLDS, None, run_id)} for host, days in hosts.items()]
    return fleet, fleet.build(records, THRESHOLDS, None, "2026-11-28T16:20:00Z", run_id)


def test_a_host_the_diagnosis_finds_critical_is_a_critical_host_of_the_fleet():
    """100 grace days left (grace class ok) and a license server that cannot license it: the fleet's critical hosts,
    the artifact's count and the header all include it, with the split by grace class and by diagnosis."""
    fleet, report = _fleet_report({"rdsh1": 100, "rdsh2": 100, "rdsh4": 3}, unconfigured=("rdsh4",))
    assert report["summary"]["critical_hosts"] == ["rdsh4"]
    section.attach(report, RESULTS, THRESHOLDS)
    summary = report["summary"]
    assert summary["critical_hosts"] == ["rdsh1", "rdsh4"]
    assert (summary["critical_by_grace"], summary["critical_by_diagnosis"]) == (["rdsh4"], ["rdsh1"])
    assert report["diagnosis"]["by_state"] == {"critical": 1, "healthy": 1}
    assert {item["host"]: item["grace_class"] for item in report["hosts"]} == {"rdsh1": "ok", "rdsh2": "ok", "rdsh4": "critical"}
    assert "| 3 | 3 | 0 | 0 | 0 | no baseline given: drift not checked | 2 (grace 1, diagnosis 1) | 0 |" in fleet.to_markdown(report)
    assert "<span>Critical: 2 (grace 1, diagnosis 1)</span>" in fleet.to_html(report)
    _validate(report)


def test_a_diagnosis_of_another_run_is_marked_and_not_combined():
    """A 16:11 diagnosis over a 16:07 licensing run: listed with its run and time, marked, and it neither re-classes
    the host nor counts as critical, healthy or in a finding."""
    fleet, report = _fleet_report({"rdsh1": 100, "rdsh2": 0}, run_id="r0")
    section.attach(report, RESULTS, THRESHOLDS)
    summary, found = report["summary"], report["diagnosis"]
    assert summary["critical_hosts"] == [] and summary["critical_by_diagnosis"] == []
    rows = {item["host"]: item for item in report["hosts"]}
    # Without a diagnosis of its own run, 0 days on a configured host stays unknown (not verified), not ok.
    assert rows["rdsh2"]["grace_class"] == "unknown"
    assert rows["rdsh1"]["diagnosis"] == {"state": "critical", "run_id": "r1", "read_at": "2026-11-28T16:07:00Z",
                                          "same_run": False, "finding_ids": ["license_server_unreachable"]}
    assert any("diagnosis from run r1 (read 2026-11-28T16:07:00Z), not from this host's licensing run r0" in warning
               for warning in rows["rdsh1"]["warnings"])
    assert (found["by_state"], found["findings"], found["healthy_hosts"]) == ({}, [], [])
    assert found["other_run_hosts"] == ["rdsh1", "rdsh2"]
    assert [item["same_run"] for item in found["hosts"]] == [False, False]
    assert "Not combined: 2 host(s) were diagnosed in another run" in section.render("md", report, "")
    assert "critical (other run: not combined)" in section.render("html", report, "<h2>Grace days left</h2>")
    _validate(report)


def test_hosts_outside_the_report_are_left_out_of_its_diagnosis():
    _fleet, report = _fleet_report({"rdsh2": 100})
    section.attach(report, RESULTS, THRESHOLDS)
    assert [item["host"] for item in report["diagnosis"]["hosts"]] == ["rdsh2"]
    assert report["diagnosis"]["by_state"] == {"healthy": 1} and report["summary"]["critical_hosts"] == []
