"""The documented AWX project (docs/awx-project) has a wrapper for every shipped fleet playbook, and docs/awx.md
lists a job template for each: a playbook without one cannot be run from AWX as documented."""

from __future__ import annotations

import os

import pytest
import yaml

from tests.helpers.paths import ROOT

PLAYBOOKS = sorted(name[:-4] for name in os.listdir(os.path.join(ROOT, "playbooks"))
                   if name.endswith(".yml") and name not in ("target_check.yml", "fleet_report.yml"))


@pytest.mark.parametrize("name", PLAYBOOKS)
def test_every_fleet_playbook_has_a_wrapper_and_a_job_template(name):
    with open(os.path.join(ROOT, "docs", "awx-project", f"{name}.yml"), encoding="utf-8") as handle:
        (play,) = yaml.safe_load(handle)
    assert play["ansible.builtin.import_playbook"] == f"remote_desktop.licensing.{name}"
    with open(os.path.join(ROOT, "docs", "awx.md"), encoding="utf-8") as handle:
        assert f"| `{name}.yml` |" in handle.read()
