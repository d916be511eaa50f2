"""Jobs as AWX / Automation Controller runs them: ansible-runner with a private data directory whose
project is the documented wrapper project (docs/awx-project), extra vars as the survey gives them."""

from __future__ import annotations

import os
import shutil
import typing as t

import ansible_runner

from tests.helpers.paths import ROOT, tool

PROJECT = os.path.join(ROOT, "docs", "awx-project")


def job(fleet: t.Any, private_dir: t.Any, playbook: str, extravars: dict[str, t.Any] | None = None,
        cmdline: str | None = None) -> t.Any:
    """One job: inventory from the fleet, the wrapper project, the collection from this checkout."""
    os.makedirs(private_dir / "inventory", exist_ok=True)
    shutil.copy(fleet.inventory, private_dir / "inventory" / "hosts.yml")
    if not (private_dir / "project").exists():
        os.symlink(PROJECT, private_dir / "project")
    return ansible_runner.run(
        private_data_dir=str(private_dir), playbook=playbook,
        extravars=extravars or {}, cmdline=cmdline, quiet=True,
        envvars=runner_env(),
    )


def runner_env() -> dict[str, str]:
    """What a job needs from this checkout: its ansible-playbook, the collection, no proxy for rds-sim."""
    return {"PATH": os.path.dirname(tool("ansible-playbook")) + os.pathsep + os.environ.get("PATH", ""),
            "ANSIBLE_COLLECTIONS_PATH": os.path.join(ROOT, ".build", "collections"),
            "NO_PROXY": "127.0.0.1,localhost", "ANSIBLE_NOCOLOR": "1"}


def artifact_data(run: t.Any) -> dict[str, t.Any]:
    stats = [event for event in run.events if event["event"] == "playbook_on_stats"]
    return stats[-1]["event_data"].get("artifact_data") or {}


def host_stats(run: t.Any) -> dict[str, dict[str, int]]:
    """The job's host summary, as AWX shows it: {counter: {host: n}} from the playbook_on_stats event."""
    stats = [event for event in run.events if event["event"] == "playbook_on_stats"][-1]["event_data"]
    return {key: stats.get(key) or {} for key in ("ok", "changed", "failures", "dark", "skipped")}


def stdout(run: t.Any) -> str:
    with open(run.stdout.name, encoding="utf-8") as handle:
        return handle.read()
