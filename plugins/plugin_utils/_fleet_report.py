# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The fleet report: one record per host from the per-host results that each play (or each slice
of a sliced AWX job) saved, a summary computed with jmespath queries, and the report rendered as
JSON (schema version 2), CSV, Markdown and one self-contained HTML page whose charts are
distributions (_fleet_report_chart.py), so their size does not grow with the fleet.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import typing as t

try:
    import jmespath
except ImportError:  # reported when a report is built, with what to install
    jmespath = None

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _drift
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _fleet_report_chart as chart

SCHEMA_VERSION = 2
CSV_COLUMNS = ("host", "status", "read_at", "stale", "os", "mode", "mode_source", "license_servers", "grace_days_left",
               "grace_state", "grace_class", "drift_count", "warnings", "error")
# Green only for "ok"; "unknown" (not verified) is grey, never green.
CLASS_COLOURS = {"ok": "#2e7d32", "warning": "#f9a825", "critical": "#c62828", "unknown": "#757575",
                 "unlicensed": "#6a1b9a", "not_applicable": "#b0bec5"}
CLASS_LABELS = {"ok": "OK", "warning": "Warning", "critical": "Critical", "unknown": "Unknown (not verified)",
                "unlicensed": "Not licensed (in grace)", "not_applicable": "Not a Session Host"}
NO_BASELINE = "no baseline given: drift not checked"
# Where the list of hosts the report covers came from (summary.hosts_source).
HOSTS_SOURCES = {
    "hosts": "the hosts given to the report (the inventory group)",
    "run_manifest": "the run manifest (every host the run targeted) and the saved results",
    "result_files": "the saved results only (no host list and no run manifest: a host that never saved a result is not listed)",
}
# Tables longer than this start folded (a <details> element, no script), so the page stays short.
OPEN_TABLE_ROWS = 200
# What a row needs from a saved licensing_info result; the rest (services, client cache, ...) is
# dropped while loading, so 10,000 results do not stay in memory whole.
SAVED_KEYS = ("run_id", "read_at", "saved_at", "unreachable", "failed", "msg")
LICENSING_KEYS = ("mode", "license_servers", "grace_period", "os", "role", "warnings")
UNKNOWN_CLASS_WARNING = "grace class unknown, " + _drift.GRACE_MEANINGS["unknown"]

# Fleet queries, kept as jmespath expressions so administrators can reuse them on report.json.
# Reachable, unreachable and failed count this run's results only: a result left from an earlier run is stale.
# A critical host is critical by its grace class, or by a diagnosis of the same run as its licensing result
# (attached by _fleet_report_diagnosis); this is the one place that decides it.
QUERIES = {
    "reachable": "length(hosts[?status=='ok' && !stale])",
    "unreachable": "hosts[?status=='unreachable' && !stale].host",
    "failed": "hosts[?status=='failed' && !stale].host",
    "drifted": "hosts[?drift_count > `0`].host",
    "stale": "hosts[?stale].host",
    "critical": "hosts[?grace_class=='critical' || (diagnosis.same_run && diagnosis.state=='critical')].host",
    "critical_by_grace": "hosts[?grace_class=='critical'].host",
    "critical_by_diagnosis": "hosts[?diagnosis.same_run && diagnosis.state=='critical'].host",
    "modes": "hosts[?status=='ok'].mode",
    "systems": "hosts[?status=='ok'].os",
    "classes": "hosts[?status=='ok'].grace_class",
}


def saved_fields(result: t.Any) -> t.Any:
    """The part of a saved result that record() reads (anything not a dict is kept as it is)."""
    if not isinstance(result, dict):
        return result
    kept = {key: result[key] for key in SAVED_KEYS if key in result}
    licensing = result.get("licensing")
    if "licensing" in result:
        kept["licensing"] = ({key: licensing[key] for key in LICENSING_KEYS if key in licensing}
                             if isinstance(licensing, dict) else licensing)
    return kept


def stale_note(result: dict[str, t.Any], run_id: str | None) -> str | None:
    """Why a saved result is not from this run, or None when it is (or no run is known)."""
    if not run_id or result.get("run_id") == run_id:
        return None
    when = result.get("read_at") or result.get("saved_at") or "an unknown time"
    return f"result from an earlier run (run {result.get('run_id') or 'unknown'}, read {when}), not from run {run_id}"


def record(host: str, result: dict[str, t.Any] | None, thresholds: dict[str, int],
           baseline: dict[str, t.Any] | None, run_id: str | None = None, exclude_stale: bool = False) -> dict[str, t.Any]:
    """One host's row from its saved licensing_info task result (None when nothing was saved)."""
    base = {"host": host, "status": "missing", "read_at": None, "run_id": None, "stale": False, "os": None, "mode": None,
            "mode_source": None, "license_servers": [], "license_servers_source": None, "grace_days_left": None,
            "grace_state": None, "grace_class": None, "licensing_configured": None,
            # A host that was not read has no drift count (unknown), never 0.
            "drift": None, "drift_count": None, "warnings": [], "error": None}
    if result is None:
        base["error"] = "no saved result for this host: it was not read, or its result file is gone"
        return base
    base.update(read_at=result.get("read_at"), run_id=result.get("run_id"))
    stale = stale_note(result, run_id)
    if stale and exclude_stale:
        return {**base, "status": "stale", "stale": True, "error": stale + "; excluded"}
    base.update(stale=bool(stale), warnings=[stale] if stale else [])
    if result.get("unreachable"):
        return {**base, "status": "unreachable", "error": str(result.get("msg") or "unreachable")}
    licensing = result.get("licensing")
    if result.get("failed") or not isinstance(licensing, dict):
        return {**base, "status": "failed", "error": str(result.get("msg") or "the task failed")}
    mode = licensing.get("mode") or {}
    servers = licensing.get("license_servers") or {}
    grace = licensing.get("grace_period") or {}
    drift = _drift.drift(licensing, baseline) if baseline else None
    grace_class = _drift.grace_class(licensing, thresholds["warning_days"], thresholds["critical_days"])
    warnings = list(base["warnings"]) + [str(item) for item in licensing.get("warnings") or []]
    if grace_class == "unknown":
        warnings.append(UNKNOWN_CLASS_WARNING)
    return {
        **base, "status": "ok",
        "os": (licensing.get("os") or {}).get("server_version"),
        "mode": mode.get("effective_name"), "mode_source": mode.get("source"),
        "license_servers": list(servers.get("effective") or []), "license_servers_source": servers.get("source"),
        "grace_days_left": grace.get("days_left"), "grace_state": grace.get("state"), "grace_class": grace_class,
        "licensing_configured": _drift.licensing_configured(licensing),
        "drift": drift, "drift_count": None if drift is None else len(drift), "warnings": warnings,
    }


def reclass(record: dict[str, t.Any], grace_class: str) -> None:
    """A record's grace class set again (the diagnosis knows more), with the warning that goes with "unknown"."""
    warnings = [warning for warning in record.get("warnings") or [] if warning != UNKNOWN_CLASS_WARNING]
    if grace_class == "unknown":
        warnings.append(UNKNOWN_CLASS_WARNING)
    record.update(grace_class=grace_class, warnings=warnings)


def grace_summary(hosts: list[dict[str, t.Any]], thresholds: dict[str, int]) -> dict[str, t.Any]:
    """The parts of the summary that follow from the hosts' grace classes."""
    document = {"hosts": hosts}
    return {"by_grace_class": _counts(jmespath.search(QUERIES["classes"], document)),
            **{name: jmespath.search(QUERIES[query], document) for name, query in (
                ("critical_hosts", "critical"), ("critical_by_grace", "critical_by_grace"),
                ("critical_by_diagnosis", "critical_by_diagnosis"))},
            "grace_histogram": chart.histogram(hosts, thresholds)}


def _counts(values: list[t.Any]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        key = str(value) if value is not None else "unknown"
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def build(records: list[dict[str, t.Any]], thresholds: dict[str, int], baseline: dict[str, t.Any] | None,
          generated_at: str, run_id: str | None = None, hosts_source: str = "hosts") -> dict[str, t.Any]:
    if jmespath is None:
        raise ImportError("the fleet report needs the jmespath Python library on the controller: pip install jmespath")
    hosts = sorted(records, key=lambda item: item["host"])
    document = {"hosts": hosts}
    found = {name: jmespath.search(query, document) for name, query in QUERIES.items()}
    summary = {
        "hosts": len(hosts), "reachable": found["reachable"],
        "unreachable": found["unreachable"], "failed": found["failed"],
        "missing": [item["host"] for item in hosts if item["status"] == "missing"],
        "by_mode": _counts(found["modes"]), "by_os": _counts(found["systems"]),
        "drift_checked": bool(baseline), "drifted_hosts": found["drifted"] if baseline else [],
        "stale": found["stale"], "excluded_stale": [item["host"] for item in hosts if item["status"] == "stale"],
        "hosts_source": hosts_source, **grace_summary(hosts, thresholds),
    }
    return {"schema_version": SCHEMA_VERSION, "generated_at": generated_at, "run_id": run_id or None,
            "thresholds": thresholds, "baseline": baseline or None, "summary": summary, "hosts": hosts}


def drift_cell(item: dict[str, t.Any]) -> str:
    """The drift column: a count, or why there is none."""
    if item["drift_count"] is None:
        return "not checked" if item["status"] == "ok" else "not read"
    return str(item["drift_count"])


def critical_cell(report: dict[str, t.Any]) -> str:
    """The header's Critical count; with a diagnosis, also how many are critical by grace class and by diagnosis."""
    summary = report["summary"]
    total = str(len(summary["critical_hosts"]))
    if "diagnosis" not in report or "critical_by_diagnosis" not in summary:
        return total
    return f"{total} (grace {len(summary['critical_by_grace'])}, diagnosis {len(summary['critical_by_diagnosis'])})"


# Renderers ------------------------------------------------------------------------------------

def to_json(report: dict[str, t.Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True) + "\n"


# Spreadsheets run a cell that begins with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def csv_cell(value: t.Any) -> t.Any:
    """A cell a spreadsheet shows as text: host-controlled text that would start a formula gets a leading
    single quote, as OWASP recommends for CSV injection; plain numbers (a negative day count) stay numbers."""
    if not isinstance(value, str) or not value.startswith(_FORMULA_STARTS) or _NUMBER.fullmatch(value):
        return value
    return "'" + value


def to_csv(report: dict[str, t.Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for item in report["hosts"]:
        row = {**item, "license_servers": ";".join(item["license_servers"]),
               "grace_days_left": "" if item["grace_days_left"] is None else item["grace_days_left"],
               "read_at": item["read_at"] or "", "stale": "yes" if item["stale"] else "no",
               "drift_count": "" if item["drift_count"] is None else item["drift_count"],
               "warnings": " / ".join(item["warnings"]), "error": item["error"] or ""}
        writer.writerow({column: csv_cell(row.get(column)) for column in CSV_COLUMNS})
    return buffer.getvalue()


def _md(value: t.Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _drift_summary(report: dict[str, t.Any]) -> str:
    if not report["summary"]["drift_checked"]:
        return NO_BASELINE
    return str(len(report["summary"]["drifted_hosts"]))


def _histogram(report: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The report's histogram; computed again for a report.json written before it was part of the summary."""
    return report["summary"].get("grace_histogram") or chart.histogram(report["hosts"], report["thresholds"])


def _run_line(report: dict[str, t.Any]) -> str:
    summary = report["summary"]
    stale = (f"; {len(summary['stale'])} host(s) show a result from an earlier run (stale)" if summary["stale"] else "")
    excluded = (f"; {len(summary['excluded_stale'])} stale result(s) excluded" if summary["excluded_stale"] else "")
    source = HOSTS_SOURCES.get(summary.get("hosts_source") or "hosts", "")
    return f"Run {report['run_id'] or 'not given'}{stale}{excluded}. Hosts from {source}."


def to_markdown(report: dict[str, t.Any]) -> str:
    summary = report["summary"]
    lines = [
        "# RDS licensing report", "",
        f"Generated {report['generated_at']}; warning at {report['thresholds']['warning_days']} days, "
        f"critical at {report['thresholds']['critical_days']}. {_run_line(report)}", "",
        "| Hosts | Reachable | Unreachable | Failed | Missing | Drifted | Critical | Stale |", "|---|---|---|---|---|---|---|---|",
        f"| {summary['hosts']} | {summary['reachable']} | {len(summary['unreachable'])} | {len(summary['failed'])} "
        f"| {len(summary['missing'])} "
        f"| {_md(_drift_summary(report))} | {critical_cell(report)} | {len(summary['stale'])} |", "",
        "| Grace days left | Session Hosts | By grace class |", "|---|---|---|",
        *(f"| {bucket['label']} | {bucket['hosts']} | "
          + _md(", ".join(f"{CLASS_LABELS.get(name, name)} {count}" for name, count in bucket["by_class"].items())) + " |"
          for bucket in _histogram(report)), "",
        "| Host | Status | Read at | OS | Mode (source) | License servers | Grace days | Class | Drift | Warnings |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for item in report["hosts"]:
        mode = f"{item['mode']} ({item['mode_source']})" if item["mode"] else ""
        status = f"{item['status']} (stale)" if item["stale"] and item["status"] != "stale" else item["status"]
        lines.append(f"| {_md(item['host'])} | {_md(status)} | {_md(item['read_at'])} | {_md(item['os'])} | {_md(mode)} "
                     f"| {_md(', '.join(item['license_servers']))} | {_md(item['grace_days_left'])} "
                     f"| {_md(CLASS_LABELS.get(item['grace_class'] or '', ''))} | {_md(drift_cell(item))} "
                     f"| {_md(' / '.join(item['warnings']))} |")
    lines += ["", "Grace classes: " + "; ".join(f"{CLASS_LABELS[name]}: {meaning}" for name, meaning in _drift.GRACE_MEANINGS.items())]
    return "\n".join(lines) + "\n"


class Cell(t.NamedTuple):
    """A table cell with a CSS class (the grace colour, or stale)."""
    text: str
    css: str


def _cell(cell: t.Any) -> str:
    if isinstance(cell, Cell):
        return f'<td class="{html.escape(cell.css)}">{html.escape(cell.text)}</td>' if cell.css else f"<td>{html.escape(cell.text)}</td>"
    return f"<td>{html.escape('' if cell is None else str(cell))}</td>"


def _table(headers: list[str], rows: list[list[t.Any]], table_id: str) -> str:
    head = "".join(f"<th>{html.escape(header)}</th>" for header in headers)
    body = "".join("<tr>" + "".join(_cell(cell) for cell in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _folded(table_id: str, title: str, rows: int, content: str) -> str:
    """A long table folded under a one-line summary a reader opens (no script needed)."""
    state = " open" if rows <= OPEN_TABLE_ROWS else ""
    return f'<details id="{table_id}-section"{state}><summary>{html.escape(title)}</summary>{content}</details>'


def _host_table(hosts: list[dict[str, t.Any]]) -> str:
    return _table(
        ["Host", "Status", "Read at", "OS", "Mode", "Source", "License servers", "Grace days", "Class", "Drift", "Warnings"],
        [[item["host"], Cell(item["status"] + (" (stale)" if item["stale"] and item["status"] != "stale" else ""),
                             "stale" if item["stale"] else ""),
          item["read_at"], item["os"], item["mode"], item["mode_source"], _drift.text(item["license_servers"]),
          item["grace_days_left"],
          Cell(CLASS_LABELS.get(item["grace_class"] or "", ""), f"c-{item['grace_class']}" if item["grace_class"] else ""),
          drift_cell(item), Cell("\n".join(item["warnings"]), "warnings")]
         for item in hosts], "hosts")


def to_html(report: dict[str, t.Any]) -> str:
    """One page, everything inline: no script, no stylesheet or font to fetch."""
    summary, hosts, thresholds = report["summary"], report["hosts"], report["thresholds"]
    drift_rows = [[item["host"], drift["setting"], _drift.text(drift["expected"]), _drift.text(drift["actual"]),
                   drift["source"], "yes" if drift["gpo_overrides_local_fix"] else "no"]
                  for item in hosts for drift in item["drift"] or []]
    down = [[item["host"], item["status"] + (" (stale)" if item["stale"] and item["status"] != "stale" else ""), item["error"]]
            for item in hosts if item["status"] != "ok"]
    if not summary["drift_checked"]:
        drift_section = f'<p id="drift">{html.escape(NO_BASELINE.capitalize())}. Give a baseline to compare hosts with.</p>'
    elif drift_rows:
        drift_section = _folded("drift", f"{len(drift_rows)} drifted setting(s)", len(drift_rows),
                                _table(["Host", "Setting", "Expected", "Actual", "Source", "GPO overrides a local fix"],
                                       drift_rows, "drift"))
    else:
        drift_section = '<p id="drift">No drift from the baseline on the hosts that were read.</p>'
    classes = "".join(f".c-{name}{{background:{colour};color:{'#222' if name in ('warning', 'not_applicable') else '#fff'}}}"
                      for name, colour in CLASS_COLOURS.items())
    style = ("body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}th{background:#f0f0f0}"
             ".cards span{display:inline-block;margin-right:1.5em;font-size:1.1em}.stale{background:#fff3e0}"
             ".warnings{white-space:pre-line;max-width:40em}details>summary{cursor:pointer;font-weight:600;margin:.5em 0}"
             ".swatch{display:inline-block;width:1em;height:1em;margin-right:.4em;vertical-align:middle}" + classes)
    legend = "".join(f'<li><span class="swatch c-{name}"></span><strong>{html.escape(CLASS_LABELS[name])}</strong>: '
                     f'{html.escape(meaning)}</li>' for name, meaning in _drift.GRACE_MEANINGS.items())
    drifted = len(summary["drifted_hosts"]) if summary["drift_checked"] else "not checked (no baseline given)"
    sections = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
        f"<title>RDS licensing report</title><style>{style}</style></head><body>",
        "<h1>RDS licensing report</h1>",
        f"<p>Generated {html.escape(report['generated_at'])}. Warning at {thresholds['warning_days']} days, "
        f"critical at {thresholds['critical_days']} days left. {html.escape(_run_line(report))}</p>",
        f'<p class="cards"><span>Hosts: {summary["hosts"]}</span><span>Reachable: {summary["reachable"]}</span>'
        f'<span>Unreachable: {len(summary["unreachable"])}</span><span>Failed: {len(summary["failed"])}</span>'
        f'<span>Missing: {len(summary["missing"])}</span><span>Drifted: {html.escape(str(drifted))}</span>'
        f'<span>Critical: {html.escape(critical_cell(report))}</span><span>Stale: {len(summary["stale"])}</span></p>',
        "<h2>Grace days left</h2>",
        "<p>Session Hosts that were read, by grace days left; each bar is split by grace class. Every host is in the "
        "table below and in report.csv.</p>",
        chart.grace_chart(_histogram(report), CLASS_COLOURS, CLASS_LABELS),
        f'<ul id="legend">{legend}</ul>',
        "<h2>Hosts per grace class</h2>", chart.class_chart(summary, CLASS_COLOURS, CLASS_LABELS),
        "<h2>Licensing modes</h2>", _table(["Mode", "Hosts"], [list(pair) for pair in summary["by_mode"].items()], "modes"),
        "<h2>Operating systems</h2>", _table(["OS", "Hosts"], [list(pair) for pair in summary["by_os"].items()], "systems"),
        "<h2>Drift</h2>", drift_section,
        "<h2>Hosts that could not be read</h2>",
        _folded("unreachable", f"{len(down)} host(s) not read", len(down),
                _table(["Host", "Status", "Error"], down, "unreachable")) if down else '<p id="unreachable">None.</p>',
        "<h2>All hosts</h2>",
        _folded("hosts", f"{len(hosts)} host(s); also in report.csv", len(hosts), _host_table(hosts)),
        "</body></html>",
    ]
    return "\n".join(sections) + "\n"


RENDERERS = {"json": ("report.json", to_json), "csv": ("report.csv", to_csv), "md": ("report.md", to_markdown),
             "html": ("report.html", to_html)}
