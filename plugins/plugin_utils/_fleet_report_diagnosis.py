# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The fleet report's Diagnosis section and CAL capacity view, from the per-host results the diagnose
role saved: counts by finding, the hosts and remedy of each finding, and installed against issued
CALs per license server, CAL type and version. Attached to the report only when there are results;
rendered into the Markdown and HTML reports and written as diagnosis.csv and cal_capacity.csv.
"""

from __future__ import annotations

import csv
import html
import io
import os
import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _diagnosis, _paths
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _fleet_report as fleet
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._fleet_report import csv_cell

DIAGNOSIS_CSV_COLUMNS = ("host", "state", "grace_class", "finding_id", "severity", "summary", "remedy", "run_id", "read_at",
                         "combined")
CAPACITY_CSV_COLUMNS = ("license_server", "computer_name", "activation", "version", "product_version", "cal_type",
                        "total", "issued", "available")
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


class DiagnosisFileError(Exception):
    """A saved diagnose result that cannot be read."""


def load(directory: str) -> dict[str, dict[str, t.Any]]:
    """{host: saved diagnose result} from <directory>/<host file name>.json; empty when the directory does not exist."""
    if not directory or not os.path.isdir(directory):
        return {}
    try:
        return _paths.load_host_files(directory)
    except _paths.HostFileError as exc:
        raise DiagnosisFileError(f"{exc.path} is not a saved diagnose result: {exc.reason}. Run the diagnose playbook again, "
                                 "or delete the file to leave that host out of the Diagnosis section.") from None


def link(record: dict[str, t.Any], result: dict[str, t.Any] | None) -> dict[str, t.Any] | None:
    """A report row's diagnosis: its state, findings, run id and read time, and whether it comes from the same run as
    the row's licensing result (only then is it combined with it). None for a host the diagnose role did not read
    as a session host (license servers, hosts outside the diagnosis)."""
    if not result or result.get("role") != "session_host":
        return None
    diagnosis = result.get("diagnosis")
    run_id = result.get("run_id")
    return {"state": diagnosis["state"] if diagnosis else "unknown", "run_id": run_id,
            "read_at": result.get("read_at") or result.get("saved_at"),
            "same_run": bool(run_id) and run_id == record.get("run_id") and record["status"] not in ("missing", "stale"),
            "finding_ids": [item["id"] for item in diagnosis["findings"]] if diagnosis else None}


def other_run_note(record: dict[str, t.Any]) -> str:
    found = record["diagnosis"]
    return (f"diagnosis from run {found['run_id'] or 'unknown'} (read {found['read_at'] or 'at an unknown time'}), not from "
            f"this host's licensing run {record.get('run_id') or '(none)'}: shown in the Diagnosis section, not combined "
            "with this row (grace class, critical count)")


def section(records: list[dict[str, t.Any]], results: dict[str, dict[str, t.Any]]) -> dict[str, t.Any]:
    """The report's `diagnosis` object, over the report's hosts that were diagnosed as session hosts. Only diagnoses
    of the same run as the host's licensing result count (states, findings); the others are listed, marked."""
    hosts, findings = [], {}
    for record in sorted(records, key=lambda item: item["host"]):
        found = record.get("diagnosis")
        if not found:
            continue
        host = record["host"]
        result = results[host]
        diagnosis = result.get("diagnosis")
        # Unreachable or failed: unknown is a state, never silently healthy.
        notes = list(diagnosis.get("notes") or []) if diagnosis else [str(result.get("error") or "the host could not be diagnosed")]
        hosts.append({"host": host, "state": found["state"], "grace_class": (diagnosis or {}).get("grace_class", "unknown"),
                      "finding_ids": found["finding_ids"] or [], "notes": notes, "run_id": found["run_id"],
                      "read_at": found["read_at"], "same_run": found["same_run"]})
        if not found["same_run"]:
            continue
        for item in (diagnosis or {}).get("findings") or []:
            entry = findings.setdefault(item["id"], {"id": item["id"], "severity": item["severity"], "hosts": [],
                                                     "remedy": item["remedy"], "summaries": []})
            if SEVERITY_ORDER[item["severity"]] < SEVERITY_ORDER[entry["severity"]]:
                entry["severity"] = item["severity"]
            if host not in entry["hosts"]:
                entry["hosts"].append(host)
            entry["summaries"].append({"host": host, "summary": item["summary"]})
    ordered = sorted(findings.values(), key=lambda entry: (SEVERITY_ORDER[entry["severity"]], entry["id"]))
    for entry in ordered:
        entry["count"] = len(entry["hosts"])
    by_state: dict[str, int] = {}
    for item in hosts:
        if item["same_run"]:
            by_state[item["state"]] = by_state.get(item["state"], 0) + 1
    return {"hosts": hosts, "by_state": dict(sorted(by_state.items())),
            "healthy_hosts": [item["host"] for item in hosts if item["same_run"] and item["state"] == "healthy"],
            "other_run_hosts": [item["host"] for item in hosts if not item["same_run"]], "findings": ordered}


def capacity(results: dict[str, dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """The report's `cal_capacity` list: one entry per license server."""
    servers = []
    for host, result in sorted(results.items()):
        view = result.get("license_server_view")
        if not view or not (view.get("server") or {}).get("is_license_server"):
            continue
        server = view["server"]
        servers.append({"license_server": host, "computer_name": view.get("computer_name"),
                        "activation": (server.get("activation") or {}).get("name"), "version": server.get("version"),
                        "capacity": [{key: group[key] for key in ("product_version", "cal_type", "total", "issued", "available")}
                                     for group in server.get("capacity") or []]})
    return servers


def attach(report: dict[str, t.Any], results: dict[str, dict[str, t.Any]], thresholds: dict[str, int]) -> dict[str, t.Any]:
    """Add the Diagnosis section and CAL capacity view, and join each host's diagnosis to its row: a diagnosis of the
    same run as the row's licensing result re-classes its grace period (0 days left is ok only with a working license
    server) and, when critical, makes the host a critical host of the fleet (the summary's queries); one of another
    run is marked on the row and combined with nothing. Without results the report is unchanged."""
    if not results:
        return report
    for record in report["hosts"]:
        found = link(record, results.get(record["host"]))
        if not found:
            continue
        record["diagnosis"] = found
        diagnosis = results[record["host"]].get("diagnosis")
        if not found["same_run"]:
            record["warnings"] = list(record["warnings"]) + [other_run_note(record)]
        elif record["status"] == "ok" and diagnosis and record.get("grace_class") is not None:
            licensing = {"grace_period": {"days_left": record.get("grace_days_left")}}
            fleet.reclass(record, _diagnosis.grace_class(licensing, diagnosis, thresholds["warning_days"],
                                                         thresholds["critical_days"], record["grace_class"]))
    report["diagnosis"] = section(report["hosts"], results)
    report["cal_capacity"] = capacity(results)
    # Counts, critical hosts and the histogram follow the classes and diagnoses as they are now.
    report["summary"].update(fleet.grace_summary(report["hosts"], thresholds))
    return report


def _csv(columns: tuple[str, ...], rows: list[dict[str, t.Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    # Server and host names come from the hosts: cells that would start a formula are neutralised (OWASP).
    writer.writerows({column: csv_cell(row.get(column)) for column in columns} for row in rows)
    return buffer.getvalue()


def diagnosis_csv(report: dict[str, t.Any], results: dict[str, dict[str, t.Any]]) -> str:
    """One row per finding per host; a healthy host has one row with no finding."""
    rows = []
    for item in report["diagnosis"]["hosts"]:
        findings = ((results.get(item["host"]) or {}).get("diagnosis") or {}).get("findings") or []
        base = {"host": item["host"], "state": item["state"], "grace_class": item["grace_class"], "run_id": item["run_id"],
                "read_at": item["read_at"], "combined": "yes" if item["same_run"] else "no (other run)"}
        rows += [{**base, "finding_id": finding["id"], "severity": finding["severity"], "summary": finding["summary"],
                  "remedy": finding["remedy"]} for finding in findings] or [base]
    return _csv(DIAGNOSIS_CSV_COLUMNS, rows)


def capacity_csv(report: dict[str, t.Any]) -> str:
    rows = [{**{key: server[key] for key in ("license_server", "computer_name", "activation", "version")}, **group}
            for server in report["cal_capacity"] for group in server["capacity"]]
    return _csv(CAPACITY_CSV_COLUMNS, rows)


def markdown(report: dict[str, t.Any]) -> str:
    if "diagnosis" not in report:
        return ""
    found = report["diagnosis"]
    lines = ["", "## Diagnosis", "",
             "States (diagnoses of the same run as the host's licensing result): "
             + (", ".join(f"{state} {count}" for state, count in found["by_state"].items()) or "none") + ".", "",
             *([_other_run_text(report), ""] if found.get("other_run_hosts") else []),
             "| Finding | Severity | Hosts | Which | Remedy |", "|---|---|---|---|---|"]
    for entry in found["findings"]:
        lines.append(f"| {entry['id']} | {entry['severity']} | {entry['count']} | {', '.join(entry['hosts'])} "
                     f"| {entry['remedy'].replace('|', '/')} |")
    lines += ["", "## CAL capacity", "", "| License server | Activation | CAL type | Version | Installed | Issued | Available |",
              "|---|---|---|---|---|---|---|"]
    for server in report["cal_capacity"]:
        for group in server["capacity"]:
            lines.append(f"| {server['license_server']} ({server['computer_name']}) | {server['activation']} "
                         f"| {group['cal_type']} | {group['product_version']} | {group['total']} | {group['issued']} "
                         f"| {group['available']} |")
    return "\n".join(lines) + "\n"


def _other_run_text(report: dict[str, t.Any]) -> str:
    hosts = report["diagnosis"]["other_run_hosts"]
    return (f"Not combined: {len(hosts)} host(s) were diagnosed in another run than their licensing result "
            f"({', '.join(hosts)}); it counts in no state, finding, grace class or critical count (report.json, "
            "diagnosis.csv and the HTML page list it, marked). Run diagnose and licensing_report with the same run_id to "
            "combine them.")


def _table(headers: list[str], rows: list[list[t.Any]], table_id: str) -> str:
    head = "".join(f"<th>{html.escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if cell is None else str(cell))}</td>" for cell in row) + "</tr>"
                   for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def html_section(report: dict[str, t.Any]) -> str:
    if "diagnosis" not in report:
        return ""
    found = report["diagnosis"]
    cards = "".join(f'<span class="state-{html.escape(state)}">{html.escape(state)}: {count}</span>'
                    for state, count in found["by_state"].items())
    findings = _table(["Finding", "Severity", "Hosts", "Which hosts", "Remedy"],
                      [[entry["id"], entry["severity"], entry["count"], ", ".join(entry["hosts"]), entry["remedy"]]
                       for entry in found["findings"]], "diagnosis-findings")
    per_host = _table(["Host", "State", "Grace class", "Findings", "Run", "Read at"],
                      [[item["host"], item["state"] + ("" if item.get("same_run", True) else " (other run: not combined)"),
                        item["grace_class"], ", ".join(item["finding_ids"]) or "none", item.get("run_id"), item.get("read_at")]
                       for item in found["hosts"]], "diagnosis-hosts")
    capacity_rows = [[server["license_server"], server["computer_name"], server["activation"], group["cal_type"],
                      group["product_version"], group["total"], group["issued"], group["available"]]
                     for server in report["cal_capacity"] for group in server["capacity"]]
    return "\n".join([
        '<h2 id="diagnosis">Diagnosis</h2>', f'<p class="cards">{cards}</p>',
        f'<p id="diagnosis-other-run">{html.escape(_other_run_text(report))}</p>' if found.get("other_run_hosts") else "",
        findings if found["findings"] else '<p id="diagnosis-findings">No finding on any host.</p>',
        per_host,
        '<h2 id="cal-capacity">CAL capacity per license server</h2>',
        _table(["License server", "Computer", "Activation", "CAL type", "Version", "Installed", "Issued", "Available"],
               capacity_rows, "cal-capacity-table"),
    ])


def render(kind: str, report: dict[str, t.Any], text: str) -> str:
    """The report file of this kind with the Diagnosis section added (unchanged when there is none)."""
    if "diagnosis" not in report:
        return text
    if kind == "md":
        return text + markdown(report)
    if kind == "html":
        return text.replace("<h2>Grace days left</h2>", html_section(report) + "\n<h2>Grace days left</h2>", 1)
    return text


def extra_files(report: dict[str, t.Any], results: dict[str, dict[str, t.Any]], formats: list[str]) -> dict[str, str]:
    """{file name: content} written next to report.csv."""
    if "diagnosis" not in report or "csv" not in formats:
        return {}
    return {"diagnosis.csv": diagnosis_csv(report, results), "cal_capacity.csv": capacity_csv(report)}
