# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The one reader of the licensing state: raw registry values (``(type, data)`` pairs as
_registry.from_wire returns them, or None when absent) in, the documented mode and server blocks
out. licensing_info, licensing_mode (its before/after), grace_period, the drift filter and the
reports all read the state through here, so they cannot disagree about a value.

What the blocks mean:
- ``local`` / ``policy``: the value in that scope; None when it is absent or has a type that
  Windows does not read for it (a REG_SZ LicensingMode, say).
- ``effective`` / ``source``: Group Policy wins over local; ``source`` is policy, local or unset.
- Servers: an empty list means the value exists but names no server; ``effective`` is [] when no
  scope names one. A local REG_SZ SpecifiedLicenseServers (what a registry tool writes by default)
  reads as a one-server list, with ``local_type`` saying it is not the documented REG_MULTI_SZ.
"""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing as lic

RawValue = t.Optional[t.Tuple[str, t.Any]]

_TEXT_TYPES = ("string", "expandstring")


def _dword(value: RawValue) -> int | None:
    return value[1] if value and value[0] == "dword" else None


def local_servers(value: RawValue) -> list[str] | None:
    """SpecifiedLicenseServers: REG_MULTI_SZ as documented; a REG_SZ holds one name."""
    if not value:
        return None
    value_type, data = value
    if value_type == "multistring":
        return [str(name) for name in data or []]
    if value_type in _TEXT_TYPES:
        return [data] if data else []
    return None


def policy_servers(value: RawValue) -> list[str] | None:
    """The policy LicenseServers value: one comma-separated REG_SZ."""
    if not value or value[0] not in _TEXT_TYPES:
        return None
    return lic.split_policy_servers(value[1])


def mode_block(policy: RawValue, local: RawValue) -> dict[str, t.Any]:
    """The documented ``mode`` block (without WMI's view)."""
    policy_mode, local_mode = _dword(policy), _dword(local)
    effective, source = lic.effective_setting(policy_mode, local_mode)
    return {
        "effective": effective, "effective_name": lic.mode_name(effective) or "not_configured", "source": source,
        "policy": policy_mode, "policy_name": lic.mode_name(policy_mode),
        "local": local_mode, "local_name": lic.mode_name(local_mode),
    }


def servers_block(policy: RawValue, local: RawValue) -> dict[str, t.Any]:
    """The documented ``license_servers`` block (without WMI's view)."""
    policy_list, local_list = policy_servers(policy), local_servers(local)
    effective, source = lic.effective_setting(policy_list, local_list)
    return {
        "effective": list(effective or []), "source": source, "policy": policy_list, "local": local_list,
        "local_type": local[0] if local else None,
    }


def is_configured(mode: dict[str, t.Any] | None, servers: dict[str, t.Any] | None) -> bool:
    """A licensed mode and at least one license server in effect."""
    return bool(mode) and mode.get("effective") in lic.LICENSED_MODES and bool((servers or {}).get("effective"))


def type_warning(servers: dict[str, t.Any]) -> str | None:
    """A local server list stored with another type than Windows documents."""
    kind = servers.get("local_type")
    if kind is None or kind == "multistring":
        return None
    return (f"SpecifiedLicenseServers is stored as {kind}, not the documented REG_MULTI_SZ; it is read as "
            f"{servers.get('local')!r}. Set it again with remote_desktop.licensing.licensing_mode (license_servers) "
            "to store it as REG_MULTI_SZ.")
