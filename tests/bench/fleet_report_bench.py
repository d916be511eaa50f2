"""The fleet report at scale: `python -m tests.bench.fleet_report_bench [--hosts 10000] [--reps 2]`.

Generates one saved licensing_report result per host (tests/helpers/saved_results.py) and the run
manifest licensing_report writes, then renders with the shipped playbook, interleaved:
  inventory  `ansible-playbook remote_desktop.licensing.fleet_report -i <N-host inventory> -e report_dir=...`
  manifest   `ansible-playbook remote_desktop.licensing.fleet_report -e report_dir=...` (no inventory)
With --baseline-checkout DIR (another checkout of the collection, e.g. `git worktree add DIR <commit>`)
the same two commands also run from that checkout (cases inventory@baseline, manifest@baseline), for
a before/after in one session. Each run is one process tree measured by the OS (wall, CPU = user + system, peak RSS); the report's
own Python stages (load, records, summary, renderers) are also timed in this process. Prints a
Markdown table and writes it, with every sample, to .build/bench/fleet_report.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
import typing as t

from tests.bench.measure import Sample, run_measured
from tests.helpers.paths import COLLECTIONS_PATH, ROOT, tool

if COLLECTIONS_PATH not in sys.path:  # run as a script: the collection is imported from the checkout's link
    sys.path.insert(0, COLLECTIONS_PATH)

from tests.helpers import saved_results  # noqa: E402 - needs the collection on the path

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _fleet_report as fleet  # noqa: E402
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _run_manifest  # noqa: E402

RUN_ID = "bench-run"
THRESHOLDS = {"warning_days": 30, "critical_days": 7}


def prepare(work: str, count: int) -> tuple[str, str]:
    """The report directory (results and manifest) and an inventory listing every host in rds_session_hosts."""
    report_dir = os.path.join(work, "report")
    shutil.rmtree(report_dir, ignore_errors=True)
    hosts = saved_results.host_names(count)
    saved_results.write_fleet(report_dir, hosts, RUN_ID)
    _run_manifest.write(os.path.join(report_dir, "hosts"), RUN_ID, hosts, "licensing_report", "2026-11-28T10:00:00Z")
    inventory = os.path.join(work, "inventory.yml")
    with open(inventory, "w", encoding="utf-8") as handle:
        handle.write("all:\n  children:\n    rds_session_hosts:\n      hosts:\n")
        handle.writelines(f"        {host}:\n" for host in hosts)
    return report_dir, inventory


def link_collection(checkout: str) -> None:
    """What `make setup` links in a checkout, so that its ansible.cfg finds its own collection."""
    link = os.path.join(checkout, ".build", "collections", "ansible_collections", "remote_desktop", "licensing")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.join("..", "..", "..", ".."), link)


def stages(report_dir: str) -> dict[str, float]:
    """CPU seconds of each of the report's own stages, in this process (what the module does)."""
    from ansible_collections.remote_desktop.licensing.plugins.action.fleet_report import load_results

    times: dict[str, float] = {}
    started = time.process_time()

    def lap(name: str) -> None:
        nonlocal started
        now = time.process_time()
        times[name] = now - started
        started = now

    results = load_results(os.path.join(report_dir, "hosts"))
    lap("load")
    hosts = _run_manifest.expected_hosts(os.path.join(report_dir, "hosts"), RUN_ID) or sorted(results)
    lap("manifest")
    records = [fleet.record(host, results.get(host), THRESHOLDS, None, RUN_ID) for host in hosts]
    lap("records")
    report = fleet.build(records, THRESHOLDS, None, "2026-11-28T10:00:00Z", RUN_ID)
    lap("summary")
    for kind, (_name, render) in fleet.RENDERERS.items():
        render(report)
        lap(kind)
    return times


def main(argv: t.Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.fleet_report_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=10000)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--cases", default="inventory,manifest", help="inventory, manifest or both (comma separated)")
    parser.add_argument("--out", default=os.path.join(ROOT, ".build", "bench"))
    parser.add_argument("--baseline-checkout", help="another checkout of the collection to run the same cases from")
    options = parser.parse_args(argv)
    work = os.path.join(options.out, "fleet_report")
    os.makedirs(work, exist_ok=True)
    report_dir, inventory = prepare(work, options.hosts)
    commands = {
        "inventory": [tool("ansible-playbook"), "-i", inventory, "remote_desktop.licensing.fleet_report",
                      "-e", f"report_dir={report_dir}"],
        "manifest": [tool("ansible-playbook"), "remote_desktop.licensing.fleet_report", "-e", f"report_dir={report_dir}"],
    }
    chosen = [name for name in options.cases.split(",") if name]
    checkouts = {"": ROOT}
    if options.baseline_checkout:
        checkouts["@baseline"] = os.path.abspath(options.baseline_checkout)
        link_collection(checkouts["@baseline"])
    runs = [(name + suffix, name, checkout) for name in chosen for suffix, checkout in checkouts.items()]
    samples: dict[str, list[Sample]] = {label: [] for label, _name, _checkout in runs}
    for rep in range(options.reps):
        for label, name, checkout in runs:
            env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(checkout, "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
                   "ANSIBLE_FORCE_COLOR": "0"}
            sample = run_measured(commands[name], os.path.join(work, f"{label}-{rep}.log"), env=env, cwd=checkout)
            if sample.rc != 0:
                raise SystemExit(f"{label} failed (rc {sample.rc}); see {os.path.join(work, f'{label}-{rep}.log')}")
            with open(os.path.join(report_dir, "report.json"), encoding="utf-8") as handle:
                listed = json.load(handle)["summary"]["hosts"]
            if listed != options.hosts:
                raise SystemExit(f"{label}: the report lists {listed} hosts, not {options.hosts}")
            samples[label].append(sample)
    own = stages(report_dir)
    lines = [f"fleet_report over {options.hosts} saved results, {options.reps} run(s) each (medians)", "",
             "| case | runs | wall s | wall min-max | CPU s | CPU min-max | peak MB |", "|---|---:|---:|---:|---:|---:|---:|"]
    for label, measured in samples.items():
        walls, cpus = [run.wall_s for run in measured], [run.cpu_s for run in measured]
        lines.append(f"| {label} | {len(measured)} | {statistics.median(walls):.1f} | {min(walls):.1f}-{max(walls):.1f} "
                     f"| {statistics.median(cpus):.2f} | {min(cpus):.2f}-{max(cpus):.2f} "
                     f"| {statistics.median(run.peak_rss_mb for run in measured):.0f} |")
    lines += ["", "The report's own stages in one process (CPU s): "
              + ", ".join(f"{name} {seconds:.2f}" for name, seconds in own.items()) + f"; total {sum(own.values()):.2f}"]
    print("\n".join(lines))
    with open(os.path.join(options.out, "fleet_report.json"), "w", encoding="utf-8") as handle:
        json.dump({"hosts": options.hosts, "samples": {label: [run._asdict() for run in measured] for label, measured in samples.items()},
                   "stages_cpu_s": own, "table": lines}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
