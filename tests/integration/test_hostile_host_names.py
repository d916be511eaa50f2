"""Inventory host names are not paths, end to end: hosts named `..`, `../escape`, `a/b`, `a\\b` and `a_b` (each an
rds-sim host through ansible_winrm_path) get their backups (licensing_mode) and their report files
(licensing_report) inside backup_dir and report_dir, one distinct folder or file each, and nothing lands
anywhere else."""

from __future__ import annotations

import hashlib
import json
import os

import yaml

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._paths import host_from_file_name
from tests.helpers.fleet import SimFleet, run_playbook

NAMES = ["..", "../escape", "a/b", "a\\b", "a_b"]

PLAYBOOK = [{
    "name": "Licensing mode with a backup", "hosts": "all", "gather_facts": False,
    "tasks": [
        {"name": "Set the mode", "remote_desktop.licensing.licensing_mode": {
            "mode": "per_device", "backup": True, "backup_dir": "{{ backup_dir }}"}, "register": "mode_result"},
        # The test's own results are named by a hash of the host name: the names themselves are not paths.
        {"name": "Save the result", "ansible.builtin.copy": {
            "content": "{{ mode_result | to_nice_json }}", "dest": "{{ results_dir }}/{{ inventory_hostname | hash('sha1') }}.json",
            "mode": "0600"}, "delegate_to": "localhost"},
    ],
}]


def hostile_inventory(fleet: SimFleet, path: str) -> None:
    """The fleet's inventory with its hosts renamed; each keeps its own endpoint."""
    with open(fleet.inventory, encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    hosts = inventory["all"]["hosts"]
    # Only the renamed hosts: the fleet's groups (by scenario) would bring the real names back.
    inventory = {"all": {"hosts": {name: hosts[real] for name, real in zip(NAMES, fleet.hosts())},
                         "vars": inventory["all"]["vars"]}}
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle)


def every_file(root) -> list[str]:
    return sorted(os.path.join(folder, name) for folder, _dirs, names in os.walk(root) for name in names)


def test_hostile_host_names_stay_inside_backup_dir_and_report_dir_one_folder_each(tmp_path):
    fleet = SimFleet(tmp_path / "fleet").up(len(NAMES), ["fresh"])
    try:
        inventory = str(tmp_path / "hostile.yml")
        hostile_inventory(fleet, inventory)
        # backup_dir and report_dir two levels down: `..` or `../escape` leaking would land in work/ or work/out/.
        work = tmp_path / "work"
        backup_dir, report_dir = work / "out" / "backups", work / "out" / "reports"
        playbook = tmp_path / "mode.yml"
        playbook.write_text(json.dumps(PLAYBOOK))
        mode = run_playbook(str(playbook), inventory, str(tmp_path / "results"), {"backup_dir": str(backup_dir)})
        assert mode.rc == 0, mode.output[-3000:]
        report = run_playbook("remote_desktop.licensing.licensing_report", inventory, str(tmp_path / "unused"),
                              {"report_dir": str(report_dir), "target_hosts": "all"})
        assert report.rc == 0, report.output[-3000:]

        folders = set()
        for name in NAMES:
            result = json.loads((tmp_path / "results" / f"{hashlib.sha1(name.encode()).hexdigest()}.json").read_text())
            assert result["changed"] is True, result
            backup = os.path.realpath(result["backup_file"])
            folder = os.path.dirname(backup)
            # Directly below backup_dir, in a folder that names exactly this host.
            assert os.path.dirname(folder) == os.path.realpath(backup_dir), backup
            assert host_from_file_name(os.path.basename(folder)) == name
            folders.add(folder)
        assert len(folders) == len(NAMES)

        host_files = os.listdir(report_dir / "hosts")
        assert sorted(host_from_file_name(file_name[:-len(".json")]) for file_name in host_files) == sorted(NAMES)
        with open(report_dir / "report.json", encoding="utf-8") as handle:
            reported = json.load(handle)
        assert sorted(host["host"] for host in reported["hosts"]) == sorted(NAMES)
        # Nothing was written outside the two directories.
        for path in every_file(work):
            assert path.startswith((str(backup_dir) + os.sep, str(report_dir) + os.sep)), path
        assert not (tmp_path / "escape").exists() and not (work / "escape").exists()
    finally:
        fleet.down()
