"""rds-sim's model of a reboot, as ansible.windows.win_reboot makes and checks it (rds_sim/reboot.py)."""

from __future__ import annotations

import json

from rds_sim import reboot
from rds_sim.host import Host

BOOT_TIME = "(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime).LastBootUpTime.ToFileTime()"
KEY = "HKLM:\\" + reboot.LOGON_UI_KEY
SHUTDOWN = (f"$ErrorActionPreference = 'Continue'\n\nif ($True) {{\n    Remove-Item -LiteralPath '{KEY}' -Force "
            "-ErrorAction SilentlyContinue\n}\n\n$stdout = $null\n$stderr = . { C:\\Windows\\System32\\shutdown.exe /r /t 2 "
            "/c 'msg' | Set-Variable stdout } 2>&1 | ForEach-Object ToString\n")
TEST = f"Get-Item -LiteralPath '{KEY}' -ErrorAction Stop; 'success-1234'"


def host(**faults):
    return Host({"name": "rdsh01", "registry": {}, "facts": {"services": {"TermService": "Running", "UmRdpService": "Stopped"}},
                 "faults": faults})


class Clock:
    def __init__(self, monkeypatch):
        self.now = 1_800_000_000.0
        monkeypatch.setattr(reboot.time, "time", lambda: self.now)


def test_a_reboot_counts_down_goes_away_boots_and_then_lets_logonui_get_ready(monkeypatch):
    clock, machine = Clock(monkeypatch), host()
    before = reboot.answer(machine, BOOT_TIME)
    assert before == reboot.answer(machine, BOOT_TIME) and before[2] == 0
    stdout, _stderr, rc = reboot.answer(machine, SHUTDOWN)
    assert rc == 0 and json.loads(stdout) == {"stdout": "", "stderr": "", "rc": 0}
    # The countdown (/t 2): still up, same boot time.
    clock.now += 2
    assert not reboot.is_down(machine) and reboot.answer(machine, BOOT_TIME) == before
    clock.now += reboot.SHUTDOWN_S
    assert reboot.is_down(machine)
    clock.now += reboot.OUTAGE_S
    assert not reboot.is_down(machine)
    assert reboot.answer(machine, BOOT_TIME)[0] != before[0]
    assert machine.facts["services"] == {"TermService": "Running", "UmRdpService": "Running"}
    assert reboot.answer(machine, TEST)[2] == 1  # booted, LogonUI not ready yet
    clock.now += reboot.LOGON_S
    stdout, _stderr, rc = reboot.answer(machine, TEST)
    assert rc == 0 and b"success-1234" in stdout
    assert machine.facts["reboots"] == 1


def test_termservice_that_fails_to_start_stays_stopped_after_the_reboot(monkeypatch):
    clock, machine = Clock(monkeypatch), host(start_fails=True)
    reboot.answer(machine, SHUTDOWN)
    clock.now += 10
    reboot.answer(machine, BOOT_TIME)
    assert machine.facts["services"]["TermService"] == "Stopped"


def test_other_scripts_are_not_answered_and_abort_finds_no_shutdown():
    machine = host()
    assert reboot.answer(machine, "Get-Process") is None
    assert reboot.answer(machine, "C:\\Windows\\System32\\shutdown.exe /a")[2] == 1116
    assert not reboot.is_down(machine)
