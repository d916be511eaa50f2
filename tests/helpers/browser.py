"""Headless chromium for the HTML reports: the page's DOM as the browser built it, with no console error, and a
screenshot kept under .build/test-artifacts. CI installs Debian's chromium and sets RDS_REQUIRE_BROWSER, so a missing
browser fails there instead of skipping."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.helpers.paths import ROOT

ARTIFACTS = os.path.join(ROOT, ".build", "test-artifacts")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


needs_browser = pytest.mark.skipif(not chromium() and not os.environ.get("RDS_REQUIRE_BROWSER"),
                                   reason="Debian's chromium is not installed (CI installs it and sets RDS_REQUIRE_BROWSER)")


def rendered_dom(html_file: str, profile_dir: str, screenshot: str, height: int) -> str:
    """The DOM chromium builds from html_file; asserts no console error and saves <ARTIFACTS>/<screenshot>."""
    assert chromium(), "RDS_REQUIRE_BROWSER is set but chromium is not installed"
    page = "file://" + str(html_file)
    flags = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile_dir}", "--enable-logging=stderr", "--v=0"]
    dom = subprocess.run([*flags, "--dump-dom", page], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-3000:]
    assert [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line] == []
    os.makedirs(ARTIFACTS, exist_ok=True)
    shot = os.path.join(ARTIFACTS, screenshot)
    if os.path.exists(shot):
        os.remove(shot)
    taken = subprocess.run([*flags, f"--screenshot={shot}", f"--window-size=1280,{height}", page],
                           capture_output=True, text=True, timeout=120)
    assert taken.returncode == 0 and os.path.getsize(shot) > 10_000, taken.stderr[-3000:]
    return dom.stdout
