"""configure_licensing's reboot strategy end to end: licensing_mode's restart=reboot runs
ansible.windows.win_reboot's action plugin on the task's connection, and rds-sim reboots the host as
that plugin sees Windows do it (the host goes away, comes back with a new boot time, LogonUI ready)."""

from __future__ import annotations

import pytest

from tests.helpers.fleet import SimFleet, peer_collections_env, run_playbook

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"


@pytest.fixture()
def fleet(tmp_path):
    fleet = SimFleet(tmp_path / "fleet").up(2, ["per_device", "gpo_conflict"], serve_peer_modules=True)
    yield fleet
    fleet.down()


def reboots(fleet, host):
    return fleet.show(host)["facts"].get("reboots", 0)


def test_the_host_is_rebooted_after_its_change_and_not_again(fleet, tmp_path):
    changed, overridden = fleet.hosts()
    survey = {"target_hosts": "all", "configure_licensing_restart_strategy": "reboot",
              "configure_licensing_license_servers": ["ls01.example.test"], "configure_licensing_policy_conflict": "warn"}
    run = run_playbook("remote_desktop.licensing.configure_licensing", fleet.inventory, str(tmp_path / "unused"), survey,
                       env=peer_collections_env())
    assert run.rc == 0, run.output
    assert f"{changed}: licensing changed; host rebooted" in run.output
    assert fleet.value(changed, CORE, "LicensingMode") == {"type": "dword", "data": 4}
    assert reboots(fleet, changed) == 1
    # Group Policy overrides every value written there: the licensing in use stays the same, no reboot.
    assert reboots(fleet, overridden) == 0
    assert f"{overridden}: licensing changed; Group Policy overrides it, so it has no effect while the policy is set" in run.output
    assert fleet.show(changed)["facts"]["services"]["TermService"] == "Running"
    again = run_playbook("remote_desktop.licensing.configure_licensing", fleet.inventory, str(tmp_path / "unused"), survey,
                         env=peer_collections_env())
    assert again.rc == 0 and f"{changed}: no change" in again.output, again.output
    assert reboots(fleet, changed) == 1


def test_check_mode_says_it_would_reboot_and_does_not(fleet, tmp_path):
    changed = fleet.hosts()[0]
    run = run_playbook("remote_desktop.licensing.configure_licensing", fleet.inventory, str(tmp_path / "unused"),
                       {"target_hosts": changed, "configure_licensing_restart_strategy": "reboot"}, args=["--check"],
                       env=peer_collections_env())
    assert run.rc == 0, run.output
    assert f"[check mode] {changed}: licensing changed; host rebooted" in run.output
    assert reboots(fleet, changed) == 0
    assert fleet.value(changed, CORE, "LicensingMode") == {"type": "dword", "data": 2}
