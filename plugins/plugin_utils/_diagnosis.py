# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The RD Licensing diagnosis rules: a session host's own view (mode, license servers, grace period,
GetTStoLSConnectivityStatus, FindLicenseServers) combined with the views of its license servers
gathered in the same play, turned into findings with id, severity, summary, evidence and remedy.
Pure Python, no Ansible imports. The compatibility rules and their sources are in docs/architecture.md.
"""

from __future__ import annotations

import re
import typing as t

SEVERITIES = ("critical", "warning", "info")
STATES = ("healthy", "warning", "critical", "unknown", "not_applicable")

# GetTStoLSConnectivityStatus (Win32_TerminalServiceSetting) values.
CONNECTIVITY = {
    0: "LS_CONNECTABLE_UNKNOWN", 1: "LS_CONNECTABLE_VALID_WS08R2", 2: "LS_CONNECTABLE_VALID_WS08",
    3: "LS_CONNECTABLE_BETA_RTM_MISMATCH", 4: "LS_CONNECTABLE_LOWER_VERSION", 5: "LS_CONNECTABLE_NOT_IN_TSCGROUP",
    6: "LS_NOT_CONNECTABLE", 7: "LS_CONNECTABLE_UNKNOWN_VALIDITY", 8: "LS_CONNECTABLE_BUT_ACCESS_DENIED",
    9: "LS_CONNECTABLE_VALID_WS08R2_VDI", 10: "LS_CONNECTABLE_FEATURE_NOT_SUPPORTED", 11: "LS_CONNECTABLE_VALID_LS",
}
VALID_STATUSES = (1, 2, 9, 11)
UNKNOWN_STATUSES = (0, 7, 10)
PER_DEVICE, PER_USER = 2, 4
CAL_TYPE_OF_MODE = {PER_DEVICE: "per_device", PER_USER: "per_user"}
# Finding ids that mean "could not tell": the host's state is unknown, never healthy.
UNKNOWN_IDS = ("license_server_status_unknown", "connectivity_unknown", "grace_unknown")

REMEDIES = {
    "licensing_mode_not_configured":
        "Set Per User or Per Device: Group Policy 'Set the Remote Desktop licensing mode' (Computer Configuration > "
        "Administrative Templates > Windows Components > Remote Desktop Services > Remote Desktop Session Host > Licensing), "
        "or remote_desktop.licensing.licensing_mode.",
    "no_license_server":
        "Name a license server: Group Policy 'Use the specified Remote Desktop license servers', or "
        "remote_desktop.licensing.licensing_mode with license_servers; install and activate RD Licensing if there is none.",
    "license_server_unreachable":
        "Check the name resolves and RPC reaches it (Test-NetConnection <server> -Port 135), that the 'Remote Desktop "
        "Licensing' service (TermServLicensing) runs there, or replace the server in the license server list.",
    "gpo_retired_license_server":
        "Edit the GPO setting 'Use the specified Remote Desktop license servers' (Remote Desktop Session Host > Licensing) "
        "to name a working server, then gpupdate /force on the host; the local value is not used while the policy is set.",
    "license_server_older_than_host":
        "Upgrade the license server (or use one) at the session host's Windows Server version or newer.",
    "license_server_beta_mismatch":
        "Use a released (RTM) license server for a released session host: a pre-release license server and a released "
        "host, or the other way round, cannot license each other.",
    "host_not_in_tsc_group":
        "Add the session host's computer account to the 'Terminal Server Computers' local group on the license server, "
        "or disable the 'License server security group' policy there.",
    "license_server_access_denied":
        "Run the diagnosis with an account that is an administrator on the license server to validate it.",
    "license_server_status_unknown":
        "Open RD Licensing Diagnoser (lsdiag.msc) on the host to see why the license server cannot be validated.",
    "connectivity_unknown":
        "Check WMI on the host (Get-CimInstance -Namespace root/cimv2/TerminalServices Win32_TerminalServiceSetting).",
    "license_server_not_activated":
        "Activate the server in RD Licensing Manager (licmgr.exe: right-click the server > Activate Server).",
    "cal_type_missing":
        "Install CALs of the host's licensing mode in RD Licensing Manager (Install Licenses), or change the host's mode "
        "to the CAL type you own.",
    "cal_version_too_old":
        "Install RDS CALs of the session host's Windows Server version or newer on the license server (RD Licensing Manager "
        "> Install Licenses).",
    "license_server_not_in_tsls_group":
        "Add the license server to the AD group 'Terminal Server License Servers' (RD Licensing Manager > Review "
        "Configuration > Add to Group) so Per User CALs are tracked and reported.",
    "no_cals_available":
        "Buy and install more CALs of this type and version, or revoke unused Per Device CALs in RD Licensing Manager.",
    "per_user_overuse":
        "Buy and install enough Per User CALs (RD Licensing Manager > Install Licenses); the usage report shows more users "
        "than installed CALs.",
    "per_user_in_workgroup":
        "Use Per Device licensing in a workgroup (Per User CALs are not tracked without Active Directory), or join the "
        "host and license server to a domain.",
    "grace_ending_without_license_server":
        "Configure a working, activated license server with CALs of the host's mode and version before the grace period "
        "ends; after it, the host refuses remote connections.",
    "grace_unknown":
        "Read the grace period on the host: (Get-CimInstance -Namespace root/cimv2/TerminalServices "
        "Win32_TerminalServiceSetting | Invoke-CimMethod -MethodName GetGracePeriodDays).DaysLeft",
}


def _short(name: str | None) -> str:
    return (name or "").strip().lower().split(".")[0]


def _year(text: str | None) -> int | None:
    """2022 from 'Windows Server 2022'; None when no year is named."""
    found = re.search(r"(20\d\d)", text or "")
    return int(found.group(1)) if found else None


def _build(version: str | None) -> int | None:
    """20348 from '10.0.20348' or '10.0.20348.2849'."""
    parts = (version or "").split(".")
    return int(parts[2]) if len(parts) >= 3 and parts[2].isdigit() else None


def match_license_server(name: str, views: list[dict[str, t.Any]]) -> dict[str, t.Any] | None:
    """The license server view a configured name points at: by inventory name, computer name or FQDN."""
    wanted = name.strip().lower()
    for view in views:
        names = {(view.get("host") or "").lower(), (view.get("computer_name") or "").lower()}
        if view.get("computer_name") and view.get("domain"):
            names.add(f"{view['computer_name']}.{view['domain']}".lower())
        if wanted in names or _short(wanted) in {_short(item) for item in names if item}:
            return view
    return None


class _Findings:
    def __init__(self) -> None:
        self.items: list[dict[str, t.Any]] = []

    def add(self, finding_id: str, severity: str, summary: str, evidence: dict[str, t.Any]) -> None:
        if any(item["id"] == finding_id and item["evidence"].get("server") == evidence.get("server") for item in self.items):
            return
        self.items.append({"id": finding_id, "severity": severity, "summary": summary, "evidence": evidence,
                           "remedy": REMEDIES[finding_id]})


def _capacity(view: dict[str, t.Any], cal_type: str) -> list[dict[str, t.Any]]:
    return [group for group in (view.get("server") or {}).get("capacity") or [] if group["cal_type"] == cal_type]


def _server_findings(findings: _Findings, name: str, view: dict[str, t.Any], mode: int | None,
                     host_year: int | None, host_build: int | None) -> bool:
    """Findings from the license server's own view; True when the server can license this host."""
    server = view.get("server") or {}
    checks = view.get("checks") or {}
    usable = True
    if not server.get("is_license_server"):
        findings.add("license_server_unreachable", "critical", f"{name} is not an RD License Server (no Win32_TSLicenseServer).",
                     {"server": name, "license_server_host": view.get("host"), "reason": server.get("reason")})
        return False
    activation = (server.get("activation") or {}).get("name")
    if activation != "activated":
        findings.add("license_server_not_activated", "critical",
                     f"{name} is not activated: it issues only temporary CALs, which expire.",
                     {"server": name, "license_server_host": view.get("host"), "activation": server.get("activation")})
        usable = False
    server_build = _build(server.get("version"))
    if host_build and server_build and server_build < host_build:
        findings.add("license_server_older_than_host", "critical",
                     f"{name} runs an older Windows Server than this host and cannot license it.",
                     {"server": name, "server_version": server.get("version"), "host_build": host_build})
        usable = False
    cal_type = CAL_TYPE_OF_MODE.get(mode or 0)
    if cal_type:
        groups = [group for group in _capacity(view, cal_type) if group["total"]]
        fitting = [group for group in groups if host_year is None or (_year(group["product_version"]) or 0) >= host_year]
        evidence = {"server": name, "cal_type": cal_type, "host_version": host_year,
                    "capacity": _capacity(view, cal_type), "all_capacity": server.get("capacity") or []}
        if not groups:
            findings.add("cal_type_missing", "critical",
                         f"{name} holds no {cal_type.replace('_', ' ')} CALs, the type this host's licensing mode needs.", evidence)
            usable = False
        elif not fitting:
            findings.add("cal_version_too_old", "critical",
                         f"{name} holds {cal_type.replace('_', ' ')} CALs only for versions older than this host "
                         f"(Windows Server {host_year}).", evidence)
            usable = False
        elif cal_type == "per_device" and not any(group["available"] for group in fitting):
            findings.add("no_cals_available", "critical",
                         f"Every per device CAL on {name} that fits this host is issued.", evidence)
            usable = False
    if mode == PER_USER:
        group = checks.get("in_tsls_group") or {}
        if group.get("value") is False:
            findings.add("license_server_not_in_tsls_group", "warning",
                         f"{name} is not in the AD group Terminal Server License Servers: Per User CALs are not tracked or "
                         "reported.", {"server": name, "IsLSinTSLSGroup": group})
        report = checks.get("usage_report") or {}
        over = [entry for entry in report.get("summary") or []
                if entry.get("cal_type") == 1 and int(entry.get("issued") or 0) > int(entry.get("installed") or 0)]
        if over:
            findings.add("per_user_overuse", "warning",
                         f"The Per User usage report of {name} shows more users than installed Per User CALs.",
                         {"server": name, "usage_report": report.get("file_name"), "generated": report.get("generated"),
                          "over": over})
    return usable


def diagnose(host_view: dict[str, t.Any], license_server_views: list[dict[str, t.Any]] | None = None,
             warning_days: int = 30) -> dict[str, t.Any]:
    """The diagnosis of one session host (see licensing_diagnose's RETURN for the shape)."""
    views = license_server_views or []
    findings = _Findings()
    if not host_view.get("rdsh"):
        return {"state": "not_applicable", "healthy": True, "findings": [], "servers": [], "notes": [
            "Not an RD Session Host: nothing to diagnose."]}
    mode = host_view.get("mode") or {}
    effective_mode = mode.get("effective")
    servers = host_view.get("license_servers") or {}
    configured = list(servers.get("effective") or [])
    os_info = host_view.get("os") or {}
    host_build = os_info.get("build")
    host_year = _year(os_info.get("server_version"))
    domain = host_view.get("domain") or {}
    connectivity = host_view.get("connectivity") or {}
    notes: list[str] = []
    if effective_mode not in (PER_DEVICE, PER_USER, 6):
        findings.add("licensing_mode_not_configured", "warning", "The licensing mode is not configured (Per User or Per Device).",
                     {"mode": mode.get("effective"), "source": mode.get("source")})
    if effective_mode == PER_USER and domain.get("member") is False:
        findings.add("per_user_in_workgroup", "warning",
                     "Per User licensing in a workgroup: Per User CALs are not tracked or reported without Active Directory.",
                     {"mode": effective_mode, "workgroup": domain.get("workgroup")})
    statuses = {item.get("name", "").lower(): item for item in connectivity.get("servers") or []}
    per_server: list[dict[str, t.Any]] = []
    working = []
    if not connectivity.get("ok", True) or connectivity.get("exists") is False:
        findings.add("connectivity_unknown", "warning", "The host could not report its license server connectivity.",
                     {"error": connectivity.get("error"), "reason": connectivity.get("reason")})
    for name in configured:
        entry = statuses.get(name.lower()) or {}
        status = entry.get("status")
        view = match_license_server(name, views)
        record = {"name": name, "status": status, "status_name": CONNECTIVITY.get(status) if status is not None else None,
                  "error": entry.get("error"), "license_server_host": view.get("host") if view else None,
                  "view": "session_host_and_license_server" if view else "session_host_only"}
        per_server.append(record)
        evidence = {"server": name, "status": status, "status_name": record["status_name"], "source": servers.get("source")}
        if status == 6:
            if servers.get("source") == "policy":
                findings.add("gpo_retired_license_server", "critical",
                             f"Group Policy names {name}, which does not answer (LS_NOT_CONNECTABLE).",
                             {**evidence, "policy": servers.get("policy"), "local": servers.get("local")})
            else:
                findings.add("license_server_unreachable", "critical", f"{name} does not answer (LS_NOT_CONNECTABLE).",
                             {**evidence, "discovered": connectivity.get("discovered")})
            continue
        if status == 3:
            findings.add("license_server_beta_mismatch", "critical",
                         f"{name} is reachable but one of it and this host is a pre-release build (LS_CONNECTABLE_BETA_RTM_MISMATCH).",
                         evidence)
            continue
        if status == 4:
            findings.add("license_server_older_than_host", "critical",
                         f"{name} is reachable but incompatible with this host (LS_CONNECTABLE_LOWER_VERSION).", evidence)
            continue
        if status == 5:
            findings.add("host_not_in_tsc_group", "critical",
                         f"{name} only serves members of its Terminal Server Computers group, and this host is not one.", evidence)
            continue
        if status == 8:
            findings.add("license_server_access_denied", "info",
                         f"{name} answers, but the account is not an administrator there, so it cannot be validated.", evidence)
        elif status is None or status in UNKNOWN_STATUSES or status not in CONNECTIVITY:
            findings.add("license_server_status_unknown", "warning", f"The connectivity of {name} could not be determined.",
                         {**evidence, "error": entry.get("error")})
            continue
        if view is None:
            notes.append(f"{name} is not in the inventory: diagnosed from the session host's view alone.")
            if status in VALID_STATUSES:
                working.append(name)
            continue
        if _server_findings(findings, name, view, effective_mode, host_year, host_build) and status in VALID_STATUSES:
            working.append(name)
    if not configured and not any(item.get("available") for item in connectivity.get("discovered") or []):
        findings.add("no_license_server", "critical", "No license server is configured and none is discovered.",
                     {"configured": configured, "discovered": connectivity.get("discovered")})
    grace = host_view.get("grace") or {}
    days = grace.get("days_left")
    if grace.get("error") or days is None:
        findings.add("grace_unknown", "warning", "The grace period could not be read.", {"error": grace.get("error")})
    elif not working and days <= warning_days:
        findings.add("grace_ending_without_license_server", "critical",
                     f"{days} day(s) of grace left and no working license server: remote connections stop when it ends."
                     if days > 0 else "The grace period has ended and no license server works: remote connections are refused now.",
                     {"days_left": days, "working_servers": working, "configured": configured})
    items = findings.items
    severities = {item["severity"] for item in items}
    if "critical" in severities:
        state = "critical"
    elif any(item["id"] in UNKNOWN_IDS for item in items):
        state = "unknown"
    elif "warning" in severities:
        state = "warning"
    else:
        state = "healthy"
    return {"state": state, "healthy": not items, "findings": items, "servers": per_server,
            "working_servers": working, "notes": notes}


def grace_class(report: dict[str, t.Any], diagnosis: dict[str, t.Any] | None, warning_days: int, critical_days: int,
                fallback: str) -> str:
    """Grace class with a diagnosis: 0 days left is ok only with a working, activated, compatible license server;
    without one the days left decide, whatever is configured. fallback is the class without a diagnosis."""
    if not diagnosis or diagnosis.get("state") == "not_applicable":
        return fallback
    days = ((report or {}).get("grace_period") or {}).get("days_left")
    if diagnosis.get("working_servers"):
        # What the configuration alone could not show (fallback "unknown" at 0 days): a server that issues CALs.
        return "ok" if fallback == "unknown" and days is not None else fallback
    if days is None:
        return "unknown"
    if days <= critical_days:
        return "critical"
    return "warning" if days <= warning_days else "ok"
