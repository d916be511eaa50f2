"""registry_values' per-entry `sensitive`: a secret's data, old and new, appears nowhere in the job events of an
ansible-runner job (the engine AWX uses) run with --diff and -vvvvv, while the other entries stay visible."""

from __future__ import annotations

import json
import os

import ansible_runner

from tests.helpers.fleet import SimFleet
from tests.helpers.runner import runner_env

WINLOGON = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon"
OLD_SECRET = "Old-Pa55word-7c1e"
NEW_SECRET = "New-Pa55word-93ad"

PLAYBOOK = f"""---
- name: Set a secret and a plain value
  hosts: all
  gather_facts: false
  tasks:
    - name: Autologon values
      remote_desktop.licensing.registry_values:
        values:
          - {{path: 'HKLM:\\\\{WINLOGON}', name: DefaultPassword, type: string, data: '{NEW_SECRET}', sensitive: true}}
          - {{path: 'HKLM:\\\\{WINLOGON}', name: DefaultUserName, type: string, data: kiosk}}
        backup: true
        backup_dir: "{{{{ backup_dir }}}}"
"""


def test_a_sensitive_value_never_reaches_the_job_events(tmp_path):
    fleet = SimFleet(tmp_path / "fleet").up(1, ["fresh"])
    try:
        fleet.reset_host("fresh-01", "fresh", registry={WINLOGON: {"DefaultPassword": {"type": "string", "data": OLD_SECRET}}})
        private = tmp_path / "job"
        os.makedirs(private / "project")
        os.makedirs(private / "inventory")
        (private / "project" / "secret.yml").write_text(PLAYBOOK)
        (private / "inventory" / "hosts.yml").write_text(open(fleet.inventory, encoding="utf-8").read())
        run = ansible_runner.run(
            private_data_dir=str(private), playbook="secret.yml", extravars={"backup_dir": str(tmp_path / "backups")},
            cmdline="--diff -vvvvv", quiet=True,
            envvars=runner_env())
        events = json.dumps(list(run.events))
        assert run.status == "successful", events[-3000:]
        assert fleet.value("fresh-01", WINLOGON, "DefaultPassword") == {"type": "string", "data": NEW_SECRET}
        # The plain entry is shown (so the diff and result are there), the secret is not, old or new.
        assert "kiosk" in events and "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in events and "sensitive string value hidden" in events
        for secret in (OLD_SECRET, NEW_SECRET):
            where = events.find(secret)
            assert where < 0, events[max(0, where - 400):where + 100]
        assert "(not shown: the task handles sensitive values)" in events
    finally:
        fleet.down()
