"""What Galaxy and Automation Hub check before they publish the collection: galaxy-importer on the
built tarball, antsibull-docs' documentation lint, a docsite build, and the changelog fragments."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess

import pytest

from tests.helpers.paths import ROOT, tool

pytestmark = pytest.mark.slow

# Links to docs.ansible.com and to other collections resolve through intersphinx, which cannot be
# reached offline; a missing label of this collection is still an error.
EXTERNAL_LABEL = re.compile(r"undefined label: '(?!ansible_collections\.remote_desktop\.licensing\.)[^']+'")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "collections"))
    env["PATH"] = os.path.dirname(tool("ansible-doc")) + os.pathsep + env.get("PATH", "")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    subprocess.run([tool("ansible-galaxy"), "collection", "build", "--output-path", str(out), ROOT],
                   check=True, capture_output=True, text=True, timeout=300)
    (artifact,) = glob.glob(str(out / "remote_desktop-licensing-*.tar.gz"))
    return artifact


def test_galaxy_importer_finds_nothing_to_complain_about(tarball, tmp_path):
    config = tmp_path / "galaxy-importer.cfg"
    # ansible-test needs a container engine here; it runs as its own static test (test_ansible_test_sanity).
    config.write_text("[galaxy-importer]\nRUN_ANSIBLE_TEST = False\nRUN_ANSIBLE_LINT = True\nRUN_FLAKE8 = True\n"
                      "CHECK_CHANGELOG = True\nOFFLINE_ANSIBLE_LINT = True\nREQUIRE_V1_OR_GREATER = False\n")
    done = subprocess.run([tool("python"), "-m", "galaxy_importer.main", tarball], cwd=tmp_path,
                          env=_env(GALAXY_IMPORTER_CONFIG=str(config)), capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Importer processing completed successfully" in output
    complaints = [line for line in output.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert complaints == [], "\n".join(complaints)


def test_antsibull_docs_lint_is_clean():
    done = subprocess.run([tool("antsibull-docs"), "lint-collection-docs", "--plugin-docs", "."], cwd=ROOT,
                          env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_docsite_builds_without_warnings(tmp_path):
    site = tmp_path / "docsite"
    # antsibull-docs writes only into existing directories that nobody else can write to.
    (site / "rst").mkdir(parents=True, mode=0o755)
    subprocess.run([tool("antsibull-docs"), "sphinx-init", "--use-current", "--dest-dir", str(site),
                    "remote_desktop.licensing"], check=True, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300)
    subprocess.run([tool("antsibull-docs"), "--config-file", str(site / "antsibull-docs.cfg"), "collection",
                    "--use-current", "--dest-dir", str(site / "rst"), "remote_desktop.licensing"],
                   check=True, cwd=site, env=_env(), capture_output=True, text=True, timeout=600)
    done = subprocess.run([tool("sphinx-build"), "-M", "html", "rst", "build", "-c", ".", "--keep-going"],
                          cwd=site, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line
                and not EXTERNAL_LABEL.search(line) and "failed to reach any of the inventories" not in line
                and not line.strip().startswith(("- ", "intersphinx"))]
    assert warnings == [], "\n".join(warnings)
    assert (site / "build" / "html" / "collections" / "remote_desktop" / "licensing" / "index.html").exists()


def test_changelog_fragments_lint_clean():
    if shutil.which("antsibull-changelog", path=os.path.dirname(tool("ansible-doc"))) is None:
        pytest.fail("antsibull-changelog is not installed (requirements-dev.txt)")
    done = subprocess.run([tool("antsibull-changelog"), "lint"], cwd=ROOT, env=_env(),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
