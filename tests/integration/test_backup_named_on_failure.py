"""Every failure after a backup was saved names it: for each writing module and each fault kind rds-sim offers
(one host per fault, one ansible-playbook run over winrm per module), a failed result whose host has a backup
from the run carries `backup_file` (that file, whose SHA-256 is `backup_checksum` and which parses back as a .reg
file) and names it in its message; a result never claims a backup that does not exist."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile
from rds_sim.fleet import FAULT_KINDS
from tests.helpers.fleet import SimFleet, run_playbook

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
MSLICENSING = "SOFTWARE\\Microsoft\\MSLicensing"
GRACE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod"
# hold_writes parks writes until a test releases them (test_concurrent_runs.py); every other kind is injected.
KINDS = [kind for kind in FAULT_KINDS if kind != "hold_writes"]
ARGUMENTS = {"latency_ms": 300, "hang_s": 8}

# module: (rds-sim preset, the key its writes touch, the module's options)
MODULES: dict[str, tuple[str, str, dict[str, object]]] = {
    "licensing_mode": ("fresh", CORE, {"mode": "per_user", "restart": "if_changed", "backup": True}),
    "registry_values": ("fresh", CORE, {"values": [{"path": "HKLM:\\" + CORE, "name": "LicensingMode", "type": "dword",
                                                    "data": 4}], "backup": True}),
    "mslicensing": ("client_cache", MSLICENSING, {"recreate_for_users": True}),
    "grace_period": ("grace_expired", GRACE, {"state": "reset", "acknowledge_lab_use": True, "restart": "if_changed"}),
    "registry_restore": ("fresh", CORE, {"src": "{{ restore_file }}", "backup": True}),
}
# Faults that strike after the backup was saved: these must give a failure naming it (so the test cannot pass
# with no backup ever made). start_fails only matters to the modules that restart TermService.
AFTER_BACKUP = {"write_denied", "drop_before_write", "down_after_write", "write_lock_held"}
RESTARTING = {"licensing_mode", "grace_period"}

RESTORE_FILE = ("Windows Registry Editor Version 5.00\r\n\r\n"
                f"[HKEY_LOCAL_MACHINE\\{CORE}]\r\n\"LicensingMode\"=dword:00000004\r\n\r\n")


# (module, fault kind) -> what the scenario showed, for the summary at the end.
SEEN: dict[tuple[str, str], str] = {}


def fault_of(kind: str, key: str) -> dict[str, object]:
    if kind in ("access_denied", "write_denied"):
        return {kind: [key]}
    return {kind: ARGUMENTS.get(kind, True)}


def backups_of(directory: str, host: str) -> list[str]:
    folder = os.path.join(directory, host)
    return sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".reg")) if os.path.isdir(folder) else []


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("backup-named")).up(len(KINDS), ["fresh"])
    yield fleet
    fleet.down()


@pytest.fixture(scope="module")
def runs(fleet, tmp_path_factory):
    """One run per module over every faulty host, made when a test first asks for that module."""
    done: dict[str, dict[str, object]] = {}

    def _run(module: str) -> dict[str, object]:
        if module in done:
            return done[module]
        preset, key, options = MODULES[module]
        hosts = dict(zip(fleet.hosts(), KINDS))
        for host, kind in hosts.items():
            fleet.reset_host(host, preset, faults=fault_of(kind, key))
        work = tmp_path_factory.mktemp(module)
        restore_file = work / "restore.reg"
        restore_file.write_bytes(_regfile.encode(RESTORE_FILE))
        playbook = work / "play.yml"
        playbook.write_text(json.dumps([{
            "name": f"{module} on every faulty host", "hosts": "all", "gather_facts": False,
            "tasks": [{"name": "The write", f"remote_desktop.licensing.{module}": {**options, "backup_dir": str(work / "b")},
                       "register": "module_result", "ignore_errors": True, "ignore_unreachable": True},
                      {"name": "Save the result", "ansible.builtin.copy": {
                          "content": "{{ module_result | to_nice_json }}", "dest": "{{ results_dir }}/{{ inventory_hostname }}.json",
                          "mode": "0600"}, "delegate_to": "localhost", "check_mode": False}]}]))
        outcome = run_playbook(str(playbook), fleet.inventory, str(work / "results"), {"restore_file": str(restore_file)},
                               env={"ANSIBLE_FORKS": "10", "HOME": str(work)})
        assert "Traceback" not in outcome.output, outcome.output[-3000:]
        done[module] = {"hosts": {kind: host for host, kind in hosts.items()}, "results": outcome.results,
                        "backups": str(work / "b"), "output": outcome.output}
        return done[module]
    return _run


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("module", list(MODULES))
def test_a_failure_after_the_backup_names_it(runs, module, kind):
    run = runs(module)
    host = run["hosts"][kind]
    result = run["results"].get(host)
    assert result is not None, run["output"][-3000:]
    saved = backups_of(run["backups"], host)
    if "backup_file" in result:
        # Never a claim of a file that is not there.
        assert result["backup_file"] in saved, (result, saved)
    if not (result.get("failed") or result.get("unreachable")):
        SEEN[module, kind] = "succeeded"
        return
    if kind in AFTER_BACKUP or (kind == "start_fails" and module in RESTARTING):
        assert saved, f"{kind} should strike after {module} saved its backup: {result.get('msg')}"
    if not saved:
        SEEN[module, kind] = "failed before any backup"
        return
    SEEN[module, kind] = "failed after the backup, not named"
    # A failure after the backup: the result carries it, verified, and the message names it.
    assert not result.get("unreachable"), result
    assert result.get("backup_file") == saved[-1], result
    assert saved[-1] in result["msg"], result["msg"]
    with open(saved[-1], "rb") as handle:
        raw = handle.read()
    assert hashlib.sha256(raw).hexdigest() == result["backup_checksum"]
    assert _regfile.parse(_regfile.decode(raw))
    SEEN[module, kind] = "failed after the backup, named"


def test_summary_every_module_failed_after_its_backup():
    """Runs last: the table of scenarios by outcome (shown with -s); each module had failures after its backup."""
    counts: dict[str, int] = {}
    for outcome in SEEN.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    print(f"\n{len(SEEN)} scenarios: " + ", ".join(f"{outcome}: {count}" for outcome, count in sorted(counts.items())))
    if len(SEEN) == len(MODULES) * len(KINDS):
        for module in MODULES:
            assert any(outcome.startswith("failed after") for (name, _kind), outcome in SEEN.items() if name == module)
