"""WMI as a Windows host has it: namespaces of classes, each class with its instances (properties) and
methods; a method declares its parameters (name, CIM type, in/out) and answers its out parameters with
ReturnValue. A method that fails raises what Windows raises: a CimException (MSFT_WmiError.error_Code and
the MI result) from the provider, or, before any call, the ArgumentException Invoke-CimMethod throws for an
argument the method does not declare or cannot take (the agent reports it without hresult or native_error).
The instances are derived from the host's registry and facts on every read, as the providers derive them.

cim_read serves the agent's generic WMI operation from this model: only the (namespace, class) pairs of
CIM_CALLS are read and only their listed methods called (anything else is refused before any CIM call, as
the agent's $CimCalls does), the named properties, count_by and newest_by. rds-sim has no subclasses, so
Get-CimInstance -Shallow (the agent's) and a plain enumeration read the same here.

Faults: the class is looked up first (an unknown namespace or class, or a licensing class where the role is
not installed, is InvalidNamespace/InvalidClass, as Windows answers before any security check of a class
that does not exist); then wmi_denied (and the not_elevated fault: a UAC-filtered token) refuses, and
wmi_missing_class removes, the classes of the RDS providers (the TerminalServices namespace and the RD
Licensing classes). Win32_ComputerSystem stays
readable, as when the namespace security of those providers is what refuses. wmi_grace_no_days makes
GetGracePeriodDays answer through ReturnValue (1, or the number the fault holds) and leave DaysLeft unset.
Where Windows is uncertain the harsher case is modelled: an unactivated license server has no ID, so
GetLicenseServerID fails; FetchReportSummaryEntries answers LSERVER_I_NO_MORE_DATA (0x4001) whenever it
returns the last entry; arguments are taken only with the CIM type declared (a string for a uint32 fails).
"""

from __future__ import annotations

import datetime
import typing as t

from rds_sim import license_network
from rds_sim.host import LICENSING_NAMES, WMI_DENIED, Host, SimulatedFailure, _cim_answer, refusal

# What the agent's $CimCalls allows: "namespace:Class" and the methods it may call there; all of them only read.
CIM_CALLS: dict[str, tuple[str, ...]] = {
    "root/cimv2/TerminalServices:Win32_TerminalServiceSetting": (
        "GetGracePeriodDays", "GetSpecifiedLicenseServerList", "GetTStoLSConnectivityStatus", "FindLicenseServers"),
    "root/cimv2:Win32_ComputerSystem": (),
    "root/cimv2:Win32_TSLicenseKeyPack": (),
    "root/cimv2:Win32_TSLicenseServer": (
        "GetActivationStatus", "GetLicenseServerID", "IsLSinTSLSGroup", "IsLSonDC", "IsLSSecGrpGPEnabled", "IsSecureAccessAllowed"),
    "root/cimv2:Win32_TSIssuedLicense": (),
    "root/cimv2:Win32_TSLicenseReport": ("FetchReportSummaryEntries",),
}
# PowerShell's hashtable keys and -contains compare case-insensitively.
_ALLOWED = {key.lower(): {method.lower() for method in methods} for key, methods in CIM_CALLS.items()}
LSERVER_I_NO_MORE_DATA = 0x4001

Properties = dict[str, t.Any]
Run = t.Callable[[Host, Properties, dict[str, t.Any]], dict[str, t.Any]]


class Embedded(dict):  # type: ignore[type-arg]
    """An embedded CIM instance in a property or out parameter (the agent answers the fields asked for)."""


class Param(t.NamedTuple):
    name: str
    cim_type: str  # uint32, string, boolean, string[], instance[]
    direction: str  # in, out, inout


class WmiMethod(t.NamedTuple):
    params: tuple[Param, ...]
    run: Run


def method(run: Run, *params: tuple[str, str, str]) -> WmiMethod:
    return WmiMethod(tuple(Param(*param) for param in params), run)


class WmiClass(t.NamedTuple):
    instances: t.Callable[[Host], list[Properties]]
    methods: dict[str, WmiMethod]
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
    returned = host.faults.get("wmi_grace_no_days")
    if returned:  # answers through ReturnValue and leaves DaysLeft unset
        return {"ReturnValue": 1 if returned is True else int(returned)}
    return _ok(DaysLeft=host.grace_days_left())


def _connectivity(host: Host, _instance: Properties, args: dict[str, t.Any]) -> dict[str, t.Any]:
    if host.facts.get("ls_rpc_unavailable"):
        raise SimulatedFailure("wmi_error", "The RPC server is unavailable. ", "0x800706BA", "Failed")
    return _ok(TStoLSConnectivityStatus=license_network.connectivity_status(host, str(args.get("ServerName") or "")))


def _find_servers(host: Host, _instance: Properties, _args: dict[str, t.Any]) -> dict[str, t.Any]:
    found = []
    if host.facts.get("domain", {}).get("part_of_domain") and host.facts.get("ls_published", True):
        # Win32_TSDiscoveredLicenseServer's flags are uint32 0/1, not booleans.
        found = [Embedded(LicenseServer=license_network.PUBLISHED, IsLSAvailable=1, IsAdminOnLS=1, IssuingCALs=1)]
    return _ok(LicenseServersList=found, Count=len(found))


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


def _report_entries(_host: Host, instance: Properties, args: dict[str, t.Any]) -> dict[str, t.Any]:
    """Count entries from StartIndex (0: all the rest); Count comes back as the number returned, and the answer that
    returns the last entry is LSERVER_I_NO_MORE_DATA rather than 0 (the harsher reading of the reference page)."""
    entries = instance["_summary"]
    start, count = int(args.get("StartIndex") or 0), int(args.get("Count") or 0)
    chosen = entries[start:start + count] if count else entries[start:]
    returned = LSERVER_I_NO_MORE_DATA if start + len(chosen) >= len(entries) else 0
    return {"ReturnValue": returned, "Count": len(chosen),
            "ReportSummaryEntries": [Embedded(ProductVersion=entry["product_version"], TSCALType=entry["cal_type"],
                                              InstalledLicenses=entry["installed"], IssuedLicenses=entry["issued"])
                                     for entry in chosen]}


def _allowed(host: Host, _instance: Properties, args: dict[str, t.Any]) -> dict[str, t.Any]:
    return _ok(Allowed=str(args.get("tsname") or "").strip().lower().split(".")[0] not in (_checks(host).get("denied_hosts") or []))


# Each method with its parameters as Microsoft Learn's reference pages declare them (name, CIM type, direction).
REPOSITORY: dict[str, dict[str, WmiClass]] = {
    "root/cimv2/terminalservices": {
        "win32_terminalservicesetting": WmiClass(_ts_setting, {
            "getgraceperioddays": method(_grace_days, ("DaysLeft", "uint32", "out")),
            "getspecifiedlicenseserverlist": method(lambda host, _i, _a: _ok(SpecifiedLSList=host.effective_servers()[0]),
                                                    ("SpecifiedLSList", "string[]", "out")),
            "gettstolsconnectivitystatus": method(_connectivity, ("ServerName", "string", "in"),
                                                  ("TStoLSConnectivityStatus", "uint32", "out")),
            "findlicenseservers": method(_find_servers, ("LicenseServersList", "instance[]", "out"), ("Count", "uint32", "out")),
        }),
    },
    "root/cimv2": {
        "win32_computersystem": WmiClass(_computer, {}, provider=False),
        "win32_tslicenseserver": WmiClass(_license_server, {
            "getactivationstatus": method(lambda host, _i, _a: _ok(ActivationStatus=_server(host)["activation_status"]),
                                          ("ActivationStatus", "uint32", "out")),
            "getlicenseserverid": method(_server_id, ("sLicenseServerId", "string", "out")),
            "islsintslsgroup": method(lambda host, _i, _a: _ok(IsMember=_checks(host).get("in_tsls_group", True)),
                                      ("Domain", "string", "in"), ("IsMember", "boolean", "out")),
            "islsondc": method(lambda host, _i, _a: _ok(OnDC=_checks(host).get("on_dc", False)), ("OnDC", "boolean", "out")),
            "islssecgrpgpenabled": method(lambda host, _i, _a: _ok(Enabled=_checks(host).get("security_group_policy", False)),
                                          ("Enabled", "boolean", "out")),
            "issecureaccessallowed": method(_allowed, ("tsname", "string", "in"), ("Allowed", "boolean", "out")),
        }),
        "win32_tslicensekeypack": WmiClass(_key_packs, {}),
        "win32_tsissuedlicense": WmiClass(_issued, {}),
        "win32_tslicensereport": WmiClass(_reports, {"fetchreportsummaryentries": method(
            _report_entries, ("StartIndex", "uint32", "in"), ("Count", "uint32", "inout"),
            ("ReportSummaryEntries", "instance[]", "out"))}),
    },
}
_LICENSING_CLASSES = ("win32_tslicenseserver", "win32_tslicensekeypack", "win32_tsissuedlicense", "win32_tslicensereport")


def get_instances(host: Host, namespace: str, class_name: str) -> tuple[WmiClass, list[Properties]]:
    """Get-CimInstance: the class and its instances, or the CimException Windows raises."""
    classes = REPOSITORY.get(namespace.replace("\\", "/").lower())
    if classes is None:
        raise SimulatedFailure("wmi_error", "Invalid namespace ", "0x8004100E", "InvalidNamespace")
    wmi_class = classes.get(class_name.lower())
    # The class is looked up first: only a class that exists has a provider whose security can refuse.
    if wmi_class is None or (wmi_class.provider and host.faults.get("wmi_missing_class")) or \
            (class_name.lower() in _LICENSING_CLASSES and not host.facts.get("license_server")):
        raise SimulatedFailure("wmi_error", f"Invalid class \"{class_name}\"", "0x80041010", "InvalidClass")
    # wmi_denied, or a UAC-filtered token: the RDS providers' classes answer Administrators only (for the filtered
    # token the harsher reading: the namespace security a standard user gets is not documented).
    if wmi_class.provider and (host.faults.get("wmi_denied") or host.not_elevated()):
        raise WMI_DENIED
    return wmi_class, wmi_class.instances(host)


def terminal_service_state(host: Host) -> dict[str, t.Any]:
    """Win32_TerminalServiceSetting as this model answers it, for the state dump: the instance's properties and the out
    parameters of its methods that take no argument (or the CIM error each raises), or the error of the read itself."""
    try:
        wmi_class, instances = get_instances(host, "root/cimv2/TerminalServices", "Win32_TerminalServiceSetting")
    except SimulatedFailure as failure:
        return {"error": failure.error(None)}
    state = _plain(instances[0])
    names = {name.lower(): name for name in CIM_CALLS["root/cimv2/TerminalServices:Win32_TerminalServiceSetting"]}
    for key, declared in wmi_class.methods.items():
        if all(param.direction == "out" for param in declared.params):
            try:
                state[names[key]] = _plain(declared.run(host, instances[0], {}))
            except SimulatedFailure as failure:
                state[names[key]] = {"error": failure.error(None)}
    return state


def _plain(value: t.Any) -> t.Any:
    """A model value as JSON holds it, embedded instances whole."""
    if isinstance(value, dict):
        return {str(name): _plain(item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return _dotnet_round_trip(value) if isinstance(value, datetime.datetime) else value


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


_CIM_TYPES: dict[str, t.Callable[[t.Any], bool]] = {
    "uint32": lambda value: isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0xFFFFFFFF,
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
}


def _arguments(declared: WmiMethod, name: str, class_name: str, args: dict[str, t.Any]) -> dict[str, t.Any]:
    """The arguments as the provider sees them, or the ArgumentException Invoke-CimMethod throws before calling it: an
    argument the method does not declare (CIM names compare case-insensitively), or a value its CIM type cannot take."""
    taken = {}
    for given, value in args.items():
        param = next((param for param in declared.params if param.name.lower() == str(given).lower()), None)
        if param is None:
            raise SimulatedFailure("invalid_argument", f"Can not find Parameter '{given}' in method '{name}' of class '{class_name}'.")
        check = _CIM_TYPES.get(param.cim_type)
        if value is not None and check is not None and not check(value):
            raise SimulatedFailure("invalid_argument", f"Cannot convert value \"{value}\" to type {param.cim_type} "
                                                       f"(parameter '{param.name}' of method '{name}').")
        taken[param.name] = value
    return taken


def _call(host: Host, wmi_class: WmiClass, class_name: str, instance: Properties, call: dict[str, t.Any],
          args: dict[str, t.Any]) -> dict[str, t.Any]:
    method_name = str(call.get("method") or "")
    declared = wmi_class.methods[method_name.lower()]
    try:
        out = declared.run(host, instance, _arguments(declared, method_name, class_name, args))
    except SimulatedFailure as failure:
        return {"value": None, "error": {"message": str(failure), "hresult": failure.hresult, "native_error": failure.native_error,
                                         "return_value": None}}
    value = to_wire(_lookup(out, str(call.get("out") or "")), call.get("fields"))
    returned = int(out.get("ReturnValue") or 0)
    error = None if returned == 0 else {"message": f"{method_name} returned {returned}", "hresult": None, "native_error": None,
                                        "return_value": returned}
    return {"value": value, "error": error}


def cim_read(host: Host, op: dict[str, t.Any]) -> dict[str, t.Any]:
    """The agent's cim_read (Invoke-CimRead) against this host's WMI."""
    namespace, class_name = str(op.get("namespace") or ""), str(op.get("class") or "")
    target = f"{namespace.replace(chr(92), '/')}:{class_name}"
    allowed = _ALLOWED.get(target.lower())
    if allowed is None:
        return refusal("invalid_argument", "cim_class", None, target)
    calls = list(op.get("calls") or [])
    for call in calls:
        method_name = call.get("method")
        if str(method_name).lower() not in allowed:
            return refusal("invalid_argument", "cim_method", None, f"{target}.{'' if method_name is None else method_name}")
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
                done.append(_call(host, wmi_class, class_name, instance, call, args))
                continue
            names = list(call.get("names") or [])
            if call.get("names_from") is not None:
                source = done[int(call["names_from"])]
                names = [name for name in source["value"] or [] if name is not None] if source["error"] is None else []
            listed = []
            for name in names:
                answer = _call(host, wmi_class, class_name, instance, call, {**args, str(each): str(name)})
                listed.append({**answer, "name": str(name)})
            done.append(listed)
        answers.append({"values": _fields(instance, op.get("select")), "calls": done})
    return {"ok": True, "exists": True, "instances": answers}
