"""The licensing network as the diagnosis sees it: which license servers a session host can reach
(GetTStoLSConnectivityStatus, FindLicenseServers), the license server's own checks (AD group,
security group policy, Per User usage report), and presets that break each of them.

rds-sim hosts do not talk to each other, so what a session host sees of a license server comes from
the simulated network below (the names the example.test domain resolves and their OS builds), not
from the license server host's model. Where Windows' behaviour is uncertain the harsher answer is
modelled: a name the network does not know is LS_NOT_CONNECTABLE (6), and a license server with an
older build than the session host is LS_CONNECTABLE_LOWER_VERSION (4).
"""

from __future__ import annotations

import typing as t

# GetTStoLSConnectivityStatus values (Microsoft Learn, Win32_TerminalServiceSetting).
LS_CONNECTABLE_LOWER_VERSION = 4
LS_NOT_CONNECTABLE = 6
LS_CONNECTABLE_VALID_LS = 11

# License servers the simulated example.test domain resolves, by short name, with their OS build.
NETWORK: dict[str, int] = {
    "ls01": 20348, "ls02": 20348, "ls03": 20348, "ls-unact": 20348, "ls-device": 20348, "ls-oldcal": 20348,
    "ls-nogroup": 20348, "ls-full": 20348, "ls-over": 20348,
}
# The license server published in AD (what FindLicenseServers discovers on a domain member).
PUBLISHED = "ls01.example.test"

POLICY_KEY = "SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services"
LICENSING_CORE_KEY = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
LICENSE_SERVERS_KEY = "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"
CURRENT_VERSION_KEY = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
DAY = 86400.0

# Session host presets: (mode, servers, description); each breaks one thing the diagnosis must name.
SESSION_HOST_PRESETS: dict[str, tuple[int, list[str], str]] = {
    "diag_unreachable": (4, ["ls-gone.example.test"], "Per User; its only license server does not answer"),
    "diag_not_activated": (2, ["ls-unact.example.test"], "Per Device; its license server is not activated"),
    "diag_wrong_cal_type": (4, ["ls-device.example.test"], "Per User; its license server holds only Per Device CALs"),
    "diag_old_cals": (4, ["ls-oldcal.example.test"], "Per User; its license server holds only 2019 Per User CALs"),
    "diag_old_server": (4, ["ls01.example.test"], "Windows Server 2025 Per User host; its license server runs 2022"),
    "diag_not_in_group": (4, ["ls-nogroup.example.test"],
                          "Per User; its license server is not in the Terminal Server License Servers group"),
    "diag_no_cals_left": (2, ["ls-full.example.test"], "Per Device; every Per Device CAL of its license server is issued"),
    "diag_overuse": (4, ["ls-over.example.test"], "Per User; the usage report shows more Per User CALs used than installed"),
    "diag_grace_no_server": (4, [], "Per User, no license server configured or published, 5 days of grace left"),
    "diag_workgroup_per_user": (4, ["ls01.example.test"], "Per User in a workgroup (Per User CALs are not tracked there)"),
    "diag_gpo_retired": (4, ["ls01.example.test"], "Group Policy names a retired license server; the local value is ls01"),
    "diag_status_unknown": (4, ["ls01.example.test"], "Per User; GetTStoLSConnectivityStatus fails (RPC server unavailable)"),
}
# License server presets (combine: license_server+lsrv_...): computer name and what is wrong.
LICENSE_SERVER_PRESETS: dict[str, tuple[str, str]] = {
    "lsrv_main": ("LS01", "healthy, activated license server LS01 (Per User and Per Device 2022 CALs)"),
    "lsrv_unactivated": ("LS-UNACT", "license server LS-UNACT, not activated"),
    "lsrv_device_only": ("LS-DEVICE", "license server LS-DEVICE with Per Device CALs only"),
    "lsrv_old_cals": ("LS-OLDCAL", "license server LS-OLDCAL with Windows Server 2019 Per User CALs only"),
    "lsrv_not_in_group": ("LS-NOGROUP", "license server LS-NOGROUP, not in the AD Terminal Server License Servers group"),
    "lsrv_full": ("LS-FULL", "license server LS-FULL, every Per Device CAL issued"),
    "lsrv_overused": ("LS-OVER", "license server LS-OVER whose Per User usage report exceeds its Per User CALs"),
}
PRESETS = (*SESSION_HOST_PRESETS, *LICENSE_SERVER_PRESETS)
DESCRIPTIONS = {**{name: spec[2] for name, spec in SESSION_HOST_PRESETS.items()},
                **{name: spec[1] + " (combine: license_server+" + name + ")" for name, spec in LICENSE_SERVER_PRESETS.items()}}


def _short(name: str) -> str:
    return name.strip().lower().split(".")[0]


def _build(host: t.Any) -> int:
    value = host.registry.get_value(CURRENT_VERSION_KEY, "CurrentBuild")
    return int(value["data"]) if value and str(value["data"]).isdigit() else 0


def connectivity_status(host: t.Any, name: str) -> int:
    """What GetTStoLSConnectivityStatus answers on this session host for one license server name."""
    build = NETWORK.get(_short(name))
    if build is None:
        return LS_NOT_CONNECTABLE
    return LS_CONNECTABLE_LOWER_VERSION if build < _build(host) else LS_CONNECTABLE_VALID_LS


def _pack(pack_id: int, product_type: int, version: str, version_id: int, total: int, issued: int, now: float) -> dict[str, t.Any]:
    kind = "Per User" if product_type == 1 else "Per Device"
    return {"key_pack_id": pack_id, "description": f"Remote Desktop Services {kind} CAL", "type_and_model": f"RDS {kind} CAL",
            "key_pack_type": 2, "product_type": product_type, "product_version": version, "product_version_id": version_id,
            "total": total, "issued": issued, "expiration": now + 3 * 365 * DAY}


def _usage(version: str, installed: int, issued: int) -> dict[str, t.Any]:
    return {"file_name": "PerUserReport_1.xml", "generated": "2026-11-27T06:00:00+00:00",
            "summary": [{"product_version": version, "cal_type": 1, "installed": installed, "issued": issued}]}


def _apply_license_server(state: dict[str, t.Any], preset: str, now: float) -> None:
    from rds_sim import scenarios

    if "license_server" not in state["facts"]:
        scenarios._make_license_server(state, now)
    computer, _description = LICENSE_SERVER_PRESETS[preset]
    state["facts"]["computer_name"] = computer
    server = state["facts"]["license_server"]
    checks: dict[str, t.Any] = {"in_tsls_group": True, "on_dc": False, "security_group_policy": False,
                                "usage_report": _usage("Windows Server 2022", 50, 12)}
    if preset == "lsrv_unactivated":
        scenarios._apply(state, "unactivated", now)
    elif preset == "lsrv_device_only":
        server["key_packs"] = [pack for pack in server["key_packs"] if pack["product_type"] == 0]
        checks["usage_report"] = None
    elif preset == "lsrv_old_cals":
        server["key_packs"] = [_pack(7, 1, "Windows Server 2019", 5, 40, 0, now)]
        server["issued"] = []
        checks["usage_report"] = _usage("Windows Server 2019", 40, 9)
    elif preset == "lsrv_not_in_group":
        checks["in_tsls_group"] = False
    elif preset == "lsrv_full":
        server["key_packs"] = [_pack(8, 0, "Windows Server 2022", 6, 20, 20, now)]
        server["issued"] = [{"key_pack_id": 8, "status": 2}] * 20
        checks["usage_report"] = None
    elif preset == "lsrv_overused":
        server["key_packs"] = [_pack(9, 1, "Windows Server 2022", 6, 50, 0, now)]
        server["issued"] = []
        checks["usage_report"] = _usage("Windows Server 2022", 50, 80)
    server["checks"] = checks


def _apply_session_host(state: dict[str, t.Any], preset: str, now: float) -> None:
    from rds_sim import scenarios

    mode, servers, _description = SESSION_HOST_PRESETS[preset]
    registry, facts = state["registry"], state["facts"]
    registry[LICENSING_CORE_KEY] = {"LicensingMode": {"type": "dword", "data": mode}}
    registry[LICENSE_SERVERS_KEY] = {"SpecifiedLicenseServers": {"type": "multistring", "data": list(servers)}}
    if preset == "diag_old_server":
        scenarios._set_os(state, "ws2025")
    elif preset == "diag_grace_no_server":
        facts["grace_expiry"] = now + 5 * DAY - 3600
        facts["ls_published"] = False
    elif preset == "diag_workgroup_per_user":
        facts["domain"] = {"part_of_domain": False, "domain": "WORKGROUP", "domain_role": 2}
    elif preset == "diag_status_unknown":
        facts["ls_rpc_unavailable"] = True
    elif preset == "diag_gpo_retired":
        registry[POLICY_KEY] = {"LicensingMode": {"type": "dword", "data": 4},
                                "LicenseServers": {"type": "string", "data": "ls-retired.example.test"}}


def apply(state: dict[str, t.Any], preset: str, now: float) -> None:
    if preset in LICENSE_SERVER_PRESETS:
        _apply_license_server(state, preset, now)
    else:
        _apply_session_host(state, preset, now)
