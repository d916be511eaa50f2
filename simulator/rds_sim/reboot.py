"""A reboot of a simulated host, as ansible.windows.win_reboot's action plugin makes and checks it.

Answered from the host model (with `rds-sim up --serve-peer-modules`, like the other ansible.windows
payloads), from the scripts that plugin runs through the connection (ansible.windows 2.x and 3.x,
plugin_utils/_reboot.py), each wrapped in one more `-EncodedCommand` with an exit-code suffix:
- the boot time: `(Get-CimInstance Win32_OperatingSystem -Property LastBootUpTime).LastBootUpTime.ToFileTime()`;
- the reboot: `shutdown.exe /r /t N /c MSG` inside a script that first deletes LogonUI's
  `AutoLogonChecked` key and prints shutdown's stdout, stderr and exit code as JSON. The host then
  goes away for OUTAGE_S seconds (every connection closes unanswered, as a host that is shutting
  down or still booting) and comes back with a new boot time, every service started again
  (TermService with the registry as it is now: the licensing change takes effect), and the
  `AutoLogonChecked` key that LogonUI creates when it is ready for a logon;
- the readiness test: `Get-Item` of that key, then a marker string;
- `shutdown.exe /a`, which finds no shutdown in progress (1116).
With the `start_fails` fault TermService does not start again after the reboot (Stopped). Not
modelled: a shutdown already scheduled by someone else (1190), and whether a UAC-filtered token
may shut down (it keeps SeShutdownPrivilege on Windows Server; the reboot is allowed here).
"""

from __future__ import annotations

import json
import re
import time
import typing as t

from rds_sim.host import Host

OUTAGE_S = 1.5
LOGON_UI_KEY = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon\\AutoLogonChecked"
_FILETIME_EPOCH_OFFSET_S = 11644473600  # 1601-01-01 to 1970-01-01
_SHUTDOWN = re.compile(r"shutdown\.exe\s+/r\s+/t\s+(\d+)", re.IGNORECASE)
_TEST = re.compile(r"Get-Item -LiteralPath 'HKLM:\\" + re.escape(LOGON_UI_KEY) + r"' -ErrorAction Stop; '([^']*)'")

Answer = t.Tuple[bytes, bytes, int]


def _filetime(epoch_s: float) -> int:
    return int((epoch_s + _FILETIME_EPOCH_OFFSET_S) * 10_000_000)


def is_down(host: Host) -> bool:
    """Whether the host is between its shutdown and the end of its boot (no WinRM listener)."""
    return float(host.facts.get("down_until", 0)) > time.time()


def answer(host: Host, script: str) -> Answer | None:
    """The answer to one of win_reboot's scripts; None for any other script."""
    if "Win32_OperatingSystem" in script and "LastBootUpTime" in script:
        booted = host.facts.setdefault("boot_filetime", _filetime(time.time() - 3 * 86400))
        host.dirty = True
        return f"{booted}\r\n".encode(), b"", 0
    shutdown = _SHUTDOWN.search(script)
    if shutdown:
        return _reboot(host, script)
    test = _TEST.search(script)
    if test:
        if not host.registry.key_exists(LOGON_UI_KEY):
            return b"", (f"Get-Item : Cannot find path 'HKLM:\\{LOGON_UI_KEY}' because it does not exist.\r\n").encode(), 1
        return f"\r\n    Hive: HKEY_LOCAL_MACHINE\\{LOGON_UI_KEY.rsplit(chr(92), 1)[0]}\r\n\r\n{test.group(1)}\r\n".encode(), b"", 0
    if re.search(r"shutdown\.exe\s+/a\b", script, re.IGNORECASE):
        return b"", b"Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n", 1116
    return None


def _reboot(host: Host, script: str) -> Answer:
    if re.search(r"if \(\$True\) \{\s*Remove-Item -LiteralPath 'HKLM:\\" + re.escape(LOGON_UI_KEY), script, re.IGNORECASE):
        host.registry.delete_tree(LOGON_UI_KEY)
    back = time.time() + OUTAGE_S
    host.facts["down_until"] = back
    host.facts["boot_filetime"] = _filetime(back)
    host.facts["reboots"] = int(host.facts.get("reboots", 0)) + 1
    services = host.facts.setdefault("services", {})
    for name in services:
        services[name] = "Running"
    if "TermService" in services:
        host.start_term_service()
        if host.faults.get("start_fails"):
            services["TermService"] = "Stopped"
    host.registry.create_key(LOGON_UI_KEY)
    host.dirty = True
    return json.dumps({"stdout": "", "stderr": "", "rc": 0}).encode() + b"\r\n", b"", 0
