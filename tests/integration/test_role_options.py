"""The shipped roles hand their variables to the module through options_from_role (no template per host):
an administrator's inventory templates, per-host values and AWX survey strings still reach each host as
the role's "{{ variable }}" arguments did."""

from __future__ import annotations

import os

import pytest

from tests.helpers.fleet import SimFleet, run_playbook

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
SERVERS = "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"


@pytest.fixture()
def fleet(tmp_path):
    fleet = SimFleet(tmp_path / "fleet").up(3, ["fresh", "fresh", "per_device"])
    yield fleet
    fleet.down()


def site_inventory(tmp_path, fleet):
    """The administrator's own group values, one of them a template, and one host's own value."""
    path = tmp_path / "site.yml"
    first = fleet.hosts()[0]
    path.write_text(
        "all:\n"
        "  vars:\n"
        "    site_mode: per_device\n"
        "    site_servers: [ls01.example.test, ls02.example.test]\n"
        "    configure_licensing_mode: '{{ site_mode }}'\n"
        "    configure_licensing_license_servers: '{{ site_servers }}'\n"
        "  hosts:\n"
        f"    {first}:\n"
        "      configure_licensing_mode: per_user\n")
    return str(path)


def test_inventory_templates_per_host_values_and_survey_strings_reach_each_host(fleet, tmp_path):
    backups = tmp_path / "backups"
    survey = {"configure_licensing_backup": "true", "configure_licensing_backup_dir": str(backups),
              "configure_licensing_restart_strategy": "service", "configure_licensing_clear_license_servers": "false",
              "target_hosts": "all"}
    run = run_playbook("remote_desktop.licensing.configure_licensing", fleet.inventory, str(tmp_path / "unused"), survey,
                       args=["-i", site_inventory(tmp_path, fleet)])
    assert run.rc == 0, run.output
    first, *others = fleet.hosts()
    assert fleet.value(first, CORE, "LicensingMode")["data"] == 4  # its own value wins over the group's template
    for host in others:
        assert fleet.value(host, CORE, "LicensingMode")["data"] == 2, host
    for host in fleet.hosts():
        assert fleet.value(host, SERVERS, "SpecifiedLicenseServers")["data"] == ["ls01.example.test", "ls02.example.test"]
        # backup "true" (a survey string) and the backup directory reached the module
        assert [name for name in os.listdir(backups / host) if name.endswith(".reg")], host
    assert f"TermService restarted on {', '.join(fleet.hosts())}" in run.output, run.output
    again = run_playbook("remote_desktop.licensing.configure_licensing", fleet.inventory, str(tmp_path / "unused"), survey,
                         args=["-i", site_inventory(tmp_path, fleet)])
    assert again.rc == 0 and "changed=0" in again.output and "changed=1" not in again.output, again.output


def test_drift_survey_fields_as_strings_replace_the_baseline_settings(fleet, tmp_path):
    results = tmp_path / "drift"
    run = run_playbook("remote_desktop.licensing.drift_check", fleet.inventory, str(results),
                       {"target_hosts": "all", "drift_check_results_dir": str(results),
                        "drift_check_baseline_mode": "per_device", "drift_check_baseline_min_grace_days": "0"},
                       args=["--check"])
    assert run.rc == 0, run.output
    drifting = sorted(host for host, result in run.results.items() if result["drift"])
    assert drifting == fleet.hosts()[:2], run.output  # the two fresh hosts are not per_device
    setting = next(item for item in run.results[fleet.hosts()[0]]["drift"] if item["setting"] == "mode")
    assert setting["expected"] == "per_device"


def test_a_role_name_for_another_module_is_refused_before_the_host_is_contacted(fleet, tmp_path):
    playbook = tmp_path / "own.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  tasks:\n"
        "    - remote_desktop.licensing.licensing_mode:\n        options_from_role: grace_reset\n")
    fleet.reset_stats()
    run = run_playbook(str(playbook), fleet.inventory, str(tmp_path / "unused"))
    assert run.rc != 0
    assert "options_from_role='grace_reset' is not a role of this collection that uses licensing_mode; " \
           "licensing_mode takes configure_licensing" in run.output, run.output
    assert all(counters["commands"] == 0 for counters in fleet.stats().values())
