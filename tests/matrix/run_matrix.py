"""`make matrix`: the end-to-end smoke (tests/matrix/smoke.yml) for every supported ansible-core
version and every connection CI proves, each cell on its own simulated host, and one table.

One virtualenv per ansible-core version under .build/matrix (2.20 needs Python 3.12 or newer; the
first one found on PATH or under pyenv is used), one rds-sim fleet per connection, cells run in
parallel. Exits non-zero when any cell fails; each cell's output is kept in .build/matrix/logs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import glob
import json
import os
import shutil
import subprocess
import sys
import time
import typing as t

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, ".build", "matrix")
SIM = os.path.join(os.path.dirname(sys.executable), "rds-sim")

CORES = ("2.16", "2.17", "2.18", "2.19", "2.20")
# The Python each core runs on here: the oldest its controller supports that this project tests.
MIN_PYTHON = {"2.16": (3, 10), "2.17": (3, 10), "2.18": (3, 11), "2.19": (3, 11), "2.20": (3, 12)}
MAX_PYTHON = {"2.16": (3, 12), "2.17": (3, 12), "2.18": (3, 13), "2.19": (3, 13), "2.20": (3, 14)}
# Connection name -> the rds-sim transport that serves it; the first three are what CI proves.
CONNECTIONS = {"winrm-ntlm": "ntlm", "winrm-https": "https", "psrp": "psrp", "winrm-basic": "basic"}
DEFAULT_CONNECTIONS = ("winrm-ntlm", "winrm-https", "psrp")
# Cells whose every message must arrive sealed (NTLM message encryption over plain HTTP).
SEALED = ("winrm-ntlm", "psrp")
# What each cell's controller needs besides ansible-core (pywinrm for winrm, pypsrp for psrp).
CONTROLLER_PACKAGES = ("pywinrm>=0.4.3", "pypsrp>=0.8", "jmespath>=1.0")


def python_version(executable: str) -> tuple[int, int] | None:
    try:
        output = subprocess.run([executable, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
                                capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor = output.split()
    return int(major), int(minor)


def find_python(core: str) -> str | None:
    """A Python that ansible-core `core` runs on: this one if it fits, else PATH, else pyenv."""
    candidates = [sys.executable] + [shutil.which(f"python3.{minor}") or "" for minor in range(10, 15)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")))
    for candidate in candidates:
        version = python_version(candidate) if candidate else None
        if version and MIN_PYTHON[core] <= version <= MAX_PYTHON[core]:
            return candidate
    return None


def prepare_core(core: str) -> tuple[str | None, str]:
    """The ansible-playbook of a virtualenv with ansible-core `core`, or None and why not."""
    venv = os.path.join(OUT, f"core-{core}")
    stamp = os.path.join(venv, ".installed")
    playbook = os.path.join(venv, "bin", "ansible-playbook")
    if os.path.exists(stamp):
        return playbook, ""
    python = find_python(core)
    if python is None:
        return None, f"no Python {MIN_PYTHON[core][0]}.{MIN_PYTHON[core][1]}+ found on PATH or under pyenv"
    shutil.rmtree(venv, ignore_errors=True)
    steps = [[python, "-m", "venv", venv],
             [os.path.join(venv, "bin", "python"), "-m", "pip", "install", "--quiet", f"ansible-core=={core}.*",
              *CONTROLLER_PACKAGES]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode:
            return None, f"{' '.join(step[:4])}... failed: {(done.stderr or done.stdout)[-500:]}"
    open(stamp, "w").close()
    return playbook, ""


class Fleet:
    """One rds-sim fleet serving one connection, one host per ansible-core version."""

    def __init__(self, connection: str, cores: t.Sequence[str]):
        self.connection = connection
        self.dir = os.path.join(OUT, f"fleet-{connection}")
        self.cores = list(cores)

    def up(self) -> None:
        subprocess.run([SIM, "down", "--dir", self.dir], capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)
        command = [SIM, "up", "--dir", self.dir, "--hosts", str(len(self.cores)), "--scenario", "fresh+client_cache"]
        transport = CONNECTIONS[self.connection]
        if transport != "basic":
            command += ["--transport", transport]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
        with open(os.path.join(self.dir, "fleet.json"), encoding="utf-8") as handle:
            self.meta = json.load(handle)

    def host_for(self, core: str) -> str:
        return self.meta["hosts"][self.cores.index(core)]

    def stats(self) -> dict[str, t.Any]:
        output = subprocess.run([SIM, "stats", "--dir", self.dir], capture_output=True, text=True, timeout=60).stdout
        return json.loads(output or "{}")

    def down(self) -> None:
        subprocess.run([SIM, "down", "--dir", self.dir], capture_output=True, timeout=60)


def run_cell(core: str, playbook: str, fleet: Fleet) -> dict[str, t.Any]:
    host = fleet.host_for(core)
    log = os.path.join(OUT, "logs", f"{core}-{fleet.connection}.log")
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"),
               ANSIBLE_FORCE_COLOR="0", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    extra = {"rds_sim_api": f"http://127.0.0.1:{fleet.meta['port']}/_sim", "rds_sim_token": fleet.meta["control_token"],
             "backup_dir": os.path.join(OUT, "backups", f"{core}-{fleet.connection}")}
    started = time.monotonic()
    done = subprocess.run([playbook, "-i", os.path.join(fleet.dir, "inventory.yml"), os.path.join(ROOT, "tests", "matrix", "smoke.yml"),
                           "--limit", host, "-e", json.dumps(extra)],
                          capture_output=True, text=True, env=env, timeout=900)
    with open(log, "w", encoding="utf-8") as handle:
        handle.write(done.stdout + "\n--- stderr ---\n" + done.stderr)
    recap = [line for line in done.stdout.splitlines() if line.startswith(host + " ")]
    return {"core": core, "connection": fleet.connection, "host": host, "passed": done.returncode == 0,
            "seconds": round(time.monotonic() - started, 1), "recap": recap[-1].split(":", 1)[-1].strip() if recap else "",
            "log": os.path.relpath(log, ROOT)}


def print_table(cells: list[dict[str, t.Any]], cores: t.Sequence[str], connections: t.Sequence[str]) -> None:
    by_cell = {(cell["core"], cell["connection"]): cell for cell in cells}
    width = max(len(name) for name in connections) + 2
    print("ansible-core".ljust(14) + "".join(name.ljust(width + 8) for name in connections))
    print("(each cell: result, wall time, longest command line the host received, in characters)")
    for core in cores:
        row = core.ljust(14)
        for connection in connections:
            cell = by_cell.get((core, connection), {})
            mark = "pass" if cell.get("passed") else "FAIL"
            row += f"{mark} {cell.get('seconds', '-')}s {cell.get('longest_command_line') or '-'}ch".ljust(width + 8)
        print(row)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default=",".join(CORES))
    parser.add_argument("--connections", default=",".join(DEFAULT_CONNECTIONS))
    parser.add_argument("--jobs", type=int, default=3)
    options = parser.parse_args()
    cores = [core for core in options.cores.split(",") if core]
    connections = [name for name in options.connections.split(",") if name]
    os.makedirs(os.path.join(OUT, "logs"), exist_ok=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(cores)) as pool:
        prepared = dict(zip(cores, pool.map(prepare_core, cores)))
    fleets = {name: Fleet(name, cores) for name in connections}
    cells: list[dict[str, t.Any]] = []
    try:
        for fleet in fleets.values():
            fleet.up()
        jobs = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
            for core in cores:
                playbook, why = prepared[core]
                for name in connections:
                    if playbook is None:
                        cells.append({"core": core, "connection": name, "passed": False, "seconds": 0, "error": why})
                    else:
                        jobs.append(pool.submit(run_cell, core, playbook, fleets[name]))
            cells += [job.result() for job in jobs]
        for fleet in fleets.values():
            for cell in cells:
                if cell["connection"] == fleet.connection and "host" in cell:
                    host_stats = fleet.stats().get(cell["host"], {})
                    cell["commands"] = host_stats.get("commands")
                    cell["longest_command_line"] = host_stats.get("longest_command_line")
                    cell["sealed_requests"] = host_stats.get("sealed_requests", 0)
                    if cell["passed"] and cell["connection"] in SEALED and not cell["sealed_requests"]:
                        cell.update(passed=False, error="the host received no sealed (encrypted) message")
    finally:
        for fleet in fleets.values():
            fleet.down()

    cells.sort(key=lambda cell: (cores.index(cell["core"]), connections.index(cell["connection"])))
    with open(os.path.join(OUT, "results.json"), "w", encoding="utf-8") as handle:
        json.dump(cells, handle, indent=1)
    print_table(cells, cores, connections)
    failed = [cell for cell in cells if not cell["passed"]]
    for cell in failed:
        print(f"FAILED {cell['core']} x {cell['connection']}: {cell.get('error') or cell.get('recap')} (see {cell.get('log', '-')})")
    print(f"{len(cells) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
