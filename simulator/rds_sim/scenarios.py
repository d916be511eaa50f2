"""Scenario presets: the registry and host facts of typical RDS hosts.

A host's scenario is one preset or several joined with '+', applied left to right
(``fresh+ws2016``). OS presets only set the operating system; the others set licensing state
on a Windows Server 2022 RD Session Host unless an OS preset follows.
"""

from __future__ import annotations

import base64
import hashlib
import typing as t

from rds_sim import license_network

POLICY_KEY = "SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services"
LICENSING_CORE_KEY = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
LICENSE_SERVERS_KEY = "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"
GRACE_KEY = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"
TIMEBOMB_VALUE = "L$RTMTIMEBOMB_1320153D-8DA3-4e8e-B27B-0D888223A588"
CURRENT_VERSION_KEY = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
RDSH_COMPONENT_KEY = "SOFTWARE\\Microsoft\\ServerManager\\ServicingStorage\\ServerComponentCache\\RDS-RD-Server"
MSLICENSING_KEY = "SOFTWARE\\Microsoft\\MSLicensing"
SERVICES_KEY = "SYSTEM\\CurrentControlSet\\Services"

DAY = 86400.0

OS_PRESETS: dict[str, dict[str, t.Any]] = {
    "ws2012r2": {"ProductName": "Windows Server 2012 R2 Standard", "EditionID": "ServerStandard",
                 "CurrentVersion": "6.3", "CurrentBuild": "9600", "UBR": 21620, "ReleaseId": None,
                 "DisplayVersion": None, "ps_version": "5.1.14409.1018"},
    "ws2016": {"ProductName": "Windows Server 2016 Standard", "EditionID": "ServerStandard",
               "CurrentVersion": "6.3", "CurrentBuild": "14393", "UBR": 7428, "ReleaseId": "1607",
               "DisplayVersion": None, "ps_version": "5.1.14393.7428"},
    "ws2019": {"ProductName": "Windows Server 2019 Datacenter", "EditionID": "ServerDatacenter",
               "CurrentVersion": "6.3", "CurrentBuild": "17763", "UBR": 6532, "ReleaseId": "1809",
               "DisplayVersion": None, "ps_version": "5.1.17763.6532"},
    "ws2022": {"ProductName": "Windows Server 2022 Datacenter", "EditionID": "ServerDatacenter",
               "CurrentVersion": "6.3", "CurrentBuild": "20348", "UBR": 2849, "ReleaseId": "2009",
               "DisplayVersion": "21H2", "ps_version": "5.1.20348.2849"},
    "ws2025": {"ProductName": "Windows Server 2025 Datacenter", "EditionID": "ServerDatacenter",
               "CurrentVersion": "6.3", "CurrentBuild": "26100", "UBR": 2314, "ReleaseId": "2009",
               "DisplayVersion": "24H2", "ps_version": "5.1.26100.2314"},
}

LICENSING_PRESETS = (
    "fresh", "per_device", "per_user", "gpo_conflict", "grace_expiring", "grace_expired", "client_cache",
    "license_server", "unactivated", "grace_locked",
    *license_network.PRESETS,  # the diagnosis presets
)

DESCRIPTIONS = {
    "fresh": "new RD Session Host: licensing mode 5 (not configured), no license server, grace period running (~100 days)",
    "per_device": "RD Session Host configured locally for Per Device (2) with one license server",
    "per_user": "RD Session Host configured locally for Per User (4) with two license servers",
    "gpo_conflict": "Group Policy sets Per Device and two servers; the local values say Per User and another server",
    "grace_expiring": "RD Session Host, licensing not configured, 5 days of grace left",
    "grace_expired": "RD Session Host, licensing not configured, grace period over (0 days)",
    "client_cache": "Windows 11 RDP client with an MSLicensing cache (HardwareID and two Store entries)",
    "license_server": "activated RD License Server (no Session Host role) with Per User and Per Device CAL packs and issued licenses",
    "grace_locked": "the GracePeriod key without any Administrators ACE (reported for 2022/2025): administrators cannot "
                    "read it or its owner; only SYSTEM can reset it",
    "unactivated": "RD License Server that is not activated, one Per Device pack (combine: license_server+unactivated)",
    **license_network.DESCRIPTIONS,
    **{name: f"operating system {preset['ProductName']} (combine: fresh+{name})" for name, preset in OS_PRESETS.items()},
}


def names() -> list[str]:
    return list(LICENSING_PRESETS) + list(OS_PRESETS)


def validate(scenario: str) -> None:
    for part in scenario.split("+"):
        if part not in DESCRIPTIONS:
            raise ValueError(f"unknown scenario '{part}'; known: {', '.join(names())}")


def _blob(seed: str, size: int) -> list[int]:
    """Deterministic bytes standing in for opaque binary data (DPAPI blobs, hardware IDs)."""
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return list(out[:size])


def _dword(data: int) -> dict[str, t.Any]:
    return {"type": "dword", "data": data}


def _sz(data: str) -> dict[str, t.Any]:
    return {"type": "string", "data": data}


def _binary(data: list[int]) -> dict[str, t.Any]:
    return {"type": "binary", "data": base64.b64encode(bytes(data)).decode("ascii")}


def _set_os(state: dict[str, t.Any], os_name: str) -> None:
    preset = OS_PRESETS[os_name]
    values = {name: _sz(preset[name]) for name in ("ProductName", "EditionID", "CurrentVersion", "CurrentBuild")
              if preset[name] is not None}
    values["CurrentBuildNumber"] = _sz(preset["CurrentBuild"])
    values["UBR"] = _dword(preset["UBR"])
    values["InstallationType"] = _sz("Server")
    if os_name != "ws2012r2":
        values["CurrentMajorVersionNumber"] = _dword(10)
        values["CurrentMinorVersionNumber"] = _dword(0)
    for optional in ("ReleaseId", "DisplayVersion"):
        if preset[optional]:
            values[optional] = _sz(preset[optional])
    state["registry"][CURRENT_VERSION_KEY] = values
    state["facts"]["ps_version"] = preset["ps_version"]


def _base_server(name: str, now: float) -> dict[str, t.Any]:
    state: dict[str, t.Any] = {
        "name": name,
        "registry": {
            RDSH_COMPONENT_KEY: {"InstallState": _dword(1)},
            LICENSING_CORE_KEY: {"LicensingMode": _dword(5)},
            GRACE_KEY: {TIMEBOMB_VALUE: _binary(_blob(name + "timebomb", 230))},
            f"{SERVICES_KEY}\\TermService": {"Start": _dword(3)},
            f"{SERVICES_KEY}\\UmRdpService": {"Start": _dword(3)},
            f"{SERVICES_KEY}\\SessionEnv": {"Start": _dword(3)},
            "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters": {},
        },
        "facts": {
            "computer_name": name.upper()[:15],
            "domain": {"part_of_domain": True, "domain": "example.test", "domain_role": 3},
            "services": {"TermService": "Running", "UmRdpService": "Running", "SessionEnv": "Running"},
            "grace_expiry": now + 100 * DAY,
            "ps_version": "",
        },
        "faults": {},
    }
    _set_os(state, "ws2022")
    return state


def _apply(state: dict[str, t.Any], preset: str, now: float) -> None:
    registry = state["registry"]
    facts = state["facts"]
    if preset in OS_PRESETS:
        _set_os(state, preset)
    elif preset == "fresh":
        registry[LICENSING_CORE_KEY] = {"LicensingMode": _dword(5)}
    elif preset in ("per_device", "per_user"):
        registry[LICENSING_CORE_KEY] = {"LicensingMode": _dword(2 if preset == "per_device" else 4)}
        servers = ["ls01.example.test"] if preset == "per_device" else ["ls01.example.test", "ls02.example.test"]
        registry[LICENSE_SERVERS_KEY] = {"SpecifiedLicenseServers": {"type": "multistring", "data": servers}}
        facts["grace_expiry"] = now + (45 if preset == "per_device" else 88) * DAY
    elif preset == "gpo_conflict":
        registry[LICENSING_CORE_KEY] = {"LicensingMode": _dword(4)}
        registry[LICENSE_SERVERS_KEY] = {"SpecifiedLicenseServers": {"type": "multistring", "data": ["ls03.example.test"]}}
        registry[POLICY_KEY] = {"LicensingMode": _dword(2), "LicenseServers": _sz("ls01.example.test,ls02.example.test")}
    elif preset == "grace_expiring":
        facts["grace_expiry"] = now + 5 * DAY - 3600
    elif preset == "grace_expired":
        facts["grace_expiry"] = now - 3 * DAY
    elif preset == "grace_locked":
        facts["grace_acl"] = "no_admin_ace"
    elif preset == "client_cache":
        _make_client(state)
    elif preset == "license_server":
        _make_license_server(state, now)
    elif preset == "unactivated":
        if "license_server" not in state["facts"]:
            _make_license_server(state, now)
        server = state["facts"]["license_server"]
        server.update(activation_status=1, license_server_id=None)
        server["key_packs"] = [pack for pack in server["key_packs"] if pack["product_type"] == 0][:1]
        server["issued"] = [item for item in server["issued"] if item["key_pack_id"] == server["key_packs"][0]["key_pack_id"]]
    elif preset in license_network.PRESETS:
        license_network.apply(state, preset, now)
    else:
        raise ValueError(f"unknown scenario '{preset}'")


def _make_client(state: dict[str, t.Any]) -> None:
    registry = state["registry"]
    name = state["name"]
    for key in (RDSH_COMPONENT_KEY, LICENSING_CORE_KEY, GRACE_KEY):
        registry.pop(key, None)
    # Windows 11 23H2 (build 22631). Windows 11 keeps ProductName "Windows 10 ..." in this key, as real hosts do;
    # the build number is what tells the two apart.
    registry[CURRENT_VERSION_KEY] = {
        "ProductName": _sz("Windows 10 Enterprise"), "EditionID": _sz("Enterprise"),
        "InstallationType": _sz("Client"), "CurrentVersion": _sz("6.3"),
        "CurrentMajorVersionNumber": _dword(10), "CurrentMinorVersionNumber": _dword(0), "CurrentBuild": _sz("22631"),
        "CurrentBuildNumber": _sz("22631"), "UBR": _dword(4460), "DisplayVersion": _sz("23H2"),
    }
    registry[f"{MSLICENSING_KEY}\\HardwareID"] = {"ClientHWID": _binary(_blob(name + "hwid", 20))}
    for index in range(2):
        registry[f"{MSLICENSING_KEY}\\Store\\LICENSE00{index}"] = {
            "ClientLicense": _binary(_blob(f"{name}license{index}", 1100 + 37 * index)),
        }
    state["facts"]["services"] = {"TermService": "Running", "UmRdpService": "Running", "SessionEnv": "Stopped"}
    state["facts"]["ps_version"] = "5.1.22621.4391"
    state["facts"]["grace_expiry"] = None


LICENSE_SERVER_PARAMETERS = "SYSTEM\\CurrentControlSet\\Services\\TermServLicensing\\Parameters"


def _make_license_server(state: dict[str, t.Any], now: float) -> None:
    """An RD License Server that is not a Session Host: key packs of both CAL types and versions,
    temporary and permanent Per Device licenses issued (Per User CALs are tracked in AD)."""
    registry = state["registry"]
    for key in (RDSH_COMPONENT_KEY, LICENSING_CORE_KEY, GRACE_KEY):
        registry.pop(key, None)
    registry[LICENSE_SERVER_PARAMETERS] = {"Role": _dword(0), "DBPath": _sz("C:\\Windows\\System32\\LServer")}
    registry[f"{SERVICES_KEY}\\TermServLicensing"] = {"Start": _dword(2)}
    state["facts"]["services"]["TermServLicensing"] = "Running"
    year = 365 * DAY
    packs = [
        {"key_pack_id": 2, "description": "Remote Desktop Services Per User CAL", "type_and_model": "RDS Per User CAL",
         "key_pack_type": 2, "product_type": 1, "product_version": "Windows Server 2022", "product_version_id": 6,
         "total": 50, "issued": 0, "expiration": now + 3 * year},
        {"key_pack_id": 3, "description": "Remote Desktop Services Per Device CAL", "type_and_model": "RDS Per Device CAL",
         "key_pack_type": 2, "product_type": 0, "product_version": "Windows Server 2022", "product_version_id": 6,
         "total": 25, "issued": 3, "expiration": now + 3 * year},
        {"key_pack_id": 4, "description": "Remote Desktop Services Per Device CAL", "type_and_model": "RDS Per Device CAL",
         "key_pack_type": 1, "product_type": 0, "product_version": "Windows Server 2019", "product_version_id": 5,
         "total": 10, "issued": 10, "expiration": now + year},
        {"key_pack_id": 1, "description": "Temporary Licenses for Remote Desktop Services Per Device CAL",
         "type_and_model": "RDS Per Device CAL", "key_pack_type": 4, "product_type": 0,
         "product_version": "Windows Server 2022", "product_version_id": 6, "total": 0, "issued": 2, "expiration": None},
    ]
    issued = ([{"key_pack_id": 3, "status": 2}] * 3 + [{"key_pack_id": 4, "status": 2}] * 9 + [{"key_pack_id": 4, "status": 4}]
              + [{"key_pack_id": 1, "status": 1}] * 2)
    state["facts"]["license_server"] = {
        "activation_status": 0, "license_server_id": "12345-67890-ABCDE-FGHIJ-KLMNO-PQRST-UVWXY",
        "server_role": 1, "database_path": "C:\\Windows\\system32\\LServer\\", "product_id": "00490-92005-99454-AT527",
        "version": "10.0.20348", "key_packs": packs, "issued": issued,
    }


def build(name: str, scenario: str, now: float) -> dict[str, t.Any]:
    """A host's initial state for a scenario (see the module docstring)."""
    validate(scenario)
    state = _base_server(name, now)
    for preset in scenario.split("+"):
        _apply(state, preset, now)
    state["scenario"] = scenario
    return state
