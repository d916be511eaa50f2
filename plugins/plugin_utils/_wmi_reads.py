# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The WMI facts the modules read, as the agent's one generic ``cim_read`` operation asks for them, and
the generic answers turned back into the blocks the readers use (the session host's licensing
settings, the computer's domain membership, the license server, a session host's reach to its
license servers and the license server's own checks). The readers and the module results do not
depend on how the agent reads WMI; where the agent used to cast a value ([int], [string]) the same
cast is made here, so an unset property reads as it always did.
"""

from __future__ import annotations

import typing as t

TS_NAMESPACE = "root/cimv2/TerminalServices"
CIMV2 = "root/cimv2"
TS_SETTING = "Win32_TerminalServiceSetting"
LICENSE_SERVER = "Win32_TSLicenseServer"

# Ids of the operations one license server read takes besides the caller's own.
KEY_PACKS_ID = "server_key_packs"
ISSUED_ID = "server_issued"
REPORT_ID = "checks_report"

_KEY_PACK_FIELDS = {  # wire name: (property, cast)
    "key_pack_id": ("KeyPackId", int), "description": ("Description", str), "type_and_model": ("TypeAndModel", str),
    "key_pack_type": ("KeyPackType", int), "product_type": ("ProductType", int), "product_version": ("ProductVersion", str),
    "product_version_id": ("ProductVersionID", int), "total": ("TotalLicenses", int), "issued": ("IssuedLicenses", int),
    "available": ("AvailableLicenses", int),
}
_DISCOVERED_FIELDS = ("LicenseServer", "IsLSAvailable", "IsAdminOnLS", "IssuingCALs")
_SUMMARY_FIELDS = ("ProductVersion", "TSCALType", "InstalledLicenses", "IssuedLicenses")
# FetchReportSummaryEntries' "no more entries" (LSERVER_I_NO_MORE_DATA): an informational code, the entries are there.
NO_MORE_DATA = 0x4001


def cim_read(op_id: str, namespace: str, class_name: str, properties: t.Sequence[str] = (),
             calls: t.Sequence[dict[str, t.Any]] = (), **options: t.Any) -> dict[str, t.Any]:
    """One cim_read operation; options: count_by or newest_by (a property name)."""
    op: dict[str, t.Any] = {"id": op_id, "op": "cim_read", "namespace": namespace, "class": class_name}
    if properties:
        op["select"] = list(properties)
    if calls:
        op["calls"] = list(calls)
    op.update(options)
    return op


def call(method: str, out: str, **options: t.Any) -> dict[str, t.Any]:
    """One method call of a cim_read; options: args, fields (of embedded instances), each with names or names_from."""
    return {"method": method, "out": out, **options}


def _int(value: t.Any) -> int:
    return int(value) if value is not None else 0


def _str(value: t.Any) -> str:
    return str(value) if value is not None else ""


def _instance(result: dict[str, t.Any]) -> tuple[dict[str, t.Any], list[t.Any]]:
    """The properties and call answers of a read's first instance."""
    instance = (result.get("instances") or [{}])[0]
    return instance.get("values") or {}, instance.get("calls") or []


def _returned(answer: dict[str, t.Any]) -> t.Any:
    """A call's out value when the call succeeded (a failed call's value is not an answer)."""
    return answer.get("value") if not answer.get("error") else None


def _passed_through(result: dict[str, t.Any]) -> dict[str, t.Any] | None:
    """A failed read, or a class that is not there, answers as it is."""
    if not result.get("ok") or not result.get("exists"):
        return result
    return None


# Win32_TerminalServiceSetting: licensing mode and servers as WMI reports them, the grace period -------------------
def terminal_service(op_id: str = "wmi") -> dict[str, t.Any]:
    return cim_read(op_id, TS_NAMESPACE, TS_SETTING,
                    ("LicensingType", "LicensingName", "PolicySourceLicensingType", "PolicySourceConfiguredLicenseServers",
                     "TerminalServerMode"),
                    (call("GetGracePeriodDays", "DaysLeft"), call("GetSpecifiedLicenseServerList", "SpecifiedLSList")))


def terminal_service_answer(result: dict[str, t.Any]) -> dict[str, t.Any]:
    passed = _passed_through(result)
    if passed is not None:
        return passed
    properties, (grace, servers) = _instance(result)
    answer: dict[str, t.Any] = {
        "ok": True, "exists": True, "id": result.get("id"),
        "licensing_type": _int(properties.get("LicensingType")), "licensing_name": _str(properties.get("LicensingName")),
        "policy_source_licensing_type": _int(properties.get("PolicySourceLicensingType")),
        "policy_source_configured_license_servers": _int(properties.get("PolicySourceConfiguredLicenseServers")),
        "terminal_server_mode": _int(properties.get("TerminalServerMode")),
        "grace_days_left": None, "grace_error": None, "specified_license_servers": None, "license_servers_error": None,
    }
    answer["grace_days_left"], answer["grace_error"] = _grace(grace)
    error = servers.get("error")
    if error and error.get("return_value") is None:
        answer["license_servers_error"] = error.get("message")
    else:  # GetSpecifiedLicenseServerList's ReturnValue was never a failure of the list
        answer["specified_license_servers"] = [str(name) for name in servers.get("value") or [] if name is not None]
    return answer


def _grace(grace: dict[str, t.Any]) -> tuple[int | None, dict[str, t.Any] | None]:
    """DaysLeft, or why there is none: a method can fail through ReturnValue and leave DaysLeft unset, and an unset
    DaysLeft must not read as 0 days (expired)."""
    error, days = grace.get("error"), grace.get("value")
    if error and error.get("return_value") is None:
        return None, {**error, "return_value": None}
    if error or days is None:
        returned = error.get("return_value") if error else 0
        message = f"GetGracePeriodDays returned {returned}" + (" without DaysLeft" if days is None else "")
        return None, {"message": message, "hresult": None, "native_error": None, "return_value": returned}
    return int(days), None


# Win32_ComputerSystem: name and domain membership ---------------------------------------------------------------
def computer_system(op_id: str) -> dict[str, t.Any]:
    return cim_read(op_id, CIMV2, "Win32_ComputerSystem", ("Name", "PartOfDomain", "Domain", "DomainRole"))


def computer_system_answer(result: dict[str, t.Any]) -> dict[str, t.Any]:
    if not result.get("ok"):
        return result
    if not result.get("exists"):  # every Windows host has this instance; its absence is a WMI failure
        return {"ok": False, "id": result.get("id"), "error": {
            "kind": "wmi_error", "message": result.get("reason"), "path": None, "native_error": result.get("native_error")}}
    properties = _instance(result)[0]
    return {"ok": True, "id": result.get("id"), "name": _str(properties.get("Name")),
            "part_of_domain": bool(properties.get("PartOfDomain")), "domain": _str(properties.get("Domain")),
            "domain_role": _int(properties.get("DomainRole"))}


# Win32_TSLicenseServer, its key packs and its issued licenses (counted on the host) -------------------------------
def license_server(op_id: str = "server") -> list[dict[str, t.Any]]:
    return [
        cim_read(op_id, CIMV2, LICENSE_SERVER, ("ServerRole", "DatabasePath", "ProductId", "Version"),
                 (call("GetActivationStatus", "ActivationStatus"), call("GetLicenseServerID", "sLicenseServerId"))),
        cim_read(KEY_PACKS_ID, CIMV2, "Win32_TSLicenseKeyPack",
                 [field for field, _cast in _KEY_PACK_FIELDS.values()] + ["ExpirationDate"]),
        # Counted on the host, so that thousands of issued licenses do not travel back one by one.
        cim_read(ISSUED_ID, CIMV2, "Win32_TSIssuedLicense", count_by="LicenseStatus"),
    ]


def license_server_answer(results: dict[str, dict[str, t.Any]], op_id: str = "server") -> dict[str, t.Any]:
    """The license server block from its three reads; a failure of any is the whole read's failure."""
    server = results.get(op_id) or {}
    passed = _passed_through(server)
    if passed is not None:
        return passed
    packs, issued = results.get(KEY_PACKS_ID) or {}, results.get(ISSUED_ID) or {}
    for part in (packs, issued):
        if not part.get("ok"):
            return {**part, "id": op_id}
    properties, (activation, server_id) = _instance(server)
    answer: dict[str, t.Any] = {
        "ok": True, "exists": True, "id": op_id,
        "server_role": _int(properties.get("ServerRole")), "database_path": _str(properties.get("DatabasePath")),
        "product_id": _str(properties.get("ProductId")), "version": _str(properties.get("Version")),
        "activation_status": None, "activation_error": None, "license_server_id": None,
        "key_packs": [_key_pack(instance.get("values") or {}) for instance in packs.get("instances") or []],
        "issued_by_status": {},
    }
    # Only an exception is a failure of these two; their ReturnValue never was.
    if activation.get("error") and activation["error"].get("return_value") is None:
        answer["activation_error"] = activation["error"].get("message")
    else:
        answer["activation_status"] = _int(activation.get("value"))
    if not (server_id.get("error") and server_id["error"].get("return_value") is None):
        answer["license_server_id"] = _str(server_id.get("value"))
    counts: dict[str, int] = {}
    for status, count in (issued.get("counts") or {}).items():
        key = str(int(status or 0))
        counts[key] = counts.get(key, 0) + int(count)
    answer["issued_by_status"] = counts
    return answer


def _key_pack(properties: dict[str, t.Any]) -> dict[str, t.Any]:
    pack = {name: (_int if cast is int else _str)(properties.get(field)) for name, (field, cast) in _KEY_PACK_FIELDS.items()}
    pack["expiration"] = properties.get("ExpirationDate")
    return pack


# A session host's reach to its license servers (lsdiag's first page) ----------------------------------------------
def connectivity(op_id: str, servers: t.Sequence[str] = ()) -> dict[str, t.Any]:
    """GetTStoLSConnectivityStatus for each named server, or for the effective list when none is named, and what
    FindLicenseServers discovers."""
    listed = [] if servers else [call("GetSpecifiedLicenseServerList", "SpecifiedLSList")]
    names: dict[str, t.Any] = {"names": list(servers)} if servers else {"names_from": 0}
    return cim_read(op_id, TS_NAMESPACE, TS_SETTING, (), listed + [
        call("GetTStoLSConnectivityStatus", "TStoLSConnectivityStatus", each="ServerName", **names),
        call("FindLicenseServers", "LicenseServersList", fields=list(_DISCOVERED_FIELDS)),
    ])


def connectivity_answer(result: dict[str, t.Any]) -> dict[str, t.Any]:
    passed = _passed_through(result)
    if passed is not None:
        return passed
    answers = _instance(result)[1]
    listed = answers[0] if len(answers) == 3 else None
    statuses, found = answers[-2], answers[-1]
    servers = []
    for status in statuses:
        value = _returned(status)
        servers.append({"name": _str(status.get("name")), "status": int(value) if value is not None else None,
                        "error": status.get("error")})
    discovered = [{"name": _str(server.get("LicenseServer")), "available": _int(server.get("IsLSAvailable")) == 1,
                   "admin": _int(server.get("IsAdminOnLS")) == 1, "issuing_cals": _int(server.get("IssuingCALs")) == 1}
                  for server in _returned(found) or [] if server is not None]
    return {"ok": True, "exists": True, "id": result.get("id"), "servers": servers,
            "servers_error": listed.get("error") if listed else None, "discovered": discovered,
            "discovery_error": found.get("error")}


# The license server's own checks (lsdiag's license server page) and its newest Per User usage report -------------
def server_checks(op_id: str, domain: str, session_hosts: t.Sequence[str]) -> list[dict[str, t.Any]]:
    return [
        cim_read(op_id, CIMV2, LICENSE_SERVER, (), [
            call("IsLSinTSLSGroup", "IsMember", args={"Domain": domain}),
            call("IsLSonDC", "OnDC"),
            call("IsLSSecGrpGPEnabled", "Enabled"),
            call("IsSecureAccessAllowed", "Allowed", each="tsname", names=list(session_hosts)),
        ]),
        cim_read(REPORT_ID, CIMV2, "Win32_TSLicenseReport", ("FileName", "GenerationDateTime"), [
            call("FetchReportSummaryEntries", "ReportSummaryEntries", args={"StartIndex": 0, "Count": 0},
                 fields=list(_SUMMARY_FIELDS))], newest_by="GenerationDateTime"),
    ]


def server_checks_answer(results: dict[str, dict[str, t.Any]], op_id: str = "checks") -> dict[str, t.Any]:
    result = results.get(op_id) or {}
    passed = _passed_through(result)
    if passed is not None:
        return passed
    group, on_dc, policy, access = _instance(result)[1]
    answer: dict[str, t.Any] = {
        "ok": True, "exists": True, "id": op_id,
        "checks": {name: {"value": _returned(item), "error": item.get("error")}
                   for name, item in (("in_tsls_group", group), ("on_dc", on_dc), ("security_group_policy", policy))},
        "secure_access": [{"name": _str(item.get("name")), "allowed": _returned(item), "error": item.get("error")}
                          for item in access],
    }
    answer["usage_report"], answer["usage_error"] = _usage_report(results.get(REPORT_ID) or {})
    return answer


def _usage_report(result: dict[str, t.Any]) -> tuple[dict[str, t.Any] | None, dict[str, t.Any] | None]:
    if not result.get("ok"):
        error = result.get("error") or {}
        return None, {"message": error.get("message"), "hresult": error.get("hresult"),
                      "native_error": error.get("native_error"), "return_value": None}
    if not result.get("exists"):
        if result.get("native_error"):  # the class itself is missing: a failure of the read, not an empty list
            return None, {"message": result.get("reason"), "hresult": result.get("hresult"),
                          "native_error": result["native_error"], "return_value": None}
        return None, None
    properties, (entries,) = _instance(result)
    error = entries.get("error")
    if error and error.get("return_value") == NO_MORE_DATA:
        error = None
    summary = [{"product_version": _str(entry.get("ProductVersion")), "cal_type": _int(entry.get("TSCALType")),
                "installed": _int(entry.get("InstalledLicenses")), "issued": _int(entry.get("IssuedLicenses"))}
               for entry in (entries.get("value") if not error else None) or [] if entry is not None]
    report = {"file_name": _str(properties.get("FileName")), "generated": properties.get("GenerationDateTime"),
              "summary": summary}
    return report, error
