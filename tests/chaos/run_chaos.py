"""The chaos suite: a simulated fleet with random faults of every kind, two concurrent configure_licensing runs
in batches, then a third run with a low failure threshold. Afterwards it checks the guarantees and prints the
table of faults injected vs outcomes:

- every host is fully old or fully new (exactly the state before, or exactly the state one run asked for);
- every host is accounted for in every run (ok, changed, failed, unreachable, or not started by the batch guard);
- every failed write names its backup (a host with a backup from a run has a failed result naming that file);
- the run with a low threshold stops at its first batch and never contacts the later ones.

    python tests/chaos/run_chaos.py [--hosts 200] [--seed 15]     (make chaos [CHAOS_HOSTS=1000])

Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import random
import re
import sys
import tempfile
import threading
import time
import typing as t

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from rds_sim import fleet as sim_fleet  # noqa: E402  (after the path set-up)
from tests.helpers.fleet import SimFleet, run_playbook  # noqa: E402

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
SERVERS_KEY = "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"
SCENARIOS = ["fresh", "per_device", "per_user"]
# Every fault kind of rds-sim with the argument the chaos run gives it. hold_writes is left out: it parks writes
# until a test releases them (tests/integration/test_concurrent_runs.py uses it).
FAULTS: dict[str, t.Any] = {
    "latency_ms": "latency_ms:300", "refused": "refused", "http500": "http500", "soap_fault": "soap_fault",
    "auth": "auth", "access_denied": f"access_denied:{CORE}", "write_denied": f"write_denied:{SERVERS_KEY}",
    "wmi_grace": "wmi_grace", "hang_s": "hang_s:8", "ownership_refused": "ownership_refused",
    "drop_before_write": "drop_before_write", "drop_after_write": "drop_after_write",
    "down_after_write": "down_after_write", "not_elevated": "not_elevated", "noisy_output": "noisy_output",
    "truncated_output": "truncated_output", "wmi_denied": "wmi_denied", "wmi_missing_class": "wmi_missing_class",
    "wmi_grace_no_days": "wmi_grace_no_days", "start_fails": "start_fails", "write_lock_held": "write_lock_held",
}
RUNS = {  # name: (mode, license servers)
    "A": ("per_user", ["ls-a.example.test"]),
    "B": ("per_device", ["ls-b.example.test"]),
    "C": ("per_user", ["ls-c.example.test"]),
}
MODES = {"per_device": 2, "per_user": 4}
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
NOT_CONTACTED = re.compile(r"this batch \(([^)]*)\)\s+and any later ones were not contacted")


def _value(registry: dict[str, t.Any], path: str, name: str) -> t.Any:
    for key, values in registry.items():
        if key.lower() == path.lower():
            return next((value["data"] for value_name, value in values.items() if value_name.lower() == name.lower()), None)
    return None


def host_state(fleet: SimFleet, host: str) -> tuple[t.Any, t.Any]:
    """(LicensingMode, license servers) as the host holds them, read through rds-sim's control API (one HTTP call;
    a fleet of 1,000 is read in seconds, where `rds-sim show` per host would start 1,000 processes)."""
    registry = fleet._control("GET", f"hosts/{host}")["registry"]  # pylint: disable=protected-access
    return _value(registry, CORE, "LicensingMode"), tuple(_value(registry, SERVERS_KEY, "SpecifiedLicenseServers") or ())


def run(fleet: SimFleet, name: str, work: str, batch_size: int, max_fail: int) -> dict[str, t.Any]:
    mode, servers = RUNS[name]
    backups, tree = os.path.join(work, f"backups-{name}"), os.path.join(work, f"tree-{name}")
    started = time.monotonic()
    outcome = run_playbook("remote_desktop.licensing.configure_licensing", fleet.inventory, os.path.join(work, f"unused-{name}"),
                           {"batch_size": batch_size, "batch_max_fail_percentage": max_fail, "configure_licensing_mode": mode,
                            "configure_licensing_license_servers": servers, "configure_licensing_backup": True,
                            "configure_licensing_backup_dir": backups},
                           env={"ANSIBLE_CALLBACKS_ENABLED": "ansible.builtin.tree", "ANSIBLE_CALLBACK_TREE_DIR": tree,
                                "ANSIBLE_FORKS": "25"})
    statuses = {}
    for host, _ok, changed, unreachable, failed in RECAP.findall(outcome.output):
        statuses[host] = "unreachable" if int(unreachable) else "failed" if int(failed) else "changed" if int(changed) else "ok"
    for names in NOT_CONTACTED.findall(outcome.output):
        for host in names.split(", "):
            statuses[host] = "not started"
    results = {}
    for path in glob.glob(os.path.join(tree, "*")):
        with open(path, encoding="utf-8") as handle:
            results[os.path.basename(path)] = json.load(handle)
    return {"name": name, "rc": outcome.rc, "statuses": statuses, "results": results, "backups": backups,
            "seconds": time.monotonic() - started, "output": outcome.output}


def backup_of(backups: str, host: str) -> list[str]:
    return sorted(path for path in glob.glob(os.path.join(backups, "*", "*.reg")) if os.path.basename(os.path.dirname(path)) == host)


def check(finals: dict[str, t.Any], hosts: list[str], before: dict[str, t.Any], runs: list[dict[str, t.Any]],
          untouched: list[str], commands_c: dict[str, int]) -> list[str]:
    problems = []
    wanted = {name: (MODES[mode], tuple(servers)) for name, (mode, servers) in RUNS.items()}
    for host in hosts:
        state = finals[host]
        if state != before[host] and state not in wanted.values():
            problems.append(f"{host}: holds {state}, neither its old state {before[host]} nor one a run asked for")
        for item in runs:
            status = item["statuses"].get(host, "not started" if item["name"] == "C" else None)
            if status is None:
                problems.append(f"{host}: not accounted for in run {item['name']}")
            saved = backup_of(item["backups"], host)
            result = item["results"].get(host, {})
            if saved and status == "failed" and result.get("backup_file") not in saved:
                problems.append(f"{host}: run {item['name']} failed after a backup ({saved[-1]}) without naming it: "
                                f"{str(result.get('msg'))[:200]}")
    for host in untouched:
        if commands_c.get(host):
            problems.append(f"{host}: run C's batch guard stopped before its batch, yet it got {commands_c[host]} commands")
    return problems


def table(hosts: list[str], faults: dict[str, str], runs: list[dict[str, t.Any]], before: dict[str, t.Any],
          finals: dict[str, t.Any]) -> str:
    wanted = {(MODES[mode], tuple(servers)): name for name, (mode, servers) in RUNS.items()}
    columns = ["ok", "changed", "failed", "unreachable", "not started"]
    rows: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for host in hosts:
        fault = faults.get(host, "(none)")
        rows[fault]["hosts"] += 1
        for item in runs[:2]:
            rows[fault][item["statuses"].get(host, "not started")] += 1
            if "changed by someone else since it was read" in str(item["results"].get(host, {}).get("msg", "")):
                rows[fault]["conflict"] += 1
        state = finals[host]
        rows[fault]["final " + ("old" if state == before[host] and state not in wanted else wanted.get(state, "other"))] += 1
    finals = ["final old", "final A", "final B", "final C", "final other"]
    header = ["fault", "hosts", *[f"A+B {name}" for name in columns], "of which conflict refusals", *finals]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for fault in sorted(rows, key=lambda name: (name == "(none)", name)):
        counts = rows[fault]
        lines.append("| " + " | ".join([fault, str(counts["hosts"]), *[str(counts[name]) for name in columns], str(counts["conflict"]),
                                        *[str(counts[name]) for name in finals]]) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--faulty", type=float, default=0.3, help="share of hosts given a fault")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="rds-chaos-")
    names = [name for name, _scenario in sim_fleet.host_names(args.hosts, SCENARIOS)]
    # Every kind at least once, then random kinds, on a random share of the hosts; set as `rds-sim up --fault` does.
    chosen = rng.sample(names, max(len(FAULTS), int(len(names) * args.faulty)))
    kinds = list(FAULTS) + [rng.choice(list(FAULTS)) for _ in range(len(chosen) - len(FAULTS))]
    faults = dict(zip(chosen, kinds))
    fleet = SimFleet(os.path.join(work, "fleet")).up(args.hosts, SCENARIOS, faults=[f"{host}={FAULTS[kind]}" for host, kind in faults.items()])
    started = time.monotonic()
    try:
        hosts = fleet.hosts()
        assert hosts == names, "rds-sim named the hosts differently"
        before = {host: host_state(fleet, host) for host in hosts}
        batch = max(5, args.hosts // 4)
        # A and B at once, on the same hosts, in batches, with a threshold they stay under.
        results: dict[str, dict[str, t.Any]] = {}
        threads = [threading.Thread(target=lambda name=name: results.__setitem__(name, run(fleet, name, work, batch, 60)))
                   for name in ("A", "B")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        # C: a low threshold; the first batch has faulty hosts, so the guard must stop it there.
        for host, kind in faults.items():  # faults that fire once were used up by A and B: arm them again
            if kind in ("drop_before_write", "drop_after_write", "down_after_write"):
                fleet.set_faults(host, {kind: True})
        fleet.reset_stats()
        results["C"] = run(fleet, "C", work, batch, 5)
        stats = fleet._control("GET", "stats")  # pylint: disable=protected-access
        untouched = hosts[batch:] if results["C"]["statuses"] and any(
            status == "not started" for status in results["C"]["statuses"].values()) else []
        runs = [results["A"], results["B"], results["C"]]
        finals = {host: host_state(fleet, host) for host in hosts}
        problems = check(finals, hosts, before, runs, untouched, {host: stats[host]["commands"] for host in hosts})
        c_started = sorted({host for host, status in results["C"]["statuses"].items() if status != "not started"})
        if len(untouched) != len(hosts) - batch:
            problems.append(f"run C did not stop after its first batch: {len(c_started)} hosts started")
        print(f"chaos: {args.hosts} hosts, seed {args.seed}, {len(faults)} faulty hosts ({len(set(kinds))} fault kinds), "
              f"batch {batch}; A+B concurrently (max_fail_percentage 60) took {max(results['A']['seconds'], results['B']['seconds']):.0f} s, "
              f"C (max_fail_percentage 5) {results['C']['seconds']:.0f} s; {time.monotonic() - started:.0f} s in all")
        print(table(hosts, faults, runs, before, finals))
        print(f"run C: {len(c_started)} hosts started, {len(untouched)} hosts of later batches never contacted")
        for problem in problems:
            print("PROBLEM:", problem)
        print("chaos: every check holds" if not problems else f"chaos: {len(problems)} problem(s)")
        return 0 if not problems else 1
    finally:
        fleet.down()


if __name__ == "__main__":
    sys.exit(main())
