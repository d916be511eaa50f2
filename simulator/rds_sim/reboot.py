"""A reboot of a simulated host, as ansible.windows.win_reboot's action plugin makes and checks it.

Answered from the host model (with `rds-sim up --serve-peer-modules`, like the other ansible.windows
payloads), from the scripts that plugin runs through the connection (ansible.windows 2.x and 3.x,
plugin_utils/_reboot.py), each wrapped in one more `-EncodedCommand` with an exit-code suffix:
- the boot time: `(Get-CimInstance Win32_OperatingSystem -Property LastBootUpTime).LastBootUpTime.ToFileTime()`;
- the reboot: `shutdown.exe /r /t N /c MSG` inside a script that first deletes LogonUI's
  `AutoLogonChecked` key and prints shutdown's stdout, stderr and exit code as JSON. The host keeps
  answering, with its old boot time, for the N seconds of the countdown and SHUTDOWN_S more; then it
  goes away for OUTAGE_S seconds (every connection closes unanswered, as a host that is shutting
  down or booting) and comes back with a new boot time and every service started again (TermService
  with the registry as it is now: the licensing change takes effect). LogonUI creates the
  `AutoLogonChecked` key LOGON_S seconds after that, when it is ready for a logon;
- the readiness test: `Get-Item` of that key, then a marker string;
- `shutdown.exe /a`, which finds no shutdown in progress (1116).
With the `start_fails` fault TermService does not start again after the reboot (Stopped). Not
modelled: a shutdown already scheduled by someone else (1190); the WinRM shells opened before the
reboot, which stay known here (win_reboot resets its connection before it polls, so it opens new
ones); a running host without `AutoLogonChecked` before its first reboot here (a real one has it);
service start types (every service runs after the reboot); and a standard user's token, which has
no SeShutdownPrivilege (the `not_elevated` fault is a UAC-filtered administrator token, which keeps
it, so the reboot is allowed).
"""

from __future__ import annotations

import json
import re
import time
import typing as t

from rds_sim.host import Host

SHUTDOWN_S = 0.5
OUTAGE_S = 1.5
LOGON_S = 1.0
LOGON_UI_KEY = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\AutoLogonChecked"
_FILETIME_EPOCH_OFFSET_S = 11644473600  # 1601-01-01 to 1970-01-01
_SHUTDOWN = re.compile(r"shutdown\.exe\s+/r\s+/t\s+(\d+)", re.IGNORECASE)
# win_reboot deletes the key first unless it was given its own test command (then `if ($False)`).
_REMOVE_LOGON_KEY = re.compile(r"if \(\$True\) \{\s*Remove-Item -LiteralPath 'HKLM:\\" + re.escape(LOGON_UI_KEY), re.IGNORECASE)
_TEST = re.compile(r"Get-Item -LiteralPath 'HKLM:\\" + re.escape(LOGON_UI_KEY) + r"' -ErrorAction Stop; '([^']*)'")

Answer = t.Tuple[bytes, bytes, int]


def _filetime(epoch_s: float) -> int:
    return int((epoch_s + _FILETIME_EPOCH_OFFSET_S) * 10_000_000)


def is_down(host: Host) -> bool:
    """Whether the host is between its shutdown and the end of its boot (no WinRM listener)."""
    return float(host.facts.get("shutdown_at", 0)) <= time.time() < float(host.facts.get("down_until", 0))


def _settle(host: Host) -> None:
    """Apply what a pending reboot has done by now: the boot itself, then LogonUI's readiness."""
    pending = host.facts.get("pending_reboot")
    if not pending:
        return
    now = time.time()
    if not pending.get("booted") and now >= float(host.facts["down_until"]):
        host.facts["boot_filetime"] = _filetime(float(host.facts["down_until"]))
        services = host.facts.setdefault("services", {})
        for name in services:
            services[name] = "Running"
        if "TermService" in services:
            host.start_term_service()
            if host.faults.get("start_fails"):
                services["TermService"] = "Stopped"
        pending["booted"] = True
        host.dirty = True
    if pending.get("booted") and now >= float(host.facts["down_until"]) + LOGON_S:
        host.registry.create_key(LOGON_UI_KEY)
        del host.facts["pending_reboot"]
        host.dirty = True


def answer(host: Host, script: str) -> Answer | None:
    """The answer to one of win_reboot's scripts; None for any other script."""
    _settle(host)
    if "Win32_OperatingSystem" in script and "LastBootUpTime" in script:
        booted = host.facts.setdefault("boot_filetime", _filetime(time.time() - 3 * 86400))
        host.dirty = True
        return f"{booted}\r\n".encode(), b"", 0
    shutdown = _SHUTDOWN.search(script)
    if shutdown:
        return _reboot(host, script, countdown_s=int(shutdown.group(1)))
    test = _TEST.search(script)
    if test:
        if not host.registry.key_exists(LOGON_UI_KEY):
            return b"", (f"Get-Item : Cannot find path 'HKLM:\\{LOGON_UI_KEY}' because it does not exist.\r\n").encode(), 1
        return f"\r\n    Hive: HKEY_LOCAL_MACHINE\\{LOGON_UI_KEY.rsplit(chr(92), 1)[0]}\r\n\r\n{test.group(1)}\r\n".encode(), b"", 0
    if re.search(r"shutdown\.exe\s+/a\b", script, re.IGNORECASE):
        return b"", b"Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n", 1116
    return None


def _reboot(host: Host, script: str, countdown_s: int) -> Answer:
    if _REMOVE_LOGON_KEY.search(script):
        host.registry.delete_tree(LOGON_UI_KEY)
    host.facts["shutdown_at"] = time.time() + countdown_s + SHUTDOWN_S
    host.facts["down_until"] = host.facts["shutdown_at"] + OUTAGE_S
    host.facts["pending_reboot"] = {"booted": False}
    host.facts["reboots"] = int(host.facts.get("reboots", 0)) + 1
    host.dirty = True
    return json.dumps({"stdout": "", "stderr": "", "rc": 0}).encode() + b"\r\n", b"", 0
