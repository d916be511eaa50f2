"""ansible-lint, production profile, offline (Galaxy is not reachable from CI)."""

from __future__ import annotations

import subprocess

from tests.helpers.paths import ROOT, tool


def test_ansible_lint_production_profile_passes():
    completed = subprocess.run([tool("ansible-lint"), "--nocolor"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-8000:]
    assert "production" in (completed.stdout + completed.stderr)
