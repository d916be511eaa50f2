# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

What RDS licensing means in the registry and WMI: the keys, the mode numbers, which source wins,
and how a grace period reads. Facts and their sources are listed in docs/architecture.md.
"""

from __future__ import annotations

import typing as t

# Registry paths below HKLM.
POLICY_KEY = "SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services"
LICENSING_CORE_KEY = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
LICENSE_SERVERS_KEY = "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"
RCM_KEY = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM"
GRACE_PERIOD_KEY = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"
MSLICENSING_KEY = "SOFTWARE\\Microsoft\\MSLicensing"
CURRENT_VERSION_KEY = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion"
RDSH_COMPONENT_KEY = "SOFTWARE\\Microsoft\\ServerManager\\ServicingStorage\\ServerComponentCache\\RDS-RD-Server"
TERMSERVICE_KEY = "SYSTEM\\CurrentControlSet\\Services\\TermService"

LICENSING_MODE_VALUE = "LicensingMode"
LOCAL_SERVERS_VALUE = "SpecifiedLicenseServers"
POLICY_SERVERS_VALUE = "LicenseServers"

MODE_NAMES = {
    0: "personal_terminal_server",
    1: "remote_admin",
    2: "per_device",
    4: "per_user",
    5: "not_configured",
    6: "aad_per_user",
}
MODE_NUMBERS = {name: number for number, name in MODE_NAMES.items()}
# Modes a licensed RD Session Host can run with.
LICENSED_MODES = (2, 4, 6)

# Server releases by build number (CurrentBuild).
SERVER_RELEASES = {
    9600: "Windows Server 2012 R2",
    14393: "Windows Server 2016",
    17763: "Windows Server 2019",
    20348: "Windows Server 2022",
    26100: "Windows Server 2025",
}

SERVICE_START_MODES = {0: "boot", 1: "system", 2: "auto", 3: "manual", 4: "disabled"}

GRACE_STATES = ("active", "expiring", "expired", "not_applicable", "unknown")


def mode_name(number: int | None) -> str | None:
    if number is None:
        return None
    return MODE_NAMES.get(number, f"unknown_{number}")


def effective_setting(policy: t.Any, local: t.Any) -> tuple[t.Any, str]:
    """Group Policy values apply before local ones; returns (value, source)."""
    if policy is not None:
        return policy, "policy"
    if local is not None:
        return local, "local"
    return None, "unset"


def split_policy_servers(text: str | None) -> list[str] | None:
    """The policy LicenseServers value is one comma-separated REG_SZ."""
    if text is None:
        return None
    return [item.strip() for item in text.split(",") if item.strip()]


def server_version_name(build: int | None, installation_type: str | None, product_name: str | None) -> str | None:
    """'Windows Server 2022' for a known server build; the product name otherwise."""
    is_server = bool(installation_type) and installation_type.lower().startswith("server")
    if is_server and build in SERVER_RELEASES:
        return SERVER_RELEASES[build]
    return product_name


def grace_state(days_left: int | None, error: str | None, rdsh: bool, expiring_days: int) -> str:
    """Classify the grace period; 0 days left means the 120 days are over, which is fine once licensed."""
    if not rdsh:
        return "not_applicable"
    if error is not None or days_left is None:
        return "unknown"
    if days_left <= 0:
        return "expired"
    if days_left <= expiring_days:
        return "expiring"
    return "active"
