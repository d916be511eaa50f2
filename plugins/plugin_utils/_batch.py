# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

What the roles and playbooks publish once per batch, from every host's registered result: the
compact record per host (set_stats, result files), one line per host and a fleet line for the
play's output. One controller step per batch instead of several tasks per host.
"""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _drift


def _status(result: dict[str, t.Any]) -> str:
    if result.get("unreachable"):
        return "unreachable"
    return "failed" if result.get("failed") else "ok"


def _error(result: dict[str, t.Any]) -> str | None:
    return None if _status(result) == "ok" else str(result.get("msg") or "the task failed")


def _known(result: dict[str, t.Any], value: t.Any) -> t.Any:
    """value for a host that was read; None (unknown) for one that failed or was unreachable, so that nothing it
    could not tell reads as a definite false, 0 or empty list."""
    return value if _status(result) == "ok" else None


def _stated(result: dict[str, t.Any], key: str) -> t.Any:
    """A flag of a write: a read host's as a bool; what a failed module result states (the modules report a write
    whose answer was lost as changed=true with what they found); None for a failure that does not state it, and for
    an unreachable host, whose changed=false ansible-core fills in without knowing what happened on the host."""
    status = _status(result)
    if status == "ok":
        # restarted is null (stated unknown) after a lost answer whose writes were found on the host.
        return None if key in result and result[key] is None else bool(result.get(key))
    return None if status == "unreachable" or key not in result else bool(result[key])


def drift_check(host: str, result: dict[str, t.Any], options: dict[str, t.Any]) -> tuple[dict[str, t.Any], str]:
    record = {"host": host, "status": _status(result), "drift": _known(result, result.get("drift") or []),
              "drifted": _known(result, bool(result.get("drifted"))), "policy_controlled": result.get("policy_controlled"),
              "read_at": result.get("read_at"), "error": _error(result)}
    line = result.get("summary") or f"{host}: {record['status']}, not checked ({record['error']})"
    return record, line


def grace_report(host: str, result: dict[str, t.Any], options: dict[str, t.Any]) -> tuple[dict[str, t.Any], str]:
    licensing = result.get("licensing") or {}
    grace = licensing.get("grace_period") or {}
    status = _status(result)
    klass = _drift.grace_class(licensing, options["warning_days"], options["critical_days"]) if status == "ok" else None
    record = {"host": host, "status": status, "class": klass, "class_meaning": _drift.GRACE_MEANINGS.get(klass or ""),
              "days_left": grace.get("days_left"), "state": grace.get("state"),
              "licensing_configured": _known(result, _drift.licensing_configured(licensing)),
              "mode": (licensing.get("mode") or {}).get("effective_name"),
              "mode_source": (licensing.get("mode") or {}).get("source"),
              "license_servers": _known(result, (licensing.get("license_servers") or {}).get("effective") or []),
              "os": (licensing.get("os") or {}).get("server_version"), "warnings": licensing.get("warnings") or [],
              "read_at": result.get("read_at"), "error": _error(result)}
    if status != "ok":
        return record, f"{host}: {status}, not read ({record['error']})"
    if klass == "not_applicable":
        return record, f"{host}: NOT_APPLICABLE, not an RD Session Host (no grace period), mode {record['mode']}"
    days = "?" if record["days_left"] is None else record["days_left"]
    return record, (f"{host}: {klass.upper()} {days} grace day(s) left, mode {record['mode']}, license servers "
                    f"{_drift.text(record['license_servers'])}{'; ' + str(len(record['warnings'])) + ' warning(s)' if record['warnings'] else ''}")


def license_server_report(host: str, result: dict[str, t.Any], options: dict[str, t.Any]) -> tuple[dict[str, t.Any], str]:
    server = result.get("license_server") or {}
    record = {"host": host, "status": _status(result), "is_license_server": server.get("is_license_server"),
              "activation": (server.get("activation") or {}).get("name"), "capacity": _known(result, server.get("capacity") or []),
              "issued_licenses": _known(result, server.get("issued_licenses") or {}), "warnings": server.get("warnings") or [],
              "error": _error(result)}
    if record["status"] != "ok":
        return record, f"{host}: {record['status']}, not read ({record['error']})"
    if not record["is_license_server"]:
        return record, f"{host}: not an RD License Server"
    free = sum(int(group.get("available") or 0) for group in record["capacity"])
    return record, (f"{host}: license server, activation {record['activation']}, {free} CAL(s) available, "
                    f"{int(record['issued_licenses'].get('temporary') or 0)} temporary license(s) issued"
                    f"{'; ' + str(len(record['warnings'])) + ' warning(s)' if record['warnings'] else ''}")


def licensing_report(host: str, result: dict[str, t.Any], options: dict[str, t.Any]) -> tuple[dict[str, t.Any], str]:
    licensing = result.get("licensing") or {}
    grace = licensing.get("grace_period") or {}
    record = {"status": _status(result), "mode": (licensing.get("mode") or {}).get("effective_name"),
              "grace_days_left": grace.get("days_left"), "grace_state": grace.get("state"),
              "read_at": result.get("read_at")}
    if record["status"] != "ok":
        return record, f"{host}: {record['status']} ({_error(result)})"
    return record, f"{host}: read, mode {record['mode']}, {'?' if record['grace_days_left'] is None else record['grace_days_left']} grace day(s)"


def _change_line(host: str, result: dict[str, t.Any], done: str, reboot: bool = False) -> str:
    status = _status(result)
    if status != "ok":
        # A write whose answer was lost reports changed with its failure: the message says what the host holds.
        return f"{host}: {status.upper()}{' (possibly changed)' if result.get('changed') else ''}: {_error(result)}"
    parts = [done if result.get("changed") else "no change"]
    if result.get("changed") and result.get("policy_overrides"):
        # licensing_mode asks for a restart (or makes one) only when the licensing in use changes.
        in_use = result.get("restarted") or result.get("rebooted") or result.get("restart_required")
        parts.append("Group Policy overrides part of it" if in_use else
                     "Group Policy overrides it, so it has no effect while the policy is set")
    if result.get("restarted"):
        parts.append("TermService restarted")
    elif result.get("rebooted"):
        parts.append("host rebooted")
    elif result.get("restart_required") and reboot:
        parts.append("not rebooted: reboot the host (or restart TermService) for the change to take effect")
    elif result.get("restart_required"):
        parts.append("restart TermService (or reboot) in a maintenance window for the change to take effect")
    if result.get("backup_file"):
        parts.append(f"backup {result['backup_file']}")
    return f"{host}: {'; '.join(parts)}"


def configure_licensing(host: str, result: dict[str, t.Any], options: dict[str, t.Any]) -> tuple[dict[str, t.Any], str]:
    record = {"host": host, "status": _status(result), "error": _error(result),
              "changed": _stated(result, "changed"), "before": result.get("before"), "after": result.get("after"),
              "restart_required": _stated(result, "restart_required"), "restarted": _stated(result, "restarted"),
              "rebooted": _stated(result, "rebooted"), "policy_conflicts": _known(result, result.get("policy_conflicts") or []),
              "backup_file": result.get("backup_file"),
              "warnings": result.get("warnings") or []}
    return record, _change_line(host, result, "licensing changed", options.get("restart_strategy") == "reboot")


def mslicensing_reset(host: str, result: dict[str, t.Any], options: dict[str, t.Any]) -> tuple[dict[str, t.Any], str]:
    removed = result.get("removed") or {}
    record = {"host": host, "status": _status(result), "error": _error(result), "changed": _stated(result, "changed"),
              "removed": _known(result, removed) if "removed" not in result else removed,
              "recreated": result.get("recreated"), "backup_file": result.get("backup_file")}
    entries = sum(int((view or {}).get("store_entries") or 0) for view in removed.values())
    return record, _change_line(host, result, f"client license cache cleared ({entries} stored license(s))")


def grace_reset(host: str, result: dict[str, t.Any], options: dict[str, t.Any]) -> tuple[dict[str, t.Any], str]:
    record = {"host": host, "status": _status(result), "error": _error(result), "changed": _stated(result, "changed"),
              "deleted": result.get("deleted"),
              "restart_required": _stated(result, "restart_required"), "restarted": _stated(result, "restarted"),
              "backup_file": result.get("backup_file")}
    return record, _change_line(host, result, "grace period reset")


def _failed(result: dict[str, t.Any]) -> bool:
    return bool(result.get("unreachable") or result.get("failed"))


def diagnose(host: str, result: dict[str, t.Any], options: dict[str, t.Any]) -> tuple[dict[str, t.Any], str]:
    """result holds the host's two registered results: session_host (the diagnosis) and license_server (its view);
    the one that does not apply to the host is a skipped result."""
    session = result.get("session_host") or {"skipped": True}
    server = result.get("license_server") or {"skipped": True}
    is_session_host = not session.get("skipped")
    # A host that cannot be read is unknown, not dropped from the diagnosis.
    state = ("unknown" if _failed(session) or _failed(server) else
             (session.get("diagnosis") or {}).get("state") if is_session_host else "license_server")
    diagnosis = session.get("diagnosis") if is_session_host else None
    # Not read: no finding list at all (None), never an empty one that reads as "nothing wrong".
    record = {"host": host, "role": "session_host" if is_session_host else "license_server", "state": state,
              "error": session.get("msg") if is_session_host and _failed(session) else
              server.get("msg") if _failed(server) else None,
              "finding_ids": None if state == "unknown" and diagnosis is None else
              [finding.get("id") for finding in (diagnosis or {}).get("findings") or []],
              "read_at": (session if is_session_host else server).get("read_at"),
              "diagnosis": diagnosis, "license_server_view": server.get("license_server_view")}
    return record, (f"{host}: {state}" + (f": {', '.join(record['finding_ids'])}" if record["finding_ids"] else "")
                    + (f" ({record['error']})" if record["error"] else ""))


KINDS: dict[str, t.Callable[[str, dict[str, t.Any], dict[str, t.Any]], tuple[dict[str, t.Any], str]]] = {
    "drift_check": drift_check, "grace_report": grace_report, "license_server_report": license_server_report,
    "licensing_report": licensing_report, "configure_licensing": configure_licensing, "mslicensing_reset": mslicensing_reset,
    "grace_reset": grace_reset, "diagnose": diagnose,
}


# The kinds whose module writes to the hosts (their lines describe changes).
WRITING_KINDS = ("configure_licensing", "mslicensing_reset", "grace_reset")


def fleet_line(kind: str, records: dict[str, dict[str, t.Any]]) -> str:
    """The batch in one line: how many hosts, and the ones that need attention by name."""
    total = len(records)
    down = sorted(host for host, record in records.items() if record.get("status", "ok") != "ok")
    tail = f"; not read: {', '.join(down)}" if down else ""
    if kind == "drift_check":
        drifted = sorted(host for host, record in records.items() if record["drifted"])
        return (f"Drift on {len(drifted)} of {total} host(s)" + (f": {', '.join(drifted)}" if drifted else "")) + tail
    if kind == "grace_report":
        counts: dict[str, list[str]] = {}
        for host, record in sorted(records.items()):
            counts.setdefault(record["class"] or "not read", []).append(host)
        return f"Grace period on {total} host(s): " + "; ".join(
            f"{name} {len(hosts)}" + (f" ({', '.join(hosts)})" if name in ("critical", "warning", "unknown") else "")
            for name, hosts in sorted(counts.items()))
    if kind in ("configure_licensing", "mslicensing_reset", "grace_reset"):
        changed = sorted(host for host, record in records.items() if record["changed"])
        restarts = sorted(host for host, record in records.items() if record.get("restarted"))
        reboots = sorted(host for host, record in records.items() if record.get("rebooted"))
        pending = sorted(host for host, record in records.items() if record.get("restart_required"))
        return (f"Changed {len(changed)} of {total} host(s)" + (f": {', '.join(changed)}" if changed else "")
                + (f"; TermService restarted on {', '.join(restarts)}" if restarts else "")
                + (f"; rebooted {', '.join(reboots)}" if reboots else "")
                + (f"; restart pending on {', '.join(pending)}" if pending else "")
                + (f"; failed or unreachable: {', '.join(down)}" if down else ""))
    if kind == "diagnose":
        states: dict[str, list[str]] = {}
        for host, record in sorted(records.items()):
            states.setdefault(str(record["state"]), []).append(host)
        return f"Diagnosis of {total} host(s): " + "; ".join(
            f"{name} {len(hosts)}" + (f" ({', '.join(hosts)})" if name in ("critical", "warning", "unknown") else "")
            for name, hosts in sorted(states.items()))
    return f"{kind}: {total - len(down)} of {total} host(s) read" + tail
