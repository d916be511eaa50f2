"""The diagnosis rules on hand-made views: each finding from the smallest evidence that causes it,
nothing on a healthy host, unknown never reported as healthy, and the grace class with a diagnosis."""

from __future__ import annotations

import copy
import typing as t

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _diagnosis


def host(**changes: t.Any) -> dict[str, t.Any]:
    view = {
        "host": "rdsh01", "rdsh": True,
        "mode": {"effective": 4, "source": "local"},
        "license_servers": {"effective": ["ls01.example.test"], "source": "local", "policy": None,
                            "local": ["ls01.example.test"]},
        "os": {"build": 20348, "server_version": "Windows Server 2022"},
        "domain": {"member": True, "name": "example.test", "workgroup": None},
        "grace": {"days_left": 90, "error": None},
        "connectivity": {"ok": True, "exists": True, "servers": [{"name": "ls01.example.test", "status": 11, "error": None}],
                         "discovered": [{"name": "ls01.example.test", "available": True}]},
    }
    for key, value in changes.items():
        view[key] = value
    return view


def server(**changes: t.Any) -> dict[str, t.Any]:
    view = {
        "host": "ls-host-1", "computer_name": "LS01", "domain": "example.test",
        "server": {"is_license_server": True, "activation": {"name": "activated"}, "version": "10.0.20348",
                   "capacity": [{"product_version": "Windows Server 2022", "cal_type": "per_user", "total": 50, "issued": 0,
                                 "available": 50},
                                {"product_version": "Windows Server 2022", "cal_type": "per_device", "total": 10, "issued": 2,
                                 "available": 8}]},
        "checks": {"in_tsls_group": {"value": True, "error": None}, "usage_report": None},
    }
    for key, value in changes.items():
        view[key] = value
    return view


def ids(view: dict[str, t.Any], servers: list[dict[str, t.Any]] | None = None) -> list[str]:
    return sorted(item["id"] for item in _diagnosis.diagnose(view, [server()] if servers is None else servers)["findings"])


def test_a_working_configuration_is_healthy_and_says_which_server_works():
    result = _diagnosis.diagnose(host(), [server()])
    assert result["state"] == "healthy" and result["healthy"] and result["findings"] == []
    assert result["working_servers"] == ["ls01.example.test"]
    assert result["servers"][0]["view"] == "session_host_and_license_server"


def test_a_server_outside_the_inventory_is_diagnosed_from_the_host_view_and_says_so():
    result = _diagnosis.diagnose(host(), [])
    assert result["findings"] == [] and result["servers"][0]["view"] == "session_host_only"
    assert "not in the inventory" in result["notes"][0]


def test_the_server_is_matched_by_computer_name_inventory_name_or_fqdn():
    assert _diagnosis.match_license_server("LS01", [server()])
    assert _diagnosis.match_license_server("ls-host-1", [server()])
    assert _diagnosis.match_license_server("ls01.example.test", [server()])
    assert _diagnosis.match_license_server("ls02.example.test", [server()]) is None


@pytest.mark.parametrize("status,source,expected", [
    (6, "local", ["license_server_unreachable"]),
    (6, "policy", ["gpo_retired_license_server"]),
    (4, "local", ["license_server_older_than_host"]),
    (3, "local", ["license_server_beta_mismatch"]),  # never healthy: the server cannot license this host
    (5, "local", ["host_not_in_tsc_group"]),
    (0, "local", ["license_server_status_unknown"]),
    (None, "local", ["license_server_status_unknown"]),
])
def test_connectivity_statuses(status, source, expected):
    view = host()
    view["license_servers"]["source"] = source
    view["connectivity"]["servers"][0]["status"] = status
    assert ids(view) == expected


def test_unknown_connectivity_makes_the_host_unknown_not_healthy():
    view = host()
    view["connectivity"]["servers"][0]["status"] = 7
    assert _diagnosis.diagnose(view, [server()])["state"] == "unknown"


@pytest.mark.parametrize("change,expected", [
    ({"activation": {"name": "not_activated"}}, ["license_server_not_activated"]),
    ({"version": "10.0.17763"}, ["license_server_older_than_host"]),
    ({"capacity": [{"product_version": "Windows Server 2022", "cal_type": "per_device", "total": 5, "issued": 0,
                    "available": 5}]}, ["cal_type_missing"]),
    ({"capacity": [{"product_version": "Windows Server 2019", "cal_type": "per_user", "total": 5, "issued": 0,
                    "available": 5}]}, ["cal_version_too_old"]),
    ({"is_license_server": False}, ["license_server_unreachable"]),
])
def test_license_server_findings(change, expected):
    ls = server()
    ls["server"].update(change)
    assert ids(host(), [ls]) == expected


def test_newer_cals_fit_an_older_host():
    ls = server()
    ls["server"]["capacity"] = [{"product_version": "Windows Server 2025", "cal_type": "per_user", "total": 5, "issued": 0,
                                 "available": 5}]
    assert ids(host(), [ls]) == []


def test_no_per_device_cal_left():
    view = host(mode={"effective": 2, "source": "local"})
    ls = server()
    ls["server"]["capacity"][1].update(issued=10, available=0)
    assert ids(view, [ls]) == ["no_cals_available"]


def test_per_user_checks_group_membership_and_overuse():
    ls = server(checks={"in_tsls_group": {"value": False, "error": None},
                        "usage_report": {"file_name": "r.xml", "summary": [
                            {"product_version": "Windows Server 2022", "cal_type": 1, "installed": 50, "issued": 60}]}})
    assert ids(host(), [ls]) == ["license_server_not_in_tsls_group", "per_user_overuse"]
    # Per Device hosts do not depend on Per User tracking.
    assert ids(host(mode={"effective": 2, "source": "local"}), [ls]) == []


def test_workgroup_per_user_and_mode_not_configured():
    assert ids(host(domain={"member": False, "workgroup": "WORKGROUP"})) == ["per_user_in_workgroup"]
    assert "licensing_mode_not_configured" in ids(host(mode={"effective": 5, "source": "unset"}))


def test_grace_ending_without_a_working_server():
    view = host(license_servers={"effective": [], "source": "unset"}, grace={"days_left": 5, "error": None})
    view["connectivity"] = {"ok": True, "exists": True, "servers": [], "discovered": []}
    assert ids(view) == ["grace_ending_without_license_server", "no_license_server"]
    view["grace"] = {"days_left": None, "error": "0x80070002"}
    result = _diagnosis.diagnose(view, [])
    assert "grace_unknown" in [item["id"] for item in result["findings"]]


def test_a_grace_period_that_has_ended_is_said_to_have_ended():
    view = host(license_servers={"effective": [], "source": "unset"}, grace={"days_left": 0, "error": None})
    view["connectivity"] = {"ok": True, "exists": True, "servers": [], "discovered": []}
    summaries = {item["id"]: item["summary"] for item in _diagnosis.diagnose(view, [])["findings"]}
    assert summaries["grace_ending_without_license_server"].startswith("The grace period has ended")


def test_every_finding_has_a_remedy_and_evidence():
    view = host(grace={"days_left": 0, "error": None})
    view["connectivity"]["servers"][0]["status"] = 6
    for finding in _diagnosis.diagnose(view, [server()])["findings"]:
        assert set(finding) == {"id", "severity", "summary", "evidence", "remedy"}
        assert finding["severity"] in _diagnosis.SEVERITIES and finding["remedy"]


def test_not_a_session_host():
    assert _diagnosis.diagnose(host(rdsh=False))["state"] == "not_applicable"


def test_grace_class_uses_the_diagnosis():
    report = {"grace_period": {"days_left": 0}}
    working = _diagnosis.diagnose(host(grace={"days_left": 0, "error": None}), [server()])
    assert _diagnosis.grace_class(report, working, 30, 7, "ok") == "ok"
    # The class without a diagnosis is "unknown" at 0 days on a configured host; a working server makes it ok.
    assert _diagnosis.grace_class(report, working, 30, 7, "unknown") == "ok"
    broken_host = host(grace={"days_left": 0, "error": None})
    broken_host["connectivity"]["servers"][0]["status"] = 6
    broken = _diagnosis.diagnose(copy.deepcopy(broken_host), [server()])
    assert _diagnosis.grace_class(report, broken, 30, 7, "ok") == "critical"
    assert _diagnosis.grace_class({"grace_period": {"days_left": 90}}, broken, 30, 7, "ok") == "ok"
    assert _diagnosis.grace_class(report, None, 30, 7, "ok") == "ok"


def test_the_grace_class_filter_takes_the_diagnosis_as_an_optional_input():
    from ansible_collections.remote_desktop.licensing.plugins.filter.licensing_grace_class import licensing_grace_class

    report = {"grace_period": {"days_left": 0, "state": "expired"}, "mode": {"effective": 4},
              "license_servers": {"effective": ["ls01.example.test"]}}
    broken_host = host(grace={"days_left": 0, "error": None})
    broken_host["connectivity"]["servers"][0]["status"] = 6
    # Configuration alone cannot tell whether 0 days left is fine: not verified, so unknown.
    assert licensing_grace_class(report) == "unknown"
    assert licensing_grace_class(report, 30, 7, _diagnosis.diagnose(broken_host, [server()])) == "critical"
    assert licensing_grace_class(report, 30, 7, _diagnosis.diagnose(host(), [server()])) == "ok"
