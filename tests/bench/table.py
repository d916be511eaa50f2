"""The benchmark's arithmetic: medians of the interleaved runs, ratios to the floor and to
licensing_info, the table as text and Markdown, and a model of the wall time on real hosts."""

from __future__ import annotations

import math
import statistics
import typing as t

FLOOR_CASE = "floor_raw"
OURS_CASE = "ours_info"

Row = t.Dict[str, t.Any]


def _ratio(value: float | None, base: float | None) -> float | None:
    return None if value is None or not base else value / base


def summarise(samples: list[Row]) -> list[Row]:
    """One row per (hosts, latency, case): medians over its runs, per-host figures and ratios."""
    groups: dict[tuple[int, float, str], list[Row]] = {}
    for sample in samples:
        groups.setdefault((sample["hosts"], sample["latency_ms"], sample["case"]), []).append(sample)
    rows = []
    for (hosts, latency, case), runs in groups.items():
        def median(field: str) -> float:
            return float(statistics.median(run[field] for run in runs))

        cpu = median("cpu_s")
        commands = median("commands") / hosts
        rows.append({
            "hosts": hosts, "latency_ms": latency, "case": case, "side": runs[0]["side"], "runs": len(runs),
            "failed_runs": sum(1 for run in runs if run["rc"] != 0),
            "wall_s": median("wall_s"), "cpu_s": cpu, "cpu_ms_per_host": 1000.0 * cpu / hosts,
            "commands_per_host": commands,
            "bytes_in_per_host": median("bytes_in") / hosts, "bytes_out_per_host": median("bytes_out") / hosts,
            "peak_rss_mb": median("peak_rss_mb"),
            "starts_per_host": commands + runs[0].get("extra_starts_per_host", 0),
            "changed": max((run["changed"] for run in runs if run.get("changed") is not None), default=None),
            "module_case": runs[0].get("module_case"),
        })
    _add_marginal(rows)
    base = {(row["hosts"], row["latency_ms"], row["case"]): row["cpu_ms_compared"] for row in rows}
    for row in rows:
        key = (row["hosts"], row["latency_ms"])
        commands = row["commands_per_host"]
        row["cpu_ms_per_command"] = row["cpu_ms_compared"] / commands if commands else None
        row["x_floor"] = _ratio(row["cpu_ms_compared"], base.get((*key, FLOOR_CASE)))
        row["x_ours"] = _ratio(row["cpu_ms_compared"], base.get((*key, OURS_CASE)))
        # A shipped playbook against its own per-host module alone: what its other tasks cost per host.
        row["x_module"] = _ratio(row["cpu_ms_compared"], base.get((*key, row["module_case"]))) if row["module_case"] else None
    return rows


def slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of y over x; None with fewer than two distinct x."""
    if len({x for x, _ in points}) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)


def _add_marginal(rows: list[Row]) -> None:
    """CPU per additional host (the slope over the sizes run), free of Ansible's fixed start-up cost.

    Ratios compare the marginal cost when a case ran at two or more sizes, else CPU per host.
    """
    series: dict[tuple[float, str], list[tuple[float, float]]] = {}
    for row in rows:
        series.setdefault((row["latency_ms"], row["case"]), []).append((row["hosts"], row["cpu_s"]))
    for row in rows:
        marginal = slope(series[(row["latency_ms"], row["case"])])
        row["cpu_ms_marginal"] = None if marginal is None else 1000.0 * marginal
        row["cpu_ms_compared"] = row["cpu_ms_per_host"] if marginal is None else row["cpu_ms_marginal"]


_COLUMNS = (
    ("case", "case", "{}"), ("hosts", "N", "{}"), ("latency_ms", "lat ms", "{:.0f}"), ("runs", "runs", "{}"),
    ("failed_runs", "fail", "{}"), ("wall_s", "wall s", "{:.1f}"), ("cpu_s", "CPU s", "{:.1f}"),
    ("cpu_ms_per_host", "CPU ms/host", "{:.0f}"), ("cpu_ms_marginal", "marg ms/host", "{:.0f}"),
    ("cpu_ms_per_command", "CPU ms/cmd", "{:.0f}"),
    ("x_floor", "x raw", "{:.2f}"), ("x_ours", "x info", "{:.2f}"), ("x_module", "x module", "{:.2f}"),
    ("commands_per_host", "cmds/host", "{:.1f}"),
    ("bytes_in_per_host", "KB in/host", "{:.1f}"), ("bytes_out_per_host", "KB out/host", "{:.1f}"),
    ("peak_rss_mb", "peak MB", "{:.0f}"), ("changed", "changed", "{}"),
)


def _cell(row: Row, field: str, fmt: str) -> str:
    value = row.get(field)
    if value is None:
        return "-"
    if field.startswith("bytes_"):
        value = value / 1024.0
    return fmt.format(value)


def table_cells(rows: list[Row]) -> tuple[list[str], list[list[str]]]:
    ordered = sorted(rows, key=lambda row: (row["hosts"], row["latency_ms"], ("floor", "ours", "peer").index(row["side"])))
    return [title for _, title, _ in _COLUMNS], [[_cell(row, field, fmt) for field, _, fmt in _COLUMNS] for row in ordered]


def render_text(rows: list[Row]) -> str:
    header, body = table_cells(rows)
    widths = [max(len(line[index]) for line in [header, *body]) for index in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line))
             for line in [header, *body]]
    return "\n".join([lines[0], "-" * len(lines[0]), *lines[1:]])


def render_markdown(rows: list[Row]) -> str:
    header, body = table_cells(rows)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    return "\n".join(lines + ["| " + " | ".join(line) + " |" for line in body])


def wall_model(rows: list[Row], hosts: int = 1000, forks: int = 50, startup_s: tuple[float, ...] = (0.3, 1.0),
               cores: int = 2) -> list[Row]:
    """Wall time on real hosts, per case, from the measured controller CPU per host (latency 0, largest N;
    the marginal cost when several sizes ran).

    Host side: Ansible's linear strategy runs a task on `forks` hosts at a time and each WinRM
    command starts powershell.exe (win_shell one more), so the hosts cost ceil(N/forks) waves of
    starts_per_host x start-up. Controller side: CPU per host x N spread over the cores. The two
    overlap partly: the wall time lies between the larger of them and their sum.
    """
    measured = [row for row in rows if row["latency_ms"] == 0]
    if not measured:
        return []
    largest = max(row["hosts"] for row in measured)
    model = []
    for row in sorted((row for row in measured if row["hosts"] == largest),
                      key=lambda row: ("floor", "ours", "peer").index(row["side"])):
        controller = row["cpu_ms_compared"] * hosts / 1000.0 / cores
        entry: Row = {"case": row["case"], "from_hosts": largest, "controller_s": controller}
        for startup in startup_s:
            host_side = math.ceil(hosts / forks) * row["starts_per_host"] * startup
            entry[f"host_s@{startup:g}"] = host_side
            entry[f"wall_s@{startup:g}"] = [max(host_side, controller), host_side + controller]
        model.append(entry)
    return model


def render_model(model: list[Row], hosts: int, forks: int, cores: int, startup_s: tuple[float, ...]) -> str:
    measured_at = model[0]["from_hosts"] if model else 0
    lines = [f"Modelled wall time on real hosts: {hosts} hosts, forks {forks}, controller with {cores} cores "
             f"(powershell.exe start-up {' / '.join(f'{s:g} s' for s in startup_s)}; CPU measured at N={measured_at})"]
    if measured_at and measured_at < 100:
        lines.append("  (Ansible's start-up dominates CPU per host below 100 hosts: run --sizes 10,100 or more for this model)")
    for entry in model:
        spans = "  ".join(f"@{s:g}s: {entry[f'wall_s@{s:g}'][0]:.0f}-{entry[f'wall_s@{s:g}'][1]:.0f} s" for s in startup_s)
        lines.append(f"  {entry['case']:<26} controller {entry['controller_s']:6.0f} s  {spans}")
    return "\n".join(lines)
