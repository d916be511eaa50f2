# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The fleet report's charts: how many Session Hosts have how many grace days left (a histogram in
buckets that follow the thresholds, each bar split by grace class) and how many hosts are in each
class. Their size depends on the number of buckets and classes, never on the number of hosts, so
the page stays readable at 10,000 hosts; per-host detail is in the table and the CSV.
"""

from __future__ import annotations

import html
import typing as t

# The grace period lasts 120 days; the usual month marks split what lies beyond the thresholds.
MARKS = (30, 60, 90, 120)
# Stacking order: what needs action first, so the left end of every bar is the urgent part.
CLASS_ORDER = ("critical", "warning", "unknown", "unlicensed", "ok")
NOT_READ_COLOUR = "#37474f"
WIDTH, LABEL, ROW, GAP = 720, 170, 22, 8


def _bucket(label: str, low: int | None, high: int | None) -> dict[str, t.Any]:
    return {"label": label, "min": low, "max": high, "hosts": 0, "by_class": {}}


def buckets(thresholds: dict[str, int]) -> list[dict[str, t.Any]]:
    """Empty buckets of grace days left: ended (0 or less), ranges ending at each threshold and month
    mark, over 120, and no day count (the grace period could not be read)."""
    bounds = sorted(bound for bound in {thresholds["critical_days"], thresholds["warning_days"], *MARKS} if bound > 0)
    result = [_bucket("ended (0 or less)", None, 0)]
    low = 1
    for high in bounds:
        result.append(_bucket(f"{low}-{high} days" if low != high else f"{high} days", low, high))
        low = high + 1
    result.append(_bucket(f"over {bounds[-1]} days", bounds[-1] + 1, None))
    result.append(_bucket("no day count", None, None))
    return result


def histogram(hosts: list[dict[str, t.Any]], thresholds: dict[str, int]) -> list[dict[str, t.Any]]:
    """summary.grace_histogram: every bucket (empty ones too, for a stable shape) with its hosts per class,
    over the hosts that were read and are Session Hosts (not_applicable has no grace period)."""
    result = buckets(thresholds)
    ranged, ended, over, unknown = result[1:-2], result[0], result[-2], result[-1]
    for item in hosts:
        if item["status"] != "ok" or item["grace_class"] == "not_applicable":
            continue
        days = item["grace_days_left"]
        if days is None:
            target = unknown
        elif days <= 0:
            target = ended
        else:
            target = next((bucket for bucket in ranged if days <= bucket["max"]), over)
        target["hosts"] += 1
        klass = item["grace_class"] or "unknown"
        target["by_class"][klass] = target["by_class"].get(klass, 0) + 1
    for bucket in result:
        bucket["by_class"] = dict(sorted(bucket["by_class"].items()))
    return result


def _ordered(counts: dict[str, int]) -> list[tuple[str, int]]:
    known = [(name, counts[name]) for name in CLASS_ORDER if counts.get(name)]
    return known + sorted((name, count) for name, count in counts.items() if name not in CLASS_ORDER and count)


def _svg(chart_id: str, label: str, rows: int, body: list[str]) -> str:
    height = rows * (ROW + GAP) + GAP
    return (f'<svg id="{chart_id}" role="img" aria-label="{html.escape(label)}" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>")


def _row(index: int, label: str, segments: list[tuple[str, int, str, str]], total: int, scale: int) -> list[str]:
    """One labelled bar made of (css class, count, colour, tooltip) segments, with its total at the end."""
    y = GAP + index * (ROW + GAP)
    span = WIDTH - LABEL - 70
    parts = [f'<text x="{LABEL - 8}" y="{y + 15}" text-anchor="end" font-size="12">{html.escape(label)}</text>']
    x = LABEL
    for css, count, colour, tooltip in segments:
        length = max(2, round(span * count / scale))
        parts.append(f'<rect class="{html.escape(css)}" x="{x}" y="{y}" width="{length}" height="{ROW}" fill="{colour}">'
                     f"<title>{html.escape(tooltip)}</title></rect>")
        x += length
    parts.append(f'<text x="{x + 6}" y="{y + 15}" font-size="12">{total}</text>')
    return parts


def grace_chart(histogram_buckets: list[dict[str, t.Any]], colours: dict[str, str], labels: dict[str, str]) -> str:
    """The histogram: one bar per bucket, split by grace class."""
    scale = max([1] + [bucket["hosts"] for bucket in histogram_buckets])
    body: list[str] = []
    for index, bucket in enumerate(histogram_buckets):
        segments = [(f"bar {name}", count, colours.get(name, colours["unknown"]),
                     f"{bucket['label']}: {count} host(s), {labels.get(name, name)}")
                    for name, count in _ordered(bucket["by_class"])]
        body += _row(index, bucket["label"], segments, bucket["hosts"], scale)
    return _svg("grace-chart", "Session Hosts by grace days left, split by grace class", len(histogram_buckets), body)


def class_chart(summary: dict[str, t.Any], colours: dict[str, str], labels: dict[str, str]) -> str:
    """Hosts per grace class, and the hosts that were not read (unreachable, failed, missing, stale excluded)."""
    rows = [(labels.get(name, name), f"count {name}", count, colours.get(name, colours["unknown"]))
            for name, count in _ordered(summary["by_grace_class"])]
    not_read = summary["hosts"] - summary["reachable"]
    if not_read:
        rows.append(("Not read", "count not-read", not_read, NOT_READ_COLOUR))
    scale = max([1] + [count for _label, _css, count, _colour in rows])
    body: list[str] = []
    for index, (label, css, count, colour) in enumerate(rows):
        body += _row(index, label, [(css, count, colour, f"{label}: {count} host(s)")], count, scale)
    return _svg("class-chart", "Hosts per grace class, and hosts not read", max(1, len(rows)), body)
