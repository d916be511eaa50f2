"""Two runs at once on one host: the write call is conditional, so the run whose read went stale writes
nothing and says so, and the host holds exactly what the other run asked for (ansible-playbook over
winrm against rds-sim). rds-sim's hold_writes fault parks the first run's write request after its read,
so the second run reads, decides and writes in between, deterministically."""

from __future__ import annotations

import os
import threading
import time

from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT

PLAYBOOK = os.path.join(ROOT, "tests", "integration", "playbooks", "licensing_mode.yml")
CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
SERVERS_KEY = "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"


def _wait_for(condition, what: str, limit: float = 300.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.1)


def test_two_concurrent_runs_one_succeeds_the_other_refuses_and_writes_nothing(tmp_path):
    fleet = SimFleet(str(tmp_path / "fleet")).up(1, ["fresh"])
    try:
        fleet.reset_host("fresh-01", "fresh", faults={"hold_writes": 1})
        outcomes = {}

        def run_a() -> None:
            outcomes["a"] = run_playbook(PLAYBOOK, fleet.inventory, str(tmp_path / "a"),
                                         {"mode": "per_user", "license_servers": ["ls1.example.test"],
                                          "backup": True, "backup_dir": str(tmp_path / "backups-a")})

        thread = threading.Thread(target=run_a)
        thread.start()
        # Run A has read the host and its write request is parked in rds-sim.
        _wait_for(lambda: fleet.stats()["fresh-01"]["held_writes"] == 1, "run A's write request")
        run_b = run_playbook(PLAYBOOK, fleet.inventory, str(tmp_path / "b"),
                             {"mode": "per_device", "license_servers": ["ls2.example.test"],
                              "backup": True, "backup_dir": str(tmp_path / "backups-b")})
        fleet.set_faults("fresh-01", {})
        thread.join(timeout=600)
        result_a, result_b = outcomes["a"].results["fresh-01"], run_b.results["fresh-01"]

        assert result_b["changed"] is True and not result_b.get("failed"), result_b
        assert result_a.get("failed") is True, result_a
        assert "was changed by someone else since it was read; run again" in result_a["msg"], result_a["msg"]
        # The refusal says nothing was changed and names the backup run A saved before it.
        assert "Nothing was changed." in result_a["msg"], result_a["msg"]
        assert os.path.exists(result_a["backup_file"]) and result_a["msg"].endswith(f"{result_a['backup_file']}."), result_a
        # The host holds exactly the state of the run that succeeded, and what it reported.
        assert fleet.value("fresh-01", CORE, "LicensingMode") == {"type": "dword", "data": 2}
        assert fleet.value("fresh-01", SERVERS_KEY, "SpecifiedLicenseServers") == {
            "type": "multistring", "data": ["ls2.example.test"]}
        assert result_b["after"]["mode"] == 2 and result_b["after"]["license_servers"] == ["ls2.example.test"], result_b
    finally:
        fleet.down()
