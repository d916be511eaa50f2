"""The diagnose playbook over one rds-sim fleet holding every diagnosis preset: exactly the expected
finding ids per session host, none on healthy hosts, the same answer with --check, no writes, and one
WinRM command per host for the diagnosis itself."""

from __future__ import annotations

import csv
import json
import os
import re

import jsonschema
import pytest
import yaml

from tests.helpers.browser import needs_browser, rendered_dom
from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT


LICENSE_SERVERS = ["license_server+lsrv_main", "license_server+lsrv_unactivated", "license_server+lsrv_device_only",
                   "license_server+lsrv_old_cals", "license_server+lsrv_not_in_group", "license_server+lsrv_full",
                   "license_server+lsrv_overused"]
# Session host preset -> the finding ids the diagnosis must return, exactly.
EXPECTED = {
    "per_user": [],
    "per_device": [],
    "diag_unreachable": ["license_server_unreachable"],
    "diag_not_activated": ["license_server_not_activated"],
    "diag_wrong_cal_type": ["cal_type_missing"],
    "diag_old_cals": ["cal_version_too_old"],
    "diag_old_server": ["license_server_older_than_host"],
    "diag_not_in_group": ["license_server_not_in_tsls_group"],
    "diag_no_cals_left": ["no_cals_available"],
    "diag_overuse": ["per_user_overuse"],
    "diag_grace_no_server": ["grace_ending_without_license_server", "no_license_server"],
    "diag_workgroup_per_user": ["per_user_in_workgroup"],
    "diag_gpo_retired": ["gpo_retired_license_server"],
    "diag_status_unknown": ["license_server_status_unknown"],
}
# A session host that refuses connections: its diagnosis is unknown, never healthy or dropped.
UNREACHABLE_SCENARIO = "per_user+ws2022"
SCENARIOS = LICENSE_SERVERS + list(EXPECTED) + [UNREACHABLE_SCENARIO]
UNREACHABLE = f"per-user-ws2022-{len(SCENARIOS)}"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("diagnose")).up(len(SCENARIOS), SCENARIOS, faults=[f"{UNREACHABLE}=refused"])
    yield fleet
    fleet.down()


def scenario_of(fleet: SimFleet) -> dict[str, str]:
    return {host: scenario for host, scenario in zip(fleet.hosts(), SCENARIOS)}


def test_diagnose_names_exactly_the_expected_findings_per_host(fleet, tmp_path):
    fleet.reset_stats()
    run = run_playbook("remote_desktop.licensing.diagnose", fleet.inventory, str(tmp_path / "normal"),
                       {"report_dir": str(tmp_path / "normal")})
    assert run.rc == 0, run.output
    results = {name: result for name, result in _load(tmp_path / "normal" / "diagnosis").items()}
    got = {scenario: sorted(results[host]["finding_ids"]) for host, scenario in scenario_of(fleet).items()
           if scenario in EXPECTED}
    table = "\n".join(f"{scenario}: expected {EXPECTED[scenario]} got {got[scenario]}" for scenario in EXPECTED)
    assert got == EXPECTED, table
    for host, scenario in scenario_of(fleet).items():
        result = results[host]
        if scenario in EXPECTED:
            assert result["state"] == ("healthy" if not EXPECTED[scenario] else
                                       "unknown" if scenario == "diag_status_unknown" else result["state"])
            for finding in result["diagnosis"]["findings"]:
                assert finding["severity"] in ("critical", "warning", "info") and finding["remedy"] and finding["evidence"]
            # One line per host on the console.
            assert f"{host}: {result['state']}" in run.output
        elif host == UNREACHABLE:
            assert result["state"] == "unknown" and result["role"] == "session_host" and result["error"]
        else:
            assert result["role"] == "license_server" and result["license_server_view"]["server"]["is_license_server"]
    overused = next(host for host, scenario in scenario_of(fleet).items() if scenario == "license_server+lsrv_overused")
    # FetchReportSummaryEntries answers LSERVER_I_NO_MORE_DATA (0x4001) with its last entries: read as success.
    checks = results[overused]["license_server_view"]["checks"]
    assert checks["usage_error"] is None and checks["usage_report"]["summary"][0]["issued"] == 80
    healthy = next(host for host, scenario in scenario_of(fleet).items() if scenario == "per_user")
    assert results[healthy]["diagnosis"]["notes"] == [
        "ls02.example.test is not in the inventory: diagnosed from the session host's view alone."]
    # One task per session host: license servers are read in a play of their own, so no session host skips their
    # task (a license server skips the session host task). Only the first host of each play also runs that play's
    # run_once steps (argument check, views, report).
    tasks = {host: sum(int(count) for count in counts) for host, *counts in
             re.findall(r"^(\S+)\s+: ok=(\d+)\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)",
                        run.output, re.M)}
    assert set(tasks) == set(fleet.hosts()), run.output
    session_hosts = [tasks[host] for host, scenario in scenario_of(fleet).items() if scenario not in LICENSE_SERVERS]
    assert sorted(session_hosts)[:-1] == [1] * (len(session_hosts) - 1), tasks
    stats = fleet.stats()
    # The diagnosis itself: one WinRM command (one powershell.exe) per host, nothing written.
    assert {host: counters["commands"] for host, counters in stats.items()} == {
        host: 0 if host == UNREACHABLE else 1 for host in fleet.hosts()}
    assert all(counters["writes"] == 0 for counters in stats.values())
    checked = run_playbook("remote_desktop.licensing.diagnose", fleet.inventory, str(tmp_path / "check"),
                           {"report_dir": str(tmp_path / "check")}, args=["--check"])
    assert checked.rc == 0, checked.output
    assert {host: result["finding_ids"] for host, result in _load(tmp_path / "check" / "diagnosis").items()} == \
        {host: result["finding_ids"] for host, result in results.items()}


def test_a_play_with_no_host_of_the_diagnose_groups_fails_before_contacting_any_host(fleet, tmp_path):
    """An inventory with its own group names and only target_hosts set: refused by name, never an empty green run."""
    fleet.reset_stats()
    run = run_playbook("remote_desktop.licensing.diagnose", fleet.inventory, str(tmp_path / "r"),
                       {"report_dir": str(tmp_path / "r"), "target_hosts": "all",
                        "diagnose_session_host_group": "vdi_session_hosts", "diagnose_license_server_group": "lic_servers"})
    assert run.rc != 0, run.output
    assert "is in diagnose_session_host_group (vdi_session_hosts) or diagnose_license_server_group (lic_servers)" in run.output
    assert all(counters["commands"] == 0 for counters in fleet.stats().values())
    assert not (tmp_path / "r" / "diagnosis").exists()


def test_a_comma_list_target_reads_its_license_servers_first(fleet, tmp_path):
    """target_hosts as a comma list (AWX surveys, hand-written patterns): the license servers in it are still read."""
    hosts = scenario_of(fleet)
    servers = sorted(host for host, scenario in hosts.items() if scenario in LICENSE_SERVERS)
    session = sorted(host for host, scenario in hosts.items() if scenario not in LICENSE_SERVERS)[:2]
    run = run_playbook("remote_desktop.licensing.diagnose", fleet.inventory, str(tmp_path / "r"),
                       {"report_dir": str(tmp_path / "r"), "target_hosts": ",".join(session + servers)})
    assert run.rc == 0, run.output
    results = _load(tmp_path / "r" / "diagnosis")
    assert {host for host, result in results.items() if result["role"] == "license_server"} == set(servers)


def test_a_misspelt_group_name_fails_before_any_session_host_is_contacted(fleet, tmp_path):
    """-e diagnose_license_server_group=rds_license_server (no such group) would drop every license server silently."""
    fleet.reset_stats()
    run = run_playbook("remote_desktop.licensing.diagnose", fleet.inventory, str(tmp_path / "r"),
                       {"report_dir": str(tmp_path / "r"), "diagnose_license_server_group": "rds_license_server"})
    assert run.rc != 0, run.output
    assert "diagnose_license_server_group 'rds_license_server' is not a group of this inventory" in " ".join(run.output.split())
    assert all(counters["commands"] == 0 for counters in fleet.stats().values())


def test_an_empty_group_answer_is_refused_with_the_inventorys_groups_not_a_traceback(fleet, tmp_path):
    """An empty AWX survey answer used to make the first play's host pattern '&' (ansible-core: IndexError)."""
    fleet.reset_stats()
    run = run_playbook("remote_desktop.licensing.diagnose", fleet.inventory, str(tmp_path / "r"),
                       {"report_dir": str(tmp_path / "r"), "diagnose_license_server_group": ""})
    assert run.rc != 0, run.output
    assert "Unexpected Exception" not in run.output and "Traceback" not in run.output
    assert "diagnose_license_server_group '' is not a group of this inventory" in " ".join(run.output.split()), run.output
    assert all(counters["commands"] == 0 for counters in fleet.stats().values())


def test_license_server_group_set_in_the_inventory_is_refused_before_any_session_host_is_contacted(fleet, tmp_path):
    """The play that reads the license servers finds them by host pattern, which sees extra variables only: a group name
    set in the inventory leaves them unread, and the run stops naming them and the fix instead of diagnosing without them."""
    with open(fleet.inventory, encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    groups = inventory["all"]["children"]
    groups["lic_servers"] = groups.pop("rds_license_servers")
    inventory["all"].setdefault("vars", {})["diagnose_license_server_group"] = "lic_servers"
    renamed = tmp_path / "inventory.yml"
    renamed.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    fleet.reset_stats()
    run = run_playbook("remote_desktop.licensing.diagnose", str(renamed), str(tmp_path / "r"),
                       {"report_dir": str(tmp_path / "r"), "target_hosts": "lic_servers:rds_session_hosts"})
    assert run.rc != 0, run.output
    assert "(group lic_servers, diagnose_license_server_group) were not read" in run.output, run.output
    assert "-e diagnose_license_server_group=lic_servers" in run.output
    assert all(counters["commands"] == 0 for counters in fleet.stats().values())
    # The fix the message names: the group as an extra variable.
    fixed = run_playbook("remote_desktop.licensing.diagnose", str(renamed), str(tmp_path / "f"),
                         {"report_dir": str(tmp_path / "f"), "target_hosts": "lic_servers:rds_session_hosts",
                          "diagnose_license_server_group": "lic_servers"})
    assert fixed.rc == 0, fixed.output
    results = _load(tmp_path / "f" / "diagnosis")
    assert {host for host, result in results.items() if result["role"] == "license_server"} == {
        host for host, scenario in scenario_of(fleet).items() if scenario in LICENSE_SERVERS}


def _load(directory) -> dict[str, dict]:
    return {name[:-5]: json.load(open(os.path.join(directory, name), encoding="utf-8"))
            for name in os.listdir(directory) if name.endswith(".json")}


@pytest.fixture(scope="module")
def report(fleet, tmp_path_factory):
    """diagnose, then licensing_report into the same report_dir and with the same run id: the fleet report combines
    the diagnosis with the licensing results (the unreachable host is tolerated, so the job stays green)."""
    report_dir = tmp_path_factory.mktemp("report")
    for playbook in ("diagnose", "licensing_report"):
        run = run_playbook(f"remote_desktop.licensing.{playbook}", fleet.inventory, str(report_dir / "unused"),
                           {"report_dir": str(report_dir), "run_id": "diagnose-and-report", "tolerate_unread_hosts": True})
        assert run.rc == 0, run.output
    with open(report_dir / "report.json", encoding="utf-8") as handle:
        return report_dir, json.load(handle)


def test_fleet_report_diagnosis_section_counts_hosts_per_finding_and_cal_capacity(fleet, report):
    report_dir, document = report
    with open(os.path.join(ROOT, "schemas", "fleet_report.schema.json"), encoding="utf-8") as handle:
        jsonschema.validate(document, json.load(handle))
    hosts = scenario_of(fleet)
    expected: dict[str, list[str]] = {}
    for host, scenario in hosts.items():
        for finding in EXPECTED.get(scenario, []):
            expected.setdefault(finding, []).append(host)
    found = {entry["id"]: sorted(entry["hosts"]) for entry in document["diagnosis"]["findings"]}
    assert found == {finding: sorted(names) for finding, names in expected.items()}
    assert all(entry["count"] == len(entry["hosts"]) and entry["remedy"] for entry in document["diagnosis"]["findings"])
    unknown = [item for item in document["diagnosis"]["hosts"] if item["state"] == "unknown"]
    status_unknown = next(host for host, scenario in hosts.items() if scenario == "diag_status_unknown")
    assert sorted(item["host"] for item in unknown) == sorted([UNREACHABLE, status_unknown])
    assert all(item["notes"] for item in unknown if item["host"] == UNREACHABLE)
    assert sorted(document["diagnosis"]["healthy_hosts"]) == sorted(
        host for host, scenario in hosts.items() if scenario in EXPECTED and not EXPECTED[scenario])
    capacity = {server["computer_name"]: server for server in document["cal_capacity"]}
    assert set(capacity) == {"LS01", "LS-UNACT", "LS-DEVICE", "LS-OLDCAL", "LS-NOGROUP", "LS-FULL", "LS-OVER"}
    assert capacity["LS-FULL"]["capacity"] == [{"product_version": "Windows Server 2022", "cal_type": "per_device",
                                                "total": 20, "issued": 20, "available": 0}]
    assert capacity["LS-UNACT"]["activation"] == "not_activated"
    # The grace class uses the diagnosis: 5 days and no working server is critical.
    grace_host = next(host for host, scenario in hosts.items() if scenario == "diag_grace_no_server")
    assert grace_host in document["summary"]["critical_hosts"]
    with open(report_dir / "diagnosis.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {(row["host"], row["finding_id"]) for row in rows if row["finding_id"]} == {
        (host, finding) for finding, names in expected.items() for host in names}
    assert all(row["remedy"] for row in rows if row["finding_id"])
    with open(report_dir / "cal_capacity.csv", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == sum(len(server["capacity"]) for server in document["cal_capacity"])
    with open(report_dir / "report.md", encoding="utf-8") as handle:
        markdown = handle.read()
    assert "## Diagnosis" in markdown and "## CAL capacity" in markdown and "| per_user_overuse | warning | 1 |" in markdown


@needs_browser
def test_html_diagnosis_section_renders_in_headless_chromium(report, tmp_path):
    report_dir, document = report
    dom = rendered_dom(report_dir / "report.html", tmp_path / "profile", "fleet-report-diagnosis.png", 2400)
    for element in ('id="diagnosis"', 'id="diagnosis-findings"', 'id="diagnosis-hosts"', 'id="cal-capacity-table"'):
        assert element in dom
    for entry in document["diagnosis"]["findings"]:
        assert f"<td>{entry['id']}</td>" in dom


def test_own_group_names_as_extra_variables_are_the_default_target(fleet, tmp_path):
    """The AWX template sets only the two group variables (docs/awx.md): the plays run on those groups, no target_hosts."""
    with open(fleet.inventory, encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    groups = inventory["all"]["children"]
    groups["lic_servers"] = groups.pop("rds_license_servers")
    groups["vdi_session_hosts"] = groups.pop("rds_session_hosts")
    renamed = tmp_path / "inventory.yml"
    renamed.write_text(yaml.safe_dump(inventory), encoding="utf-8")
    run = run_playbook("remote_desktop.licensing.diagnose", str(renamed), str(tmp_path / "r"),
                       {"report_dir": str(tmp_path / "r"), "diagnose_license_server_group": "lic_servers",
                        "diagnose_session_host_group": "vdi_session_hosts"})
    assert run.rc == 0, run.output
    results = _load(tmp_path / "r" / "diagnosis")
    roles = {result["role"] for result in results.values()}
    assert len(results) == len(SCENARIOS) and roles == {"license_server", "session_host"}, roles
