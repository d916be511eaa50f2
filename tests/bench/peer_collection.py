"""ansible.windows for the benchmark only: taken from the `ansible` wheel on PyPI (which bundles
it) into .build/bench/peer, never installed into the project's virtualenv."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import zipfile

from tests.helpers.paths import ROOT

BENCH_DIR = os.path.join(ROOT, ".build", "bench")
PEER_DIR = os.path.join(BENCH_DIR, "peer")
REQUIREMENTS = os.path.join(os.path.dirname(__file__), "requirements-peer.txt")
COLLECTION_PREFIX = "ansible_collections/ansible/windows/"


def pinned_requirement() -> str:
    with open(REQUIREMENTS, encoding="utf-8") as handle:
        return next(line.strip() for line in handle if line.strip() and not line.startswith("#"))


def ensure_peer_collection() -> str:
    """The collections path that holds ansible.windows (downloaded and extracted on first use)."""
    requirement = pinned_requirement()
    marker = os.path.join(PEER_DIR, ".from")
    if os.path.exists(marker):
        with open(marker, encoding="utf-8") as handle:
            if handle.read().strip() == requirement:
                return PEER_DIR
    wheels = os.path.join(BENCH_DIR, "wheels")
    version = requirement.split("==")[1]
    found = glob.glob(os.path.join(wheels, f"ansible-{version}-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", wheels, requirement],
                       check=True)
        found = glob.glob(os.path.join(wheels, f"ansible-{version}-*.whl"))
    shutil.rmtree(PEER_DIR, ignore_errors=True)
    with zipfile.ZipFile(found[0]) as wheel:
        members = [name for name in wheel.namelist() if name.startswith(COLLECTION_PREFIX)]
        wheel.extractall(PEER_DIR, members)
    with open(marker, "w", encoding="utf-8") as handle:
        handle.write(requirement + "\n")
    return PEER_DIR
