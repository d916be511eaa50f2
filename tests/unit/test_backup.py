"""Backups on the controller: layout, permissions, verification, clear failures."""

from __future__ import annotations

import datetime
import os
import stat

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _backup as backup
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile as regfile
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey

KEYS = [RegKey("HKEY_LOCAL_MACHINE\\SOFTWARE\\X", values={"A": ("dword", 1), "B": None})]
MOMENT = datetime.datetime(2026, 11, 28, 10, 15, 0, tzinfo=datetime.timezone.utc)


def test_layout_mode_and_content(tmp_path):
    saved = backup.save(str(tmp_path), "rdsh01.example.com", "licensing-mode", KEYS, ["made by a test"], MOMENT)
    assert saved["backup_file"] == str(tmp_path / "rdsh01.example.com" / "licensing-mode-20261128T101500Z.reg")
    assert stat.S_IMODE(os.stat(saved["backup_file"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "rdsh01.example.com").st_mode) == 0o700
    with open(saved["backup_file"], "rb") as handle:
        raw = handle.read()
    assert regfile.parse(regfile.decode(raw)) == KEYS
    assert saved["size"] == len(raw) and "; made by a test" in saved["content"]


def test_a_second_backup_in_the_same_second_gets_its_own_file(tmp_path):
    first = backup.save(str(tmp_path), "h", "registry-values", KEYS, [], MOMENT)["backup_file"]
    second = backup.save(str(tmp_path), "h", "registry-values", KEYS, [], MOMENT)["backup_file"]
    assert first != second and second.endswith("-20261128T101500Z-2.reg")


def test_host_names_cannot_escape_the_backup_dir(tmp_path):
    saved = backup.save(str(tmp_path), "../../etc", "x", KEYS, [], MOMENT)
    assert os.path.dirname(saved["backup_file"]) == str(tmp_path / ".._.._etc")


def test_unwritable_backup_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(backup.BackupError, match="Set backup_dir to a directory the controller user can write; nothing was changed"):
        backup.save(str(blocker), "h", "x", KEYS, [], MOMENT)


def test_32bit_view_keys_are_named_as_regedit_names_them():
    assert backup.file_key_path("SOFTWARE\\Microsoft\\MSLicensing", 32) == \
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Microsoft\\MSLicensing"
    assert backup.file_key_path("SYSTEM\\X", 32) == "HKEY_LOCAL_MACHINE\\SYSTEM\\X"
    assert backup.slug("Licensing Core") == "licensing-core"
