"""WMI as a Windows host has it: namespaces of classes, each class with its instances (properties) and
methods whose out parameters include ReturnValue; a method that fails raises what Windows raises
(a CimException: MSFT_WmiError.error_Code and the MI result). The instances are derived from the
host's registry and facts on every read, as the providers derive them on a real host.

cim_read serves the agent's generic WMI operation from this model: the named properties, the named
method calls (allow-listed (class, method) pairs only), count_by and newest_by.

Faults: wmi_denied refuses, and wmi_missing_class removes, the classes of the RDS providers (the
TerminalServices namespace and the RD Licensing classes); Win32_ComputerSystem stays readable, as
when the namespace security of those providers is what refuses. Where Windows is uncertain the harsher
case is modelled: an unactivated license server has no ID, so GetLicenseServerID fails.
"""

from __future__ import annotations

import datetime
import typing as t

from rds_sim import license_network
from rds_sim.host import LICENSING_NAMES, Host, SimulatedFailure, _cim_answer, refusal

# The (class, method) pairs the agent's $CimCalls allows: all of them only read.
CIM_METHODS = (
    "Win32_TerminalServiceSetting.GetGracePeriodDays", "Win32_TerminalServiceSetting.GetSpecifiedLicenseServerList",
    "Win32_TerminalServiceSetting.GetTStoLSConnectivityStatus", "Win32_TerminalServiceSetting.FindLicenseServers",
    "Win32_TSLicenseServer.GetActivationStatus", "Win32_TSLicenseServer.GetLicenseServerID", "Win32_TSLicenseServer.IsLSinTSLSGroup",
    "Win32_TSLicenseServer.IsLSonDC", "Win32_TSLicenseServer.IsLSSecGrpGPEnabled", "Win32_TSLicenseServer.IsSecureAccessAllowed",
    "Win32_TSLicenseReport.FetchReportSummaryEntries",
)
_ALLOWED = {pair.lower() for pair in CIM_METHODS}

Properties = dict[str, t.Any]
Method = t.Callable[[Host, Properties, dict[str, t.Any]], dict[str, t.Any]]


class Embedded(dict):  # type: ignore[type-arg]
    """An embedded CIM instance in a property or out parameter (the agent answers the fields asked for)."""


class WmiClass(t.NamedTuple):
    instances: t.Callable[[Host], list[Properties]]
    methods: dict[str, Method]
    provider: bool = True  # one of the RDS providers' classes (the WMI faults apply)


def _time(value: float | str | None) -> datetime.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.datetime.fromisoformat(value).astimezone(datetime.timezone.utc)
    return datetime.datetime.fromtimestamp(value, datetime.timezone.utc)


def _ok(**out: t.Any) -> dict[str, t.Any]:
    return {"ReturnValue": 0, **out}


# root\cimv2\TerminalServices -------------------------------------------------------------------------------------
def _ts_setting(host: Host) -> list[Properties]:
    mode, mode_from_policy = host.effective_mode()
    _servers, servers_from_policy = host.effective_servers()
    return [{"LicensingType": mode, "LicensingName": LICENSING_NAMES.get(mode, "Unknown"),
             "PolicySourceLicensingType": 1 if mode_from_policy else 0,
             "PolicySourceConfiguredLicenseServers": 1 if servers_from_policy else 0,
             "TerminalServerMode": 1 if host.is_rdsh() else 0}]


def _grace_days(host: Host, _instance: Properties, _args: dict[str, t.Any]) -> dict[str, t.Any]:
    if host.faults.get("wmi_grace_no_days"):
        return {"ReturnValue": 1}  # answers through ReturnValue and leaves DaysLeft unset
    return _ok(DaysLeft=host.grace_days_left())


def _connectivity(host: Host, _instance: Properties, args: dict[str, t.Any]) -> dict[str, t.Any]:
    if host.facts.get("ls_rpc_unavailable"):
        raise SimulatedFailure("wmi_error", "The RPC server is unavailable. ", "0x800706BA", "Failed")
    return _ok(TStoLSConnectivityStatus=license_network.connectivity_status(host, str(args.get("ServerName") or "")))


def _find_servers(host: Host, _instance: Properties, _args: dict[str, t.Any]) -> dict[str, t.Any]:
    found = []
    if host.facts.get("domain", {}).get("part_of_domain") and host.facts.get("ls_published", True):
        found = [Embedded(LicenseServer=license_network.PUBLISHED, IsLSAvailable=True, IsAdminOnLS=True, IssuingCALs=True)]
    return _ok(LicenseServersList=found)


# root\cimv2: the computer, and the RD Licensing provider's classes (only where the role is installed) ---------------
def _computer(host: Host) -> list[Properties]:
    domain = host.facts.get("domain", {})
    return [{"Name": host.facts.get("computer_name", host.name.upper()), "PartOfDomain": bool(domain.get("part_of_domain")),
             "Domain": domain.get("domain", "WORKGROUP"), "DomainRole": int(domain.get("domain_role", 2))}]


def _server(host: Host) -> dict[str, t.Any]:
    return host.facts["license_server"]


def _license_server(host: Host) -> list[Properties]:
    server = _server(host)
    return [{"ServerRole": server["server_role"], "DatabasePath": server["database_path"], "ProductId": server["product_id"],
             "Version": server["version"]}]


def _server_id(host: Host, _instance: Properties, _args: dict[str, t.Any]) -> dict[str, t.Any]:
    if _server(host).get("license_server_id") is None:
        raise SimulatedFailure("wmi_error", "Generic failure ", "0x80041001", "Failed")
    return _ok(sLicenseServerId=_server(host)["license_server_id"])


def _checks(host: Host) -> dict[str, t.Any]:
    return _server(host).get("checks") or {}


def _key_packs(host: Host) -> list[Properties]:
    return [{"KeyPackId": pack["key_pack_id"], "Description": pack["description"], "TypeAndModel": pack["type_and_model"],
             "KeyPackType": pack["key_pack_type"], "ProductType": pack["product_type"], "ProductVersion": pack["product_version"],
             "ProductVersionID": pack["product_version_id"], "TotalLicenses": pack["total"], "IssuedLicenses": pack["issued"],
             "AvailableLicenses": max(0, pack["total"] - pack["issued"]), "ExpirationDate": _time(pack.get("expiration"))}
            for pack in _server(host)["key_packs"]]


def _issued(host: Host) -> list[Properties]:
    return [{"KeyPackId": item["key_pack_id"], "LicenseStatus": item["status"]} for item in _server(host)["issued"]]


def _reports(host: Host) -> list[Properties]:
    report = _checks(host).get("usage_report")
    if not report:
        return []
    return [{"FileName": report["file_name"], "GenerationDateTime": _time(report["generated"]), "_summary": report["summary"]}]


def _report_entries(_host: Host, instance: Properties, _args: dict[str, t.Any]) -> dict[str, t.Any]:
    return _ok(ReportSummaryEntries=[Embedded(ProductVersion=entry["product_version"], TSCALType=entry["cal_type"],
                                              InstalledLicenses=entry["installed"], IssuedLicenses=entry["issued"])
                                     for entry in instance["_summary"]])


REPOSITORY: dict[str, dict[str, WmiClass]] = {
    "root/cimv2/terminalservices": {
        "win32_terminalservicesetting": WmiClass(_ts_setting, {
            "getgraceperioddays": _grace_days,
            "getspecifiedlicenseserverlist": lambda host, _i, _a: _ok(SpecifiedLSList=host.effective_servers()[0]),
            "gettstolsconnectivitystatus": _connectivity,
            "findlicenseservers": _find_servers,
        }),
    },
    "root/cimv2": {
        "win32_computersystem": WmiClass(_computer, {}, provider=False),
        "win32_tslicenseserver": WmiClass(_license_server, {
            "getactivationstatus": lambda host, _i, _a: _ok(ActivationStatus=_server(host)["activation_status"]),
            "getlicenseserverid": _server_id,
            "islsintslsgroup": lambda host, _i, _a: _ok(IsMember=_checks(host).get("in_tsls_group", True)),
            "islsondc": lambda host, _i, _a: _ok(OnDC=_checks(host).get("on_dc", False)),
            "islssecgrpgpenabled": lambda host, _i, _a: _ok(Enabled=_checks(host).get("security_group_policy", False)),
            "issecureaccessallowed": lambda host, _i, args: _ok(
                Allowed=str(args.get("tsname") or "").strip().lower().split(".")[0] not in (_checks(host).get("denied_hosts") or [])),
        }),
        "win32_tslicensekeypack": WmiClass(_key_packs, {}),
        "win32_tsissuedlicense": WmiClass(_issued, {}),
        "win32_tslicensereport": WmiClass(_reports, {"fetchreportsummaryentries": _report_entries}),
    },
}
_LICENSING_CLASSES = ("win32_tslicenseserver", "win32_tslicensekeypack", "win32_tsissuedlicense", "win32_tslicensereport")


def get_instances(host: Host, namespace: str, class_name: str) -> tuple[WmiClass, list[Properties]]:
    """Get-CimInstance: the class and its instances, or the CimException Windows raises."""
    classes = REPOSITORY.get(namespace.replace("\\", "/").lower())
    if classes is None:
        raise SimulatedFailure("wmi_error", "Invalid namespace ", "0x8004100E", "InvalidNamespace")
    wmi_class = classes.get(class_name.lower())
    provider = wmi_class is None or wmi_class.provider
    # Access is checked before the class is looked up, as the namespace's security is.
    if provider and host.faults.get("wmi_denied"):
        raise SimulatedFailure("access_denied", "Access denied ", "0x80041003", "AccessDenied")
    missing = SimulatedFailure("wmi_error", f"Invalid class \"{class_name}\"", "0x80041010", "InvalidClass")
    if wmi_class is None or (provider and host.faults.get("wmi_missing_class")) or \
            (class_name.lower() in _LICENSING_CLASSES and not host.facts.get("license_server")):
        raise missing
    # A UAC-filtered token: the RDS providers' classes answer Administrators only (the harsher reading: the namespace
    # security a standard user gets is not documented); a class that is not registered is InvalidClass for anyone.
    if provider and host.not_elevated():
        raise SimulatedFailure("access_denied", "Access denied ", "0x80041003", "AccessDenied")
    return wmi_class, wmi_class.instances(host)


def _dotnet_round_trip(value: datetime.datetime) -> str:
    """DateTime.ToUniversalTime().ToString('o'): seven fractional digits and Z."""
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def to_wire(value: t.Any, fields: t.Sequence[str] | None) -> t.Any:
    """A CIM value as the agent answers it (ConvertTo-CimWire)."""
    if isinstance(value, datetime.datetime):
        return _dotnet_round_trip(value)
    if isinstance(value, Embedded):
        return _fields(value, fields)
    if isinstance(value, (list, tuple)):
        return [to_wire(item, fields) for item in value]
    return value


def _lookup(instance: dict[str, t.Any], name: str) -> t.Any:
    """PowerShell's CIM adapter finds properties by name in any case; a missing one is $null."""
    return next((value for key, value in instance.items() if key.lower() == name.lower()), None)


def _fields(instance: dict[str, t.Any], names: t.Sequence[str] | None) -> dict[str, t.Any]:
    return {str(name): to_wire(_lookup(instance, str(name)), None) for name in names or []}


def _ps_string(value: t.Any) -> str:
    """[string]$value as the agent makes a count_by key."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def _call(host: Host, wmi_class: WmiClass, instance: Properties, call: dict[str, t.Any], args: dict[str, t.Any]) -> dict[str, t.Any]:
    method = str(call.get("method") or "")
    try:
        out = wmi_class.methods[method.lower()](host, instance, args)
    except SimulatedFailure as failure:
        return {"value": None, "error": {"message": str(failure), "hresult": failure.hresult, "native_error": failure.native_error,
                                         "return_value": None}}
    value = to_wire(_lookup(out, str(call.get("out") or "")), call.get("fields"))
    returned = int(out.get("ReturnValue") or 0)
    error = None if returned == 0 else {"message": f"{method} returned {returned}", "hresult": None, "native_error": None,
                                        "return_value": returned}
    return {"value": value, "error": error}


def cim_read(host: Host, op: dict[str, t.Any]) -> dict[str, t.Any]:
    """The agent's cim_read (Invoke-CimRead) against this host's WMI."""
    namespace, class_name = str(op.get("namespace") or ""), str(op.get("class") or "")
    calls = list(op.get("calls") or [])
    for call in calls:
        pair = f"{class_name}.{call.get('method')}"
        if pair.lower() not in _ALLOWED:
            return refusal("invalid_argument", "cim_method", None, pair)
    try:
        wmi_class, instances = get_instances(host, namespace, class_name)
    except SimulatedFailure as failure:
        return _cim_answer(failure, f"WMI {namespace} {class_name}")
    if not instances:
        return {"ok": True, "exists": False, "reason": f"no {class_name} instance", "native_error": None}
    if op.get("count_by") is not None:
        counts: dict[str, int] = {}
        for instance in instances:
            key = _ps_string(_lookup(instance, str(op["count_by"])))
            counts[key] = counts.get(key, 0) + 1
        return {"ok": True, "exists": True, "counts": counts}
    if op.get("newest_by") is not None:
        # Sort-Object puts instances without the property first; the last one is the newest.
        ranked = sorted(instances, key=lambda item: (_lookup(item, str(op["newest_by"])) is not None,
                                                     _lookup(item, str(op["newest_by"])) or 0))
        instances = ranked[-1:]
    answers = []
    for instance in instances:
        done: list[t.Any] = []
        for call in calls:
            args = dict(call.get("args") or {})
            each = call.get("each")
            if each is None:
                done.append(_call(host, wmi_class, instance, call, args))
                continue
            names = list(call.get("names") or [])
            if call.get("names_from") is not None:
                source = done[int(call["names_from"])]
                names = [name for name in source["value"] or [] if name is not None] if source["error"] is None else []
            listed = []
            for name in names:
                answer = _call(host, wmi_class, instance, call, {**args, str(each): str(name)})
                listed.append({**answer, "name": str(name)})
            done.append(listed)
        answers.append({"values": _fields(instance, op.get("select")), "calls": done})
    return {"ok": True, "exists": True, "instances": answers}
