# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

What the RD License Server's WMI numbers mean (Win32_TSLicenseServer, Win32_TSLicenseKeyPack,
Win32_TSIssuedLicense) and the capacity summary an administrator reads: CALs per type and version.
"""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _wmi_reads

ACTIVATION = {0: "activated", 1: "not_activated", 2: "unknown"}
SERVER_ROLES = {0: "workgroup", 1: "domain", 2: "forest"}
KEY_PACK_TYPES = {0: "unknown", 1: "retail", 2: "volume", 3: "concurrent", 4: "temporary", 5: "open_license",
                  6: "not_supported"}
CAL_TYPES = {0: "per_device", 1: "per_user", 2: "not_valid"}
LICENSE_STATUS = {0: "unknown", 1: "temporary", 2: "active", 3: "upgrade", 4: "revoked", 5: "pending", 6: "concurrent"}

PARAMETERS_KEY = "SYSTEM\\CurrentControlSet\\Services\\TermServLicensing\\Parameters"
SERVICE = "TermServLicensing"


def operations() -> list[dict[str, t.Any]]:
    return [
        *_wmi_reads.license_server("server"),
        {"id": "parameters", "op": "read_key", "path": PARAMETERS_KEY, "view": 64},
        {"id": "service", "op": "service_status", "names": [SERVICE]},
    ]


def with_server(results: dict[str, dict[str, t.Any]]) -> dict[str, dict[str, t.Any]]:
    """The agent's answers by id with "server" as the one license server block its three WMI reads make."""
    return {**results, "server": _wmi_reads.license_server_answer(results, "server")}


def key_pack(pack: dict[str, t.Any]) -> dict[str, t.Any]:
    return {**pack, "key_pack_type_name": KEY_PACK_TYPES.get(pack.get("key_pack_type"), "unknown"),
            "cal_type": CAL_TYPES.get(pack.get("product_type"), "not_valid")}


def capacity(packs: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Installed CALs per product version and CAL type; temporary packs are not capacity."""
    groups: dict[tuple[str, str], dict[str, t.Any]] = {}
    for pack in packs:
        if pack["key_pack_type_name"] == "temporary":
            continue
        group = groups.setdefault((pack.get("product_version") or "", pack["cal_type"]), {
            "product_version": pack.get("product_version") or "", "cal_type": pack["cal_type"],
            "total": 0, "issued": 0, "available": 0, "key_packs": 0})
        for field in ("total", "issued", "available"):
            group[field] += int(pack.get(field) or 0)
        group["key_packs"] += 1
    return sorted(groups.values(), key=lambda group: (group["product_version"], group["cal_type"]))


def issued(by_status: dict[str, int]) -> dict[str, int]:
    counts = {name: 0 for name in LICENSE_STATUS.values()}
    for status, count in (by_status or {}).items():
        counts[LICENSE_STATUS.get(int(status), "unknown")] += int(count)
    return counts


def warnings(report: dict[str, t.Any]) -> list[str]:
    notes = []
    if report["activation"]["name"] != "activated":
        notes.append("The license server is not activated: it issues only temporary licenses.")
    for group in report["capacity"]:
        if group["total"] and not group["available"]:
            notes.append(f"No {group['cal_type'].replace('_', ' ')} CALs left for {group['product_version']}.")
    if report["issued_licenses"]["temporary"]:
        notes.append(f"{report['issued_licenses']['temporary']} temporary license(s) issued: those clients need a "
                     "permanent CAL before the temporary one expires.")
    return notes


def build(server: dict[str, t.Any], parameters: list[dict[str, t.Any]], service: dict[str, t.Any]) -> dict[str, t.Any]:
    """The license_server_info result from the agent's answers (server must be ok)."""
    if not server.get("exists"):
        return {"is_license_server": False, "reason": server.get("reason"), "service": service}
    packs = [key_pack(pack) for pack in server.get("key_packs") or []]
    status = server.get("activation_status")
    report = {
        "is_license_server": True,
        "activation": {"status": status, "name": ACTIVATION.get(status, "unknown"), "error": server.get("activation_error")},
        "license_server_id": server.get("license_server_id"),
        "role": {"number": server.get("server_role"), "name": SERVER_ROLES.get(server.get("server_role"), "unknown")},
        "database_path": server.get("database_path"),
        "version": server.get("version"),
        "product_id": server.get("product_id"),
        "key_packs": packs,
        "capacity": capacity(packs),
        "issued_licenses": issued(server.get("issued_by_status") or {}),
        "parameters": {entry["name"]: entry.get("data") for entry in parameters},
        "service": service,
    }
    report["warnings"] = warnings(report)
    return report
