"""Where things are in this checkout."""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)
COLLECTIONS_PATH = os.path.join(ROOT, ".build", "collections")


def tool(name: str) -> str:
    """A console script of this virtual environment (ansible-playbook, rds-sim, ...)."""
    return os.path.join(BIN, name)


def tracked_files() -> list[str]:
    """Files git tracks plus new ones it does not ignore: what a clean clone would have."""
    output = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True,
    ).stdout.decode()
    return [name for name in output.split("\0") if name and os.path.exists(os.path.join(ROOT, name))]
