# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The licensing report of one host: which agent operations a set of subsets needs, and how their
answers become the documented ``licensing`` result of licensing_info.
"""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing as lic
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing_state as state_reader
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _registry as reg
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _wmi_reads

SUBSETS = ("mode", "license_servers", "grace", "os", "role", "services", "domain", "client_cache")
SERVICES = ("TermService", "UmRdpService", "SessionEnv", "TermServLicensing")

# What each subset reads; shared operations are sent once.
_READS: dict[str, tuple[tuple[str, str, int], ...]] = {
    "mode": (("policy", lic.POLICY_KEY, 64), ("licensing_core", lic.LICENSING_CORE_KEY, 64)),
    "license_servers": (("policy", lic.POLICY_KEY, 64), ("license_servers", lic.LICENSE_SERVERS_KEY, 64)),
    "grace": (),
    "os": (("current_version", lic.CURRENT_VERSION_KEY, 64),),
    "role": (("rdsh_component", lic.RDSH_COMPONENT_KEY, 64),),
    "services": tuple((f"service_{name}", f"SYSTEM\\CurrentControlSet\\Services\\{name}", 64) for name in SERVICES),
    "domain": (),
    "client_cache": tuple(
        (f"mslicensing{suffix}_{view}", lic.MSLICENSING_KEY + suffix_path, view)
        for view in (64, 32)
        for suffix, suffix_path in (("", ""), ("_store", "\\Store"), ("_hwid", "\\HardwareID"))
    ),
}
_NEEDS_WMI = ("mode", "license_servers", "grace", "role")


class SubsetError(ValueError):
    pass


def resolve_subsets(requested: list[str]) -> list[str]:
    """Expand ``all`` and ``!name`` entries (as setup's gather_subset does) into subset names."""
    chosen: set[str] = set()
    excluded: set[str] = set()
    for raw in requested:
        entry = str(raw).strip()
        negate = entry.startswith("!")
        name = entry[1:] if negate else entry
        if name != "all" and name not in SUBSETS:
            raise SubsetError(
                f"Unknown gather_subset entry '{entry}'. Valid entries are all, {', '.join(SUBSETS)}, "
                "each optionally prefixed with ! to exclude it."
            )
        names = set(SUBSETS) if name == "all" else {name}
        (excluded if negate else chosen).update(names)
    if not chosen:
        chosen = set(SUBSETS)
    return [name for name in SUBSETS if name in chosen and name not in excluded]


def plan_operations(subsets: list[str]) -> list[dict[str, t.Any]]:
    """The agent operations for these subsets, each once."""
    ops: dict[str, dict[str, t.Any]] = {}
    for subset in subsets:
        for op_id, path, view in _READS[subset]:
            ops.setdefault(op_id, {"id": op_id, "op": "read_key", "path": path, "view": view})
    if any(subset in _NEEDS_WMI for subset in subsets):
        ops["wmi"] = _wmi_reads.terminal_service("wmi")
    if "services" in subsets:
        ops["services"] = {"id": "services", "op": "service_status", "names": list(SERVICES)}
    if "domain" in subsets:
        ops["domain"] = _wmi_reads.computer_system("domain")
    return list(ops.values())


class _Answers:
    """Lookup over the agent's per-operation results."""

    def __init__(self, results: dict[str, dict[str, t.Any]], failure: t.Callable[[dict[str, t.Any], str], Exception]):
        self._results = results
        self._failure = failure

    def op(self, op_id: str, what: str, shape: t.Callable[[dict[str, t.Any]], dict[str, t.Any]] | None = None) -> dict[str, t.Any]:
        """One operation's answer (shape: how a cim_read answer becomes the block the report reads); fails when it failed."""
        result = self._results.get(op_id)
        if result is not None and shape is not None:
            result = shape(result)
        if result is None:
            raise self._failure({"kind": "internal", "message": f"the agent did not answer operation {op_id}"}, what)
        if not result.get("ok"):
            raise self._failure(result.get("error") or {}, what)
        return result

    def value(self, op_id: str, path: str, name: str, view: int = 64) -> tuple[str, t.Any] | None:
        result = self.op(op_id, reg.display_path(path, view))
        for entry in result.get("values") or []:
            if entry["name"].lower() == name.lower():
                return reg.from_wire(entry)
        return None

    def typed(self, op_id: str, path: str, name: str, wanted: tuple[str, ...]) -> t.Any:
        """The data of a value when it has one of the expected types (a wrong type counts as unset)."""
        value = self.value(op_id, path, name)
        if value is None or value[0] not in wanted:
            return None
        return value[1]


def _mode(answers: _Answers, wmi: dict[str, t.Any] | None) -> dict[str, t.Any]:
    result = state_reader.mode_block(answers.value("policy", lic.POLICY_KEY, lic.LICENSING_MODE_VALUE),
                                     answers.value("licensing_core", lic.LICENSING_CORE_KEY, lic.LICENSING_MODE_VALUE))
    result.update(wmi_licensing_type=None, wmi_licensing_name=None, wmi_policy_source=None)
    if wmi and wmi.get("exists"):
        result["wmi_licensing_type"] = wmi["licensing_type"]
        result["wmi_licensing_name"] = wmi["licensing_name"]
        result["wmi_policy_source"] = "policy" if wmi["policy_source_licensing_type"] == 1 else "local"
    return result


def _license_servers(answers: _Answers, wmi: dict[str, t.Any] | None) -> dict[str, t.Any]:
    result = state_reader.servers_block(answers.value("policy", lic.POLICY_KEY, lic.POLICY_SERVERS_VALUE),
                                        answers.value("license_servers", lic.LICENSE_SERVERS_KEY, lic.LOCAL_SERVERS_VALUE))
    result.update(wmi=None, wmi_policy_source=None)
    if wmi and wmi.get("exists"):
        result["wmi"] = wmi.get("specified_license_servers")
        result["wmi_policy_source"] = "policy" if wmi["policy_source_configured_license_servers"] == 1 else "local"
    return result


def _os(answers: _Answers) -> dict[str, t.Any]:
    def text(name: str) -> str | None:
        return answers.typed("current_version", lic.CURRENT_VERSION_KEY, name, ("string", "expandstring"))

    build_text = text("CurrentBuild") or text("CurrentBuildNumber")
    build = int(build_text) if build_text and build_text.isdigit() else None
    ubr = answers.typed("current_version", lic.CURRENT_VERSION_KEY, "UBR", ("dword",))
    installation_type = text("InstallationType")
    product_name = text("ProductName")
    return {
        "product_name": product_name,
        "edition": text("EditionID"),
        "installation_type": installation_type,
        "build": build,
        "ubr": ubr,
        "display_version": text("DisplayVersion") or text("ReleaseId"),
        "version": _version_string(answers, text("CurrentVersion"), build, ubr),
        "server_version": lic.server_version_name(build, installation_type, product_name),
    }


def _version_string(answers: _Answers, current_version: str | None, build: int | None, ubr: int | None) -> str | None:
    """10.0.20348.2849 style; 2012 R2 has no major/minor DWORDs and reports CurrentVersion 6.3."""
    major = answers.typed("current_version", lic.CURRENT_VERSION_KEY, "CurrentMajorVersionNumber", ("dword",))
    minor = answers.typed("current_version", lic.CURRENT_VERSION_KEY, "CurrentMinorVersionNumber", ("dword",))
    prefix = f"{major}.{minor}" if major is not None and minor is not None else current_version
    parts = [part for part in (prefix, build, ubr) if part is not None]
    return ".".join(str(part) for part in parts) or None


def _role(answers: _Answers, wmi: dict[str, t.Any] | None) -> dict[str, t.Any]:
    install_state = answers.typed("rdsh_component", lic.RDSH_COMPONENT_KEY, "InstallState", ("dword",))
    terminal_server_mode = wmi.get("terminal_server_mode") if wmi and wmi.get("exists") else None
    # TerminalServerMode 1 (AppServer) is what lsdiag trusts; the Server Manager cache says the same on servers.
    installed = terminal_server_mode == 1 if terminal_server_mode is not None else install_state == 1
    return {"rdsh_installed": installed, "terminal_server_mode": terminal_server_mode, "install_state": install_state}


def _grace(wmi: dict[str, t.Any] | None, rdsh: bool, warning_days: int) -> dict[str, t.Any]:
    days_left = error = hresult = None
    if not wmi or not wmi.get("exists"):
        error = (wmi or {}).get("reason") or "Win32_TerminalServiceSetting is not available"
    else:
        days_left = wmi.get("grace_days_left")
        if wmi.get("grace_error"):
            error = wmi["grace_error"].get("message")
            hresult = wmi["grace_error"].get("hresult")
    return {
        "days_left": days_left,
        "state": lic.grace_state(days_left, error, rdsh, warning_days),
        "warning_days": warning_days,
        "expiring_days": warning_days,  # the earlier name of warning_days, kept so nothing breaks
        "error": error if rdsh else None,
        "hresult": hresult if rdsh else None,
    }


def _services(answers: _Answers) -> dict[str, t.Any]:
    status = answers.op("services", "service status")["services"]
    services = {}
    for name in SERVICES:
        start = answers.typed(f"service_{name}", f"SYSTEM\\CurrentControlSet\\Services\\{name}", "Start", ("dword",))
        entry = status.get(name) or {}
        services[name] = {
            "exists": bool(entry.get("exists")),
            "state": (entry.get("status") or "").lower() or None,
            "start_mode": lic.SERVICE_START_MODES.get(start) if start is not None else None,
        }
    return services


def _domain(answers: _Answers) -> dict[str, t.Any]:
    system = answers.op("domain", "Win32_ComputerSystem", _wmi_reads.computer_system_answer)
    return {
        "member": system["part_of_domain"],
        "name": system["domain"] if system["part_of_domain"] else None,
        "workgroup": None if system["part_of_domain"] else system["domain"],
        "role": system["domain_role"],
        "computer_name": system["name"],
    }


def _client_cache(answers: _Answers) -> dict[str, t.Any]:
    views = {}
    for view in (64, 32):
        key = answers.op(f"mslicensing_{view}", reg.display_path(lic.MSLICENSING_KEY, view))
        store = answers.op(f"mslicensing_store_{view}", reg.display_path(lic.MSLICENSING_KEY + "\\Store", view))
        hwid = answers.op(f"mslicensing_hwid_{view}", reg.display_path(lic.MSLICENSING_KEY + "\\HardwareID", view))
        views[str(view)] = {
            "present": bool(key.get("exists")),
            "hardware_id": bool(hwid.get("exists")) and bool(hwid.get("values")),
            "store_entries": len(store.get("subkeys") or []) if store.get("exists") else 0,
        }
    return {
        "present": any(item["present"] for item in views.values()),
        "store_entries": sum(item["store_entries"] for item in views.values()),
        "views": views,
    }


def _shown(block: dict[str, t.Any], which: str) -> str:
    """A mode as "per_device (2)", a server list as "ls01, ls02": words, not Python reprs."""
    value = block[which]
    if isinstance(value, list):
        return ", ".join(value) or "(none)"
    name = block.get(f"{which}_name")
    return f"{name} ({value})" if name else str(value)


def _warnings(report: dict[str, t.Any]) -> list[str]:
    """What an administrator must know, in plain words."""
    notes: list[str] = []
    rdsh = report.get("role", {}).get("rdsh_installed", True)
    mode = report.get("mode")
    servers = report.get("license_servers")
    grace = report.get("grace_period")
    if mode and rdsh and mode["effective"] not in lic.LICENSED_MODES:
        notes.append("The licensing mode is not configured (event 1068); set Per User or Per Device.")
    for label, block in (("licensing mode", mode), ("license server list", servers)):
        if block and block["source"] == "policy" and block["local"] is not None and block["local"] != block["policy"]:
            notes.append(
                f"Group Policy sets the {label} ({_shown(block, 'policy')}) and overrides the local value "
                f"({_shown(block, 'local')}); change the GPO, not the local value."
            )
    if servers is not None and state_reader.type_warning(servers):
        notes.append(state_reader.type_warning(servers))
    if servers is not None and rdsh and not servers["effective"]:
        notes.append("No license server is specified (event 1130); clients will not get CALs once the grace period ends.")
    if grace and grace["state"] == "expiring":
        notes.append(f"The licensing grace period ends in {grace['days_left']} day(s).")
    if grace and grace["state"] == "expired" and mode and mode["effective"] not in lic.LICENSED_MODES:
        notes.append("The grace period is over and licensing is not configured: new connections will be refused.")
    if grace and grace["state"] == "unknown":
        notes.append(f"The grace period could not be read: {grace['error']}.")
    termservice = report.get("services", {}).get("TermService")
    if termservice and rdsh and termservice["state"] != "running":
        notes.append(f"TermService (Remote Desktop Services) is {termservice['state'] or 'missing'}.")
    return notes


def _wmi_setting(answers: _Answers, results: dict[str, dict[str, t.Any]]) -> dict[str, t.Any] | None:
    """Win32_TerminalServiceSetting's answer. Refused to a non-elevated agent, it is reported as unavailable (the
    report then comes from the registry, which such a token may read; the grace period is unknown) instead of failing
    the read; refused to an elevated one, it fails with the namespace's remedy."""
    if "wmi" not in results:
        return None
    error = (results["wmi"] or {}).get("error") or {}
    if not results["wmi"].get("ok") and error.get("kind") == "access_denied" and error.get("not_elevated"):
        return {"ok": True, "exists": False, "refused": True,
                "reason": "Win32_TerminalServiceSetting refused access to the non-elevated agent (agent.elevated is false)"}
    return answers.op("wmi", "WMI root\\cimv2\\TerminalServices Win32_TerminalServiceSetting", _wmi_reads.terminal_service_answer)


def build_report(
    subsets: list[str],
    results: dict[str, dict[str, t.Any]],
    failure: t.Callable[[dict[str, t.Any], str], Exception],
    warning_days: int,
) -> dict[str, t.Any]:
    """The ``licensing`` result from the agent's answers."""
    answers = _Answers(results, failure)
    wmi = _wmi_setting(answers, results)
    report: dict[str, t.Any] = {"gather_subset": subsets}
    if "mode" in subsets:
        report["mode"] = _mode(answers, wmi)
    if "license_servers" in subsets:
        report["license_servers"] = _license_servers(answers, wmi)
    if "os" in subsets:
        report["os"] = _os(answers)
    if "role" in subsets or "grace" in subsets:
        role = _role(answers, wmi) if "rdsh_component" in results else {
            "rdsh_installed": bool(wmi and wmi.get("exists") and wmi.get("terminal_server_mode") == 1)}
        if "role" in subsets:
            report["role"] = role
        if "grace" in subsets:
            # Refused WMI hides the role too: the grace period is then unknown, never "not applicable".
            refused = bool(wmi and wmi.get("refused"))
            report["grace_period"] = _grace(wmi, role["rdsh_installed"] or refused, warning_days)
    if "services" in subsets:
        report["services"] = _services(answers)
    if "domain" in subsets:
        report["domain"] = _domain(answers)
    if "client_cache" in subsets:
        report["client_cache"] = _client_cache(answers)
    report["warnings"] = _warnings(report)
    return report
