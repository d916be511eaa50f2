"""A large fleet's saved licensing_report results, generated on disk without any host: the per-host
files (report_dir/hosts/<host>.json, shaped as licensing_info returns them) for the fleet report's
scale test and benchmark. The run manifest is not written here: the collection's own code writes it."""

from __future__ import annotations

import copy
import json
import os
import random
import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _paths

MODES = {2: ("per_device", "Per device"), 4: ("per_user", "Per user"), 5: ("not_configured", "Not configured")}
SERVICE = {"exists": True, "start_mode": "manual", "state": "running"}


def licensing_result(mode: int, servers: list[str], days: int | None, state: str, session_host: bool = True) -> dict[str, t.Any]:
    """One licensing_info task result as licensing_report saves it (all gather subsets)."""
    name, wmi_name = MODES[mode]
    return {
        "agent": {"elevated": True, "ps_version": "5.1.20348.2849", "user": "HOST\\ansible"},
        "changed": False, "failed": False,
        "licensing": {
            "client_cache": {"present": False, "store_entries": 0,
                             "views": {view: {"hardware_id": False, "present": False, "store_entries": 0} for view in ("32", "64")}},
            "domain": {"computer_name": "HOST", "member": True, "name": "example.test", "role": 3, "workgroup": None},
            "gather_subset": ["mode", "license_servers", "grace", "os", "role", "services", "domain", "client_cache"],
            "grace_period": {"days_left": days, "error": None, "expiring_days": 30, "hresult": None, "state": state,
                             "warning_days": 30},
            "license_servers": {"effective": servers, "local": servers or None, "local_type": "multistring" if servers else None,
                                "policy": None, "source": "local" if servers else "unset", "wmi": servers,
                                "wmi_policy_source": "local"},
            "mode": {"effective": mode, "effective_name": name, "local": mode, "local_name": name, "policy": None,
                     "policy_name": None, "source": "local", "wmi_licensing_name": wmi_name, "wmi_licensing_type": mode,
                     "wmi_policy_source": "local"},
            "os": {"build": 20348, "display_version": "21H2", "edition": "ServerDatacenter", "installation_type": "Server",
                   "product_name": "Windows Server 2022 Datacenter", "server_version": "Windows Server 2022", "ubr": 2849,
                   "version": "10.0.20348.2849"},
            "role": {"install_state": 1 if session_host else None, "rdsh_installed": session_host,
                     "terminal_server_mode": 1 if session_host else 0},
            "services": {name: dict(SERVICE) for name in ("SessionEnv", "TermService", "UmRdpService")},
            "warnings": [] if mode != 5 else ["The licensing mode is not configured (event 1068); set Per User or Per Device."],
        },
    }


def fleet_result(index: int, rng: random.Random) -> dict[str, t.Any]:
    """A fleet as it looks in practice: most hosts licensed, some in grace, a few down, failed or not Session Hosts."""
    roll = rng.random()
    if roll < 0.02:
        return {"changed": False, "unreachable": True, "msg": f"Task failed: basic: connection refused (host {index})"}
    if roll < 0.03:
        return {"changed": False, "failed": True, "msg": "Access is denied."}
    if roll < 0.05:
        return licensing_result(5, [], None, "not_applicable", session_host=False)
    if roll < 0.65:
        return licensing_result(rng.choice((2, 4)), ["ls01.example.test"], rng.randint(1, 120), "active")
    if roll < 0.70:
        return licensing_result(4, ["ls01.example.test"], 0, "expired")  # configured, grace over: not verified
    days = rng.randint(-5, 120)
    state = "expired" if days <= 0 else "expiring" if days <= 30 else "active"
    return licensing_result(5, [], max(days, 0), state)


def host_names(count: int) -> list[str]:
    return [f"rdsh-{index:05d}" for index in range(1, count + 1)]


def write_fleet(report_dir: str, hosts: t.Sequence[str], run_id: str, read_at: str = "2026-11-28T10:00:00Z",
                seed: int = 16) -> dict[str, dict[str, t.Any]]:
    """Write one saved result per host under report_dir/hosts; returns {host: result} as written."""
    directory = os.path.join(report_dir, "hosts")
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(seed)
    written = {}
    for index, host in enumerate(hosts):
        result = {**copy.deepcopy(fleet_result(index, rng)), "run_id": run_id, "saved_at": read_at}
        if "licensing" in result:
            result["read_at"] = read_at
        with open(os.path.join(directory, f"{_paths.host_file_name(host)}.json"), "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=2, sort_keys=True)
        written[host] = result
    return written
