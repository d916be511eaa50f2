"""The diagnose playbook over one rds-sim fleet holding every diagnosis preset: exactly the expected
finding ids per session host, none on healthy hosts, the same answer with --check, no writes, and one
WinRM command per host for the diagnosis itself."""

from __future__ import annotations

import pytest

from tests.helpers.fleet import SimFleet, run_playbook

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
}
SCENARIOS = LICENSE_SERVERS + list(EXPECTED)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("diagnose")).up(len(SCENARIOS), SCENARIOS)
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
            assert result["state"] == ("healthy" if not EXPECTED[scenario] else result["state"])
            for finding in result["diagnosis"]["findings"]:
                assert finding["severity"] in ("critical", "warning", "info") and finding["remedy"] and finding["evidence"]
            # One line per host on the console.
            assert f"{host}: {result['state']}" in run.output
        else:
            assert result["role"] == "license_server" and result["license_server_view"]["server"]["is_license_server"]
    healthy = next(host for host, scenario in scenario_of(fleet).items() if scenario == "per_user")
    assert results[healthy]["diagnosis"]["notes"] == [
        "ls02.example.test is not in the inventory: diagnosed from the session host's view alone."]
    stats = fleet.stats()
    # The diagnosis itself: one WinRM command (one powershell.exe) per host, nothing written.
    assert {host: counters["commands"] for host, counters in stats.items()} == {host: 1 for host in fleet.hosts()}
    assert all(counters["writes"] == 0 for counters in stats.values())
    checked = run_playbook("remote_desktop.licensing.diagnose", fleet.inventory, str(tmp_path / "check"),
                           {"report_dir": str(tmp_path / "check")}, args=["--check"])
    assert checked.rc == 0, checked.output
    assert {host: result["finding_ids"] for host, result in _load(tmp_path / "check" / "diagnosis").items()} == \
        {host: result["finding_ids"] for host, result in results.items()}


def _load(directory) -> dict[str, dict]:
    import json
    import os

    return {name[:-5]: json.load(open(os.path.join(directory, name), encoding="utf-8"))
            for name in os.listdir(directory) if name.endswith(".json")}
