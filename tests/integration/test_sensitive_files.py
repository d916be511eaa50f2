"""registry_restore's and registry_backup's sensitive_values and hide_values: a secret read from a .reg file or
from the host appears nowhere in the job events of an ansible-runner job (the engine AWX uses) run with --diff and
-vvvvv, while the other values stay visible and the .reg files on the controller keep the real data. The same job
without the options shows the secret, so the search below can find it."""

from __future__ import annotations

import json
import os

import ansible_runner

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile
from tests.helpers.fleet import SimFleet
from tests.helpers.runner import runner_env

WINLOGON = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon"
OLD_SECRET = "Old-Pa55word-41f0"
NEW_SECRET = "New-Pa55word-d2b7"
RESTORE = ("Windows Registry Editor Version 5.00\r\n\r\n"
           f"[HKEY_LOCAL_MACHINE\\{WINLOGON}]\r\n\"DefaultPassword\"=\"{NEW_SECRET}\"\r\n\"DefaultUserName\"=\"kiosk2\"\r\n\r\n")


def playbook(marked: bool) -> str:
    """Export, restore, export again; with marked, by name (any case) first and then every value."""
    by_name = "sensitive_values: [defaultpassword]" if marked else "sensitive_values: []"
    every = "hide_values: true" if marked else "hide_values: false"
    return f"""---
- name: Secrets in .reg files
  hosts: all
  gather_facts: false
  tasks:
    - name: Export Winlogon
      remote_desktop.licensing.registry_backup:
        keys: ['HKLM:\\\\{WINLOGON}']
        backup_dir: "{{{{ backup_dir }}}}"
        {by_name}
      register: exported

    - name: Apply a file that sets the secret
      remote_desktop.licensing.registry_restore:
        src: "{{{{ restore_file }}}}"
        allow_other_host: true
        backup: true
        backup_dir: "{{{{ backup_dir }}}}"
        {by_name}
      register: restored

    - name: Export Winlogon again
      remote_desktop.licensing.registry_backup:
        keys: ['HKLM:\\\\{WINLOGON}']
        backup_dir: "{{{{ backup_dir }}}}"
        {every}
      register: again

    - name: Show what the tasks returned
      ansible.builtin.debug:
        var: item
      loop: ["{{{{ exported }}}}", "{{{{ restored }}}}", "{{{{ again }}}}"]
"""


def run_job(fleet: SimFleet, work, marked: bool) -> tuple[str, list[str]]:
    fleet.reset_host("fresh-01", "fresh", registry={WINLOGON: {"DefaultPassword": {"type": "string", "data": OLD_SECRET},
                                                              "DefaultUserName": {"type": "string", "data": "kiosk"}}})
    private = work / ("marked" if marked else "plain")
    os.makedirs(private / "project")
    os.makedirs(private / "inventory")
    (private / "project" / "secret.yml").write_text(playbook(marked))
    (private / "inventory" / "hosts.yml").write_text(open(fleet.inventory, encoding="utf-8").read())
    restore_file = private / "restore.reg"
    restore_file.write_bytes(_regfile.encode(RESTORE))
    backups = private / "backups"
    run = ansible_runner.run(
        private_data_dir=str(private), playbook="secret.yml", cmdline="--diff -vvvvv", quiet=True,
        extravars={"backup_dir": str(backups), "restore_file": str(restore_file)},
        envvars=runner_env())
    events = json.dumps(list(run.events))
    assert run.status == "successful", events[-3000:]
    assert fleet.value("fresh-01", WINLOGON, "DefaultPassword") == {"type": "string", "data": NEW_SECRET}
    files = [_regfile.decode(path.read_bytes()) for path in sorted(backups.rglob("*.reg"), key=os.path.getmtime)]
    return events, files


def test_marked_values_never_reach_the_job_events(tmp_path):
    fleet = SimFleet(tmp_path / "fleet").up(1, ["fresh"])
    try:
        events, files = run_job(fleet, tmp_path, marked=True)
        # The plain values and the restore's diff are shown; the secret, old or new, is not.
        assert "kiosk" in events and "kiosk2" in events and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in events
        assert "sensitive string value hidden" in events and "(not shown: the task handles sensitive values)" in events
        for secret in (OLD_SECRET, NEW_SECRET):
            where = events.find(secret)
            assert where < 0, events[max(0, where - 400):where + 100]
        # The files keep the real data: the first export and the restore's backup hold the old secret, the last
        # export the new one.
        assert len(files) == 3 and OLD_SECRET in files[0] and OLD_SECRET in files[1] and NEW_SECRET in files[2]

        plain, _files = run_job(fleet, tmp_path, marked=False)
        assert OLD_SECRET in plain and NEW_SECRET in plain
    finally:
        fleet.down()
