"""licensing_info end to end: ansible-playbook over winrm against every simulated preset."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT

PLAYBOOK = os.path.join(ROOT, "tests", "integration", "playbooks", "licensing_info.yml")


@pytest.fixture(scope="module")
def fleet_run(preset_fleet, tmp_path_factory):
    preset_fleet.reset_stats()
    run = run_playbook(PLAYBOOK, preset_fleet.inventory, str(tmp_path_factory.mktemp("info")))
    assert run.rc == 0, run.output
    return run, preset_fleet.stats()


def licensing(fleet_run, host):
    run, _stats = fleet_run
    result = run.results[host]
    assert not result.get("failed"), result
    return result["licensing"]


def test_one_winrm_command_and_one_shell_per_host(fleet_run, preset_fleet):
    _run, stats = fleet_run
    assert set(stats) == set(preset_fleet.hosts())
    for host, counters in stats.items():
        assert counters["commands"] == 1, (host, counters)
        assert counters["shells"] == 1, (host, counters)
        assert counters["writes"] == 0, (host, counters)


def test_fresh_host_is_not_configured_and_in_grace(fleet_run):
    report = licensing(fleet_run, "fresh-01")
    assert report["mode"]["effective"] == 5
    assert report["mode"]["effective_name"] == "not_configured"
    assert report["mode"]["source"] == "local"
    assert report["license_servers"]["effective"] == []
    assert report["grace_period"]["state"] == "active"
    assert 95 <= report["grace_period"]["days_left"] <= 100
    assert any("not configured" in note for note in report["warnings"])
    assert any("No license server" in note for note in report["warnings"])


@pytest.mark.parametrize("host,mode,name,servers", [
    ("per-device-02", 2, "per_device", ["ls01.example.test"]),
    ("per-user-03", 4, "per_user", ["ls01.example.test", "ls02.example.test"]),
])
def test_configured_hosts_report_local_mode_and_servers(fleet_run, host, mode, name, servers):
    report = licensing(fleet_run, host)
    assert (report["mode"]["effective"], report["mode"]["effective_name"], report["mode"]["source"]) == (mode, name, "local")
    assert report["mode"]["wmi_licensing_type"] == mode
    assert report["license_servers"]["effective"] == servers
    assert report["license_servers"]["source"] == "local"
    assert report["warnings"] == []


def test_gpo_conflict_reports_policy_per_device(fleet_run):
    report = licensing(fleet_run, "gpo-conflict-04")
    mode = report["mode"]
    assert (mode["effective"], mode["effective_name"], mode["source"]) == (2, "per_device", "policy")
    assert (mode["local"], mode["local_name"], mode["policy"]) == (4, "per_user", 2)
    assert mode["wmi_policy_source"] == "policy"
    servers = report["license_servers"]
    assert servers["effective"] == ["ls01.example.test", "ls02.example.test"]
    assert servers["source"] == "policy"
    assert servers["local"] == ["ls03.example.test"]
    assert any("Group Policy sets the licensing mode" in note for note in report["warnings"])


def test_grace_states(fleet_run):
    expiring = licensing(fleet_run, "grace-expiring-05")["grace_period"]
    assert expiring["state"] == "expiring" and 1 <= expiring["days_left"] <= 5
    expired = licensing(fleet_run, "grace-expired-06")
    assert expired["grace_period"]["state"] == "expired" and expired["grace_period"]["days_left"] == 0
    assert any("new connections will be refused" in note for note in expired["warnings"])
    client = licensing(fleet_run, "client-cache-07")
    assert client["grace_period"]["state"] == "not_applicable"
    assert client["role"]["rdsh_installed"] is False


def test_client_cache_is_counted(fleet_run):
    cache = licensing(fleet_run, "client-cache-07")["client_cache"]
    assert cache["present"] is True
    assert cache["views"]["64"] == {"present": True, "hardware_id": True, "store_entries": 2}
    assert cache["views"]["32"]["present"] is False
    assert licensing(fleet_run, "fresh-01")["client_cache"]["present"] is False


@pytest.mark.parametrize("host,version,build,full", [
    ("ws2012r2-08", "Windows Server 2012 R2", 9600, "6.3.9600.21620"),
    ("ws2016-09", "Windows Server 2016", 14393, "10.0.14393.7428"),
    ("ws2019-10", "Windows Server 2019", 17763, "10.0.17763.6532"),
    ("ws2022-11", "Windows Server 2022", 20348, "10.0.20348.2849"),
    ("ws2025-12", "Windows Server 2025", 26100, "10.0.26100.2314"),
    ("client-cache-07", "Windows 10 Enterprise", 22631, "10.0.22631.4460"),
])
def test_os_version_names(fleet_run, host, version, build, full):
    os_info = licensing(fleet_run, host)["os"]
    assert (os_info["server_version"], os_info["build"], os_info["version"]) == (version, build, full)


def test_services_domain_and_agent_facts(fleet_run):
    run, _ = fleet_run
    result = run.results["per-user-03"]
    report = result["licensing"]
    assert report["services"]["TermService"] == {"exists": True, "state": "running", "start_mode": "manual"}
    assert report["services"]["TermServLicensing"]["exists"] is False
    assert report["domain"] == {"member": True, "name": "example.test", "workgroup": None, "role": 3,
                                "computer_name": "PER-USER-03"}
    assert result["agent"]["elevated"] is True
    assert result["changed"] is False


def test_gather_subset_limits_what_is_read(preset_fleet, tmp_path):
    preset_fleet.reset_stats()
    run = run_playbook(PLAYBOOK, preset_fleet.inventory, str(tmp_path), {"info_subset": ["grace"]},
                       ["--limit", "fresh-01"])
    assert run.rc == 0, run.output
    report = run.results["fresh-01"]["licensing"]
    assert set(report) == {"gather_subset", "grace_period", "warnings"}
    assert report["grace_period"]["state"] == "active"
    assert preset_fleet.stats()["fresh-01"]["reads"] == 1  # only the WMI operation


def test_unknown_gather_subset_fails_before_contacting_the_host(preset_fleet, tmp_path):
    preset_fleet.reset_stats()
    run = run_playbook(PLAYBOOK, preset_fleet.inventory, str(tmp_path), {"info_subset": ["mode", "licence"]},
                       ["--limit", "fresh-01"])
    result = run.results["fresh-01"]
    assert result["failed"] is True
    assert "Unknown gather_subset entry 'licence'" in result["msg"]
    assert "license_servers" in result["msg"]
    assert preset_fleet.stats()["fresh-01"]["commands"] == 0


def test_check_mode_reads_the_same(preset_fleet, tmp_path):
    preset_fleet.reset_stats()
    run = run_playbook(PLAYBOOK, preset_fleet.inventory, str(tmp_path), None, ["--check", "--limit", "per-user-03"])
    assert run.rc == 0, run.output
    assert run.results["per-user-03"]["licensing"]["mode"]["effective_name"] == "per_user"
    assert preset_fleet.stats()["per-user-03"]["writes"] == 0


def test_modified_agent_is_refused_by_the_simulator(preset_fleet, tmp_path):
    """A collection whose agent differs from the shipped one gets no answer from the simulated host."""
    copy_root = tmp_path / "collections" / "ansible_collections" / "remote_desktop" / "licensing"
    shutil.copytree(ROOT, copy_root, ignore=shutil.ignore_patterns(".venv", ".build", ".git", "simulator", "tests"))
    agent = copy_root / "plugins" / "plugin_utils" / "_agent.ps1"
    agent.write_text(agent.read_text(encoding="utf-8") + "\nRemove-Item -Recurse C:\\\n", encoding="utf-8")
    run = run_playbook(PLAYBOOK, preset_fleet.inventory, str(tmp_path / "out"), None, ["--limit", "fresh-01"],
                       env={"ANSIBLE_COLLECTIONS_PATH": str(tmp_path / "collections")})
    result = run.results["fresh-01"]
    assert result["failed"] is True
    assert "rds-sim refused the agent script" in result["msg"]
