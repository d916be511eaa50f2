"""The playbooks' batch guard: with serial and max_fail_percentage, a batch whose failed AND unreachable hosts
pass the threshold stops the play, and later batches are never contacted (ansible-core alone keeps going when
the failures include unreachable hosts: ansible/ansible#56265). ansible-playbook over winrm against rds-sim."""

from __future__ import annotations

from tests.helpers.fleet import SimFleet, run_playbook

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"


def test_one_failing_and_one_unreachable_host_in_batch_one_stop_batch_two(tmp_path):
    faults = [f"fresh-01=access_denied:{CORE}", "fresh-02=refused"]
    fleet = SimFleet(tmp_path / "fleet").up(10, ["fresh"], faults=faults)
    try:
        run = run_playbook("remote_desktop.licensing.configure_licensing", fleet.inventory, str(tmp_path / "unused"),
                           {"batch_size": 5, "batch_max_fail_percentage": 10, "configure_licensing_backup_dir": str(tmp_path / "b")})
        assert run.rc != 0, run.output
        stats = fleet.stats()
        # Batch 1's healthy hosts were configured; batch 2 was never contacted.
        assert [stats[f"fresh-0{n}"]["writes"] for n in (3, 4, 5)] == [1, 1, 1], stats
        assert {host: stats[host]["commands"] for host in ("fresh-06", "fresh-07", "fresh-08", "fresh-09", "fresh-10")} \
            == {"fresh-06": 0, "fresh-07": 0, "fresh-08": 0, "fresh-09": 0, "fresh-10": 0}, stats
        assert fleet.value("fresh-06", CORE, "LicensingMode") == {"type": "dword", "data": 5}
        assert "Batch guard: an earlier batch had more than batch_max_fail_percentage=10 % of its hosts fail" in run.output, run.output
        assert "(fresh-06, fresh-07, fresh-08, fresh-09, fresh-10) and any later ones were not contacted" in run.output
        assert "(the recap counts fresh-06 as failed only because this check ran there)" in " ".join(run.output.split())
    finally:
        fleet.down()


def test_a_batch_under_the_threshold_lets_the_next_batch_run(tmp_path):
    fleet = SimFleet(tmp_path / "fleet").up(4, ["fresh"], faults=["fresh-01=refused"])
    try:
        run = run_playbook("remote_desktop.licensing.configure_licensing", fleet.inventory, str(tmp_path / "unused"),
                           {"batch_size": 2, "max_fail_percentage": 50, "configure_licensing_backup_dir": str(tmp_path / "b")})
        assert "Batch guard" not in run.output, run.output
        stats = fleet.stats()
        assert stats["fresh-03"]["writes"] == 1 and stats["fresh-04"]["writes"] == 1, stats
    finally:
        fleet.down()
