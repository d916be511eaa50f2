"""Every role's molecule scenario (extensions/molecule): create rds-sim hosts, converge,
idempotence (a second converge changes nothing), verify the simulated host state, destroy."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.helpers.paths import ROOT, tool

SCENARIO_DIR = os.path.join(ROOT, "extensions", "molecule")
SCENARIOS = sorted(name for name in os.listdir(SCENARIO_DIR)
                   if os.path.isfile(os.path.join(SCENARIO_DIR, name, "molecule.yml")))


def test_every_role_has_a_scenario():
    roles = sorted(os.listdir(os.path.join(ROOT, "roles")))
    assert SCENARIOS == roles


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario):
    env = {**os.environ, "PATH": os.path.dirname(tool("molecule")) + os.pathsep + os.environ.get("PATH", ""),
           "ANSIBLE_CONFIG": os.path.join(ROOT, "ansible.cfg"), "NO_PROXY": "127.0.0.1,localhost",
           "ANSIBLE_NOCOLOR": "1", "NO_COLOR": "1"}
    run = subprocess.run([tool("molecule"), "test", "-s", scenario], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert "idempotence" in run.stdout + run.stderr
