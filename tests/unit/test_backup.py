"""Backups on the controller: layout, permissions, verification, clear failures."""

from __future__ import annotations

import datetime
import errno
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
    assert os.path.dirname(saved["backup_file"]) == str(tmp_path / "%2E.%2F..%2Fetc")


def test_each_host_name_gets_its_own_directory_inside_the_backup_dir(tmp_path):
    names = ["..", ".", "a/b", "a\\b", "a_b", "CON", "con.txt", "x%2Fy", "../escape", ""]
    dirs = [os.path.dirname(backup.save(str(tmp_path), name, "x", KEYS, [], MOMENT)["backup_file"]) for name in names]
    assert len(set(dirs)) == len(names)
    for directory in dirs:
        assert os.path.dirname(directory) == str(tmp_path)
        assert os.path.basename(directory) not in (".", "..") and not os.path.basename(directory).upper().startswith("CON")


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


def test_the_default_directory_is_outside_any_collection_under_the_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert backup.default_dir() == str(tmp_path / ".ansible" / "remote_desktop.licensing" / "backups")
    saved = backup.save(backup.default_dir(), "rdsh01", "mslicensing", KEYS, [], MOMENT)
    assert saved["backup_file"] == str(tmp_path / ".ansible" / "remote_desktop.licensing" / "backups" / "rdsh01"
                                       / "mslicensing-20261128T101500Z.reg")


def test_a_directory_inside_an_installed_collection_is_refused_before_writing(tmp_path):
    inside = tmp_path / "collections" / "ansible_collections" / "remote_desktop" / "licensing" / "backup"
    with pytest.raises(backup.BackupError, match=r"inside an installed collection .*Nothing was changed on the host\. "
                                                 r"Set backup_dir .* outside any collection"):
        backup.save(str(inside), "h", "x", KEYS, [], MOMENT)
    assert not (tmp_path / "collections").exists()


def test_a_symlink_into_an_installed_collection_is_refused(tmp_path):
    target = tmp_path / "ansible_collections" / "ns" / "name"
    target.mkdir(parents=True)
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(backup.BackupError, match="inside an installed collection"):
        backup.check_dir(str(tmp_path / "link" / "backup"))


def test_a_name_that_only_contains_the_word_is_accepted(tmp_path):
    assert backup.check_dir(str(tmp_path / "my_ansible_collections_backups")) == str(tmp_path / "my_ansible_collections_backups")


def test_every_backup_names_its_source_host_in_a_comment_regedit_ignores(tmp_path):
    saved = backup.save(str(tmp_path), "pc-07.example.com", "mslicensing", KEYS, ["made by a test"], MOMENT)
    assert saved["content"].startswith("Windows Registry Editor Version 5.00\r\n\r\n; Source host: pc-07.example.com\r\n")
    assert regfile.source_host(saved["content"]) == "pc-07.example.com"
    assert regfile.parse(saved["content"]) == KEYS


def test_a_full_disk_leaves_no_file_under_a_backup_name(tmp_path, monkeypatch):
    def full(_descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup.os, "fsync", full)
    with pytest.raises(backup.BackupError, match="No space left on device.*nothing was changed"):
        backup.save(str(tmp_path), "h", "x", KEYS, [], MOMENT)
    assert os.listdir(tmp_path / "h") == []


@pytest.mark.parametrize("keys, words", [
    ([RegKey("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\MSLicensing\\Store\r\n[-HKEY_LOCAL_MACHINE]", values={})],
     "the key .* has a line break in its name"),
    ([RegKey("HKEY_LOCAL_MACHINE\\SOFTWARE\\Example", values={"one\ntwo": ("string", "x")})],
     "the value 'one\\\\ntwo' .* has a line break"),
])
def test_a_name_a_reg_file_cannot_hold_fails_the_backup_before_anything_is_written(tmp_path, keys, words):
    with pytest.raises(backup.BackupError, match=words + ".*cannot represent; nothing was changed"):
        backup.save(str(tmp_path), "h", "x", keys, [], MOMENT)
    assert not (tmp_path / "h").exists() or os.listdir(tmp_path / "h") == []
