"""make demo: a mixed simulated fleet, the licensing report across it, a readable table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.dirname(sys.executable)
WORK = os.path.join(ROOT, ".build", "demo")
SCENARIOS = ["fresh", "per_device", "per_user", "gpo_conflict", "grace_expiring", "grace_expired", "client_cache",
             "ws2012r2", "per_user+ws2016", "per_device+ws2019", "fresh+ws2025", "per_user+ws2022"]


def run(*command: str) -> None:
    subprocess.run(command, cwd=ROOT, check=True)


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[index]) for row in rows) for index in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def row_for(host: str, result: dict) -> list[str]:
    if result.get("unreachable") or result.get("failed"):
        return [host, "-", "-", "-", "-", "-", "ERROR: " + result.get("msg", "")[:60]]
    info = result["licensing"]
    mode = info["mode"]
    grace = info["grace_period"]
    days = "-" if grace["days_left"] is None else str(grace["days_left"])
    return [host, info["os"]["server_version"] or "?", f"{mode['effective_name']} ({mode['source']})",
            ",".join(info["license_servers"]["effective"]) or "-", f"{grace['state']} {days}",
            str(info["client_cache"]["store_entries"]), str(len(info["warnings"]))]


def main() -> int:
    fleet_dir = os.path.join(WORK, "fleet")
    report_dir = os.path.join(WORK, "report")
    os.makedirs(report_dir, exist_ok=True)
    for name in os.listdir(report_dir):
        os.remove(os.path.join(report_dir, name))
    command = [os.path.join(BIN, "rds-sim"), "up", "--dir", fleet_dir, "--hosts", str(len(SCENARIOS))]
    for scenario in SCENARIOS:
        command += ["--scenario", scenario]
    run(*command)
    try:
        started = time.monotonic()
        run(os.path.join(BIN, "ansible-playbook"), "-i", os.path.join(fleet_dir, "inventory.yml"),
            "remote_desktop.licensing.licensing_report", "-e", json.dumps({"report_dir": report_dir}))
        elapsed = time.monotonic() - started
        stats = json.loads(subprocess.run([os.path.join(BIN, "rds-sim"), "stats", "--dir", fleet_dir],
                                          check=True, capture_output=True, text=True).stdout)
    finally:
        run(os.path.join(BIN, "rds-sim"), "down", "--dir", fleet_dir)
    rows = [["HOST", "OS", "MODE (SOURCE)", "LICENSE SERVERS", "GRACE (DAYS)", "CAL CACHE", "WARNINGS"]]
    warnings = []
    for name in sorted(os.listdir(report_dir)):
        with open(os.path.join(report_dir, name), encoding="utf-8") as handle:
            result = json.load(handle)
        host = name[:-5]
        rows.append(row_for(host, result))
        warnings += [f"  {host}: {note}" for note in result.get("licensing", {}).get("warnings", [])]
    print("\nRDS licensing across the simulated fleet\n")
    print(table(rows))
    print("\nWarnings\n" + "\n".join(warnings))
    commands = sum(item["commands"] for item in stats.values())
    print(f"\n{len(stats)} hosts, {commands} WinRM commands in all (one per host), playbook {elapsed:.1f} s.")
    print(f"Per-host JSON results: {report_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
