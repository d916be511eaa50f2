"""`make bench`: the floor, ours and the peer side by side on one simulated fleet per size.

For each fleet size and each simulated powershell.exe start-up latency, every case runs once per
repetition, in turn (A B C ... A B C ...), so a noisy neighbour hits all of them alike. Each run is
one process tree measured by the OS (tests/bench/measure.py); rds-sim's counters give commands and
bytes per host. Prints one table of medians and ratios and writes it as JSON and Markdown under
.build/bench (latest.json, latest.md, and a timestamped copy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import sys
import time
import typing as t

from tests.bench import cases, peer_collection, table
from tests.bench.measure import run_measured
from tests.helpers.fleet import SimFleet
from tests.helpers.paths import BIN, COLLECTIONS_PATH, ROOT

# RD Session Hosts in states both sides handle without failing (no Group Policy conflict).
SCENARIOS = ["fresh", "per_user", "per_device", "grace_expiring"]
DEFAULT_SIZES = "10"
DEFAULT_LATENCIES = "0,300"


def _numbers(text: str) -> list[int]:
    return [int(item) for item in text.split(",") if item.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="fleet sizes, comma separated (e.g. 10,100,1000)")
    parser.add_argument("--latency-ms", default=DEFAULT_LATENCIES,
                        help="simulated powershell.exe start-up per command, comma separated")
    parser.add_argument("--reps", type=int, default=2, help="interleaved repetitions of every case")
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--cases", default=",".join(case.name for case in cases.CASES), help="cases, comma separated")
    parser.add_argument("--out", default=os.path.join(ROOT, ".build", "bench"))
    parser.add_argument("--model-hosts", type=int, default=1000)
    parser.add_argument("--model-forks", type=int, default=50)
    parser.add_argument("--model-cores", type=int, default=os.cpu_count() or 2)
    return parser


def _environment(peer_path: str) -> dict[str, str]:
    return {**os.environ, "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
            # the same search path for every case, so ours and the peer load the same way
            "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join((peer_path, COLLECTIONS_PATH))}


_RECAP = re.compile(r"^\S+\s*: ok=\d+\s+changed=(\d+)", re.MULTILINE)


def changed_count(output: str) -> int | None:
    """Sum of `changed=` over the PLAY RECAP lines of an ansible-playbook output (None without a recap)."""
    counts = [int(number) for number in _RECAP.findall(output)]
    return sum(counts) if counts else None


def _set_latency(fleet: SimFleet, latency_ms: float) -> None:
    for host in fleet.hosts():
        fleet.set_faults(host, {"latency_ms": latency_ms} if latency_ms else {})


def _run_case(fleet: SimFleet, case: cases.Case, hosts: int, latency: float, rep: int, work: str,
              env: dict[str, str], forks: int) -> dict[str, t.Any]:
    """One measured run of a case over the whole fleet, with the fleet's counters for that run alone."""
    run_dir = os.path.join(work, f"{hosts}-{latency:g}-{rep}-{case.name}")
    os.makedirs(run_dir)
    log = os.path.join(run_dir, "output.log")
    fleet.reset_stats()
    sample = run_measured(cases.command(case, BIN, fleet.inventory, fleet.dir, run_dir, forks), log, env=env, cwd=ROOT)
    counters = fleet.stats().values()
    with open(log, encoding="utf-8", errors="replace") as handle:
        changed = changed_count(handle.read())
    shutil.rmtree(os.path.join(run_dir, "report"), ignore_errors=True)
    return {
        "hosts": hosts, "latency_ms": latency, "case": case.name, "side": case.side, "rep": rep, "rc": sample.rc,
        "wall_s": sample.wall_s, "cpu_s": sample.cpu_s, "user_s": sample.user_s, "sys_s": sample.sys_s,
        "peak_rss_mb": sample.peak_rss_mb, "commands": sum(item["commands"] for item in counters),
        "bytes_in": sum(item["bytes_in"] for item in counters), "bytes_out": sum(item["bytes_out"] for item in counters),
        "changed": changed, "extra_starts_per_host": case.extra_starts_per_host, "module_case": case.module_case, "log": log,
    }


def run(args: argparse.Namespace) -> dict[str, t.Any]:
    selected = [cases.BY_NAME[name] for name in args.cases.split(",") if name]
    peer_path = peer_collection.ensure_peer_collection()
    env = _environment(peer_path)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    work = os.path.join(args.out, f"run-{stamp}")
    os.makedirs(work, exist_ok=True)
    samples: list[dict[str, t.Any]] = []
    for hosts in _numbers(args.sizes):
        fleet = SimFleet(os.path.join(work, f"fleet-{hosts}")).up(hosts, SCENARIOS, serve_peer_modules=True)
        try:
            for latency in [float(item) for item in args.latency_ms.split(",") if item.strip()]:
                _set_latency(fleet, latency)
                for rep in range(args.reps):
                    for case in selected:
                        samples.append(_run_case(fleet, case, hosts, latency, rep, work, env, args.forks))
                        print(f"N={hosts} latency={latency:g}ms rep={rep + 1}/{args.reps} {case.name:<26} "
                              f"rc={samples[-1]['rc']} wall={samples[-1]['wall_s']:.1f}s cpu={samples[-1]['cpu_s']:.1f}s",
                              flush=True)
        finally:
            fleet.down()
    rows = table.summarise(samples)
    startups = (0.3, 1.0)
    model = table.wall_model(rows, args.model_hosts, args.model_forks, startups, args.model_cores)
    return {
        "command": "make bench" + (f" BENCH_ARGS={shlex.quote(' '.join(sys.argv[1:]))}" if sys.argv[1:] else ""),
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "parameters": {"sizes": _numbers(args.sizes), "latency_ms": args.latency_ms, "reps": args.reps,
                       "forks": args.forks, "scenarios": SCENARIOS, "peer": peer_collection.pinned_requirement()},
        "cases": {case.name: {"side": case.side, "what": case.what} for case in selected},
        "rows": rows, "samples": samples,
        "wall_model": {"hosts": args.model_hosts, "forks": args.model_forks, "cores": args.model_cores,
                       "startup_s": list(startups), "cases": model},
        "text": table.render_text(rows) + "\n\n" + table.render_model(model, args.model_hosts, args.model_forks,
                                                                       args.model_cores, startups),
        "markdown": table.render_markdown(rows),
    }


def write(result: dict[str, t.Any], out: str) -> str:
    os.makedirs(out, exist_ok=True)
    stamped = os.path.join(out, f"bench-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json")
    for path in (stamped, os.path.join(out, "latest.json")):
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(result, handle, indent=1)
    with open(os.path.join(out, "latest.md"), "w", encoding="utf-8") as handle:
        handle.write(f"`{result['command']}` ({result['finished']}, {result['machine']['cpus']} CPUs)\n\n")
        handle.write(result["markdown"] + "\n\n```\n" + result["text"].split("\n\n", 1)[1] + "\n```\n")
    return stamped


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = run(args)
    path = write(result, args.out)
    print("\n" + result["text"])
    print(f"\nwritten: {path} (and latest.json, latest.md)")
    failed = [row["case"] for row in result["rows"] if row["failed_runs"]]
    if failed:
        print(f"runs failed: {', '.join(sorted(set(failed)))} (see the logs named in the JSON)", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
