# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

What RDS licensing means in the registry and WMI: the keys, the mode numbers, which source wins,
and how a grace period reads. Facts and their sources are listed in docs/architecture.md.
"""

from __future__ import annotations

import ipaddress
import re
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


def server_list(value: t.Any) -> list[str]:
    """License servers as a list, also from the text a survey gives: "ls01, ls02" or one per line.
    Each entry is split on commas and line breaks and trimmed; empty lines are dropped. An entry that
    starts or ends with a comma, or has two commas with only spaces between, is refused: "ls01.example.test,"
    is what is left of "ls01.example.test, ls02..." after `-e name="a, b"`, which ansible-playbook cuts at
    the space."""
    if value is None:
        return []
    entries = [value] if isinstance(value, str) else list(value)
    names = []
    for entry in entries:
        text = str(entry).strip()
        # A module's list option arrives already split at commas (ansible-core's list type): 'a,' as ['a', ''].
        if text.startswith(",") or text.endswith(",") or re.search(r",\s*,", text) or (not text and len(entries) > 1):
            shown = text if isinstance(value, str) else ",".join(str(item).strip() for item in entries)
            raise ValueError(
                f"{shown!r} has an empty name next to a comma. If it was passed as -e name=\"a, b\", "
                "ansible-playbook cut the value at the space; write -e '{\"name\": \"a, b\"}' or leave the spaces out")
        names.extend(part.strip() for part in re.split(r"[,\r\n]", text) if part.strip())
    return names


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


def grace_state(days_left: int | None, error: str | None, rdsh: bool, warning_days: int) -> str:
    """Classify the grace period; 0 days left means the 120 days are over, which is fine once licensed."""
    if not rdsh:
        return "not_applicable"
    if error is not None or days_left is None:
        return "unknown"
    if days_left <= 0:
        return "expired"
    if days_left <= warning_days:
        return "expiring"
    return "active"


# License server names: a NetBIOS name (letters, digits, '-' and '_', at most 15 characters, not
# only digits), a DNS name (labels of letters, digits and '-', not starting or ending with '-'),
# or an IPv4/IPv6 address. Commas are never valid: the policy value is a comma-separated list.
_NETBIOS = re.compile(r"^(?=.*[A-Za-z_-])[A-Za-z0-9_-]{1,15}$")
_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def server_name_problem(name: t.Any) -> str | None:
    """Why a license server name is not valid, or None when it is."""
    if not isinstance(name, str) or not name.strip():
        return "it is empty or not a string"
    if name != name.strip():
        return "it has leading or trailing spaces"
    if re.search(r"[;\s]", name):
        # A list pasted from a report (the CSV joins names with ';') or typed with spaces between names.
        return "separate license server names with commas, not semicolons or spaces"
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    if _NETBIOS.match(name):
        return None
    host = name[:-1] if name.endswith(".") else name
    labels = host.split(".")
    if len(host) <= 253 and len(labels) > 1 and all(_DNS_LABEL.match(label) for label in labels) \
            and not labels[-1].isdigit():
        return None
    return ("it is not a NetBIOS name (letters, digits, '-' or '_', at most 15 characters), a DNS name "
            "(such as ls01.example.com) or an IP address")


def mode_label(number: int | None) -> str:
    """'per_user (4)' for diffs and messages."""
    if number is None:
        return "not set"
    return f"{mode_name(number)} ({number})"
