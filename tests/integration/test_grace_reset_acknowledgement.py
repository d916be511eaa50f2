"""The grace_reset role's lab acknowledgement cannot be skipped with --start-at-task: the module checks it too
(ansible-playbook over winrm against rds-sim)."""

from __future__ import annotations

from tests.helpers.fleet import SimFleet, run_playbook

GRACE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"


def test_start_at_task_cannot_skip_the_lab_acknowledgement(tmp_path):
    fleet = SimFleet(tmp_path / "fleet").up(1, ["grace_expiring"])
    try:
        before = fleet.show("grace-expiring-01")["registry"]
        run = run_playbook("remote_desktop.licensing.grace_reset", fleet.inventory, str(tmp_path / "unused"),
                           {"target_hosts": "all", "grace_reset_backup_dir": str(tmp_path / "b")},
                           args=["--start-at-task", "Reset the grace period"])
        assert run.rc != 0, run.output
        assert "acknowledge_lab_use" in run.output, run.output
        assert fleet.stats()["grace-expiring-01"]["writes"] == 0
        assert fleet.show("grace-expiring-01")["registry"] == before
    finally:
        fleet.down()
