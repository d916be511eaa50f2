"""The fleet report's Diagnosis section from saved diagnose results: counts and hosts per finding,
unknown hosts kept, CAL capacity per server, and no change at all to a report without results."""

from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _fleet_report_diagnosis as section
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _paths

FINDING = {"id": "license_server_unreachable", "severity": "critical", "summary": "ls9 does not answer", "evidence": {},
           "remedy": "Check it."}
RESULTS = {
    "rdsh1": {"role": "session_host", "state": "critical",
              "diagnosis": {"state": "critical", "grace_class": "ok", "findings": [FINDING], "notes": [],
                            "working_servers": []}},
    "rdsh2": {"role": "session_host", "state": "healthy",
              "diagnosis": {"state": "healthy", "grace_class": "ok", "findings": [], "notes": [],
                            "working_servers": ["ls01"]}},
    "rdsh3": {"role": "session_host", "state": "unknown", "error": "unreachable", "diagnosis": None},
    "ls1": {"role": "license_server", "state": "license_server", "diagnosis": None, "license_server_view": {
        "computer_name": "LS01", "server": {"is_license_server": True, "activation": {"name": "activated"},
                                           "version": "10.0.20348", "capacity": [
                                               {"product_version": "Windows Server 2022", "cal_type": "per_user",
                                                "total": 5, "issued": 1, "available": 4, "key_packs": 1}]}}},
}
REPORT = {"summary": {"by_grace_class": {"ok": 2}, "critical_hosts": []}, "hosts": [
    {"host": "rdsh1", "status": "ok", "grace_class": "ok", "grace_days_left": 0},
    {"host": "rdsh2", "status": "ok", "grace_class": "ok", "grace_days_left": 0}]}
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

    host = {"host": "rdsh2", "status": "ok", "grace_class": "unknown", "grace_days_left": 0,
            "warnings": ["a note from the host", fleet.UNKNOWN_CLASS_WARNING]}
    report = fleet.build([host], THRESHOLDS, None, "2026-11-28T00:00:00Z")
    assert report["summary"]["by_grace_class"] == {"unknown": 1}
    section.attach(report, {"rdsh2": RESULTS["rdsh2"]}, THRESHOLDS)
    (record,) = report["hosts"]
    assert record["grace_class"] == "ok" and record["warnings"] == ["a note from the host"]
    assert report["summary"]["by_grace_class"] == {"ok": 1}
    ended = report["summary"]["grace_histogram"][0]
    assert ended["label"].startswith("ended") and ended["by_class"] == {"ok": 1}
