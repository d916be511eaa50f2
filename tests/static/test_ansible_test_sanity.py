"""ansible-test sanity over a copy of the collection, with no ignore files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.helpers.paths import ROOT, tool, tracked_files

# ansible-test downloads get-pip.py to bootstrap the virtual environments some tests create;
# the machines that run our tests reach only package registries, so pip comes from ensurepip.
GET_PIP_STANDIN = '''"""Stand-in for get-pip.py: pip from the standard library, then install what was asked."""
import subprocess
import sys

# In a child process: ensurepip sets PIP_CONFIG_FILE=/dev/null in its own environment, which would
# hide the machine's pip configuration (index, certificates) from the install below.
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", "--upgrade"] + args))
'''


def _install_get_pip_standin() -> None:
    cache = os.path.expanduser("~/.ansible/test/cache")
    os.makedirs(cache, exist_ok=True)
    for version in ("24.2", "24.3.1", "25.0.1", "25.1.1"):
        path = os.path.join(cache, f"get_pip_{version.replace('.', '_')}.py")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(GET_PIP_STANDIN)


def test_ansible_test_sanity_passes(tmp_path):
    target = tmp_path / "ansible_collections" / "remote_desktop" / "licensing"
    for name in tracked_files():
        if name.startswith(("simulator/", "tests/", ".ci/", "demo/")) or name in ("Makefile", "requirements-dev.txt", "ansible.cfg"):
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, name), destination)
    assert not (target / "tests" / "sanity").exists(), "no ignore files are allowed"
    _install_get_pip_standin()
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    completed = subprocess.run(
        [tool("ansible-test"), "sanity", "--local", "--requirements", "--python", version, "--color", "no"],
        cwd=target, capture_output=True, text=True, timeout=1500,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output[-12000:]
