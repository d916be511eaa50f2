# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Backups on the controller: one regedit-compatible .reg file per backup, at
``<backup_dir>/<inventory_hostname>/<slug>-<UTC timestamp>.reg`` (directories 0700, file 0600),
verified by reading the written file back and parsing it before anything is changed on the host.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import tempfile
import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _controller_paths, _regfile
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._paths import host_file_name
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey

# Backups live outside any collection, so that reinstalling or upgrading the collection
# (ansible-galaxy collection install --force) cannot delete them.
DEFAULT_DIR = os.path.join(_controller_paths.DEFAULT_BASE, "backups")


class BackupError(Exception):
    """The backup could not be written or did not read back the same; nothing was changed."""


def file_key_path(subpath: str, view: int) -> str:
    """The key as regedit names it in an export: the 32-bit view of SOFTWARE is WOW6432Node."""
    parts = subpath.split("\\")
    if view == 32 and parts[0].lower() == "software" and not (len(parts) > 1 and parts[1].lower() == "wow6432node"):
        parts = [parts[0], "WOW6432Node", *parts[1:]]
    return _regfile.HIVE + "\\" + "\\".join(parts)


def slug(text: str) -> str:
    """A file-name-safe form of a key or task name: 'Licensing Core' -> 'licensing-core'."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return cleaned[:60] or "registry"


def default_dir() -> str:
    return os.path.expanduser(DEFAULT_DIR)


def check_dir(backup_dir: str, option: str = "backup_dir") -> str:
    """The absolute backup directory; refused when it lies inside an installed collection, where a
    collection upgrade or a discarded execution-environment container would take the backups with it."""
    absolute = os.path.abspath(os.path.expanduser(backup_dir))
    if _controller_paths.inside_collection(absolute):
        raise BackupError(
            f"{option} {absolute} is inside an installed collection (ansible_collections directory), where "
            "reinstalling or upgrading the collection deletes the backups. Nothing was changed on the host. "
            f"Set {option} (a role's <role>_backup_dir variable) to a directory outside any collection, "
            f"or leave it unset for {DEFAULT_DIR}."
        )
    return absolute


def host_dir(backup_dir: str, inventory_hostname: str) -> str:
    """Where a host's backups are: <backup_dir>/<inventory_hostname as one safe path component>."""
    return os.path.join(backup_dir, host_file_name(inventory_hostname))


def save(backup_dir: str, inventory_hostname: str, name: str, keys: list[RegKey], comments: list[str],
         now: datetime.datetime | None = None) -> dict[str, t.Any]:
    """Write, re-read and verify one backup; returns backup_file, checksum (sha256), size and content."""
    moment = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    directory = host_dir(check_dir(backup_dir), inventory_hostname)
    # The source host comes first, so that registry_restore can tell a file taken on another host.
    problem = unrepresentable(keys)
    if problem:
        raise BackupError(f"{problem}, which a .reg file cannot represent; nothing was changed on the host. "
                          "Rename or remove it on the host (regedit), then run again")
    text = _regfile.render(keys, [_regfile.source_host_comment(inventory_hostname), *comments])
    raw = _regfile.encode(text)
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        path = _create_exclusive(directory, f"{slug(name)}-{moment}", raw)
        with open(path, "rb") as handle:
            written = handle.read()
    except OSError as exc:
        raise BackupError(
            f"could not write the backup under {directory}: {exc.strerror or exc}. "
            "Set backup_dir to a directory the controller user can write; nothing was changed on the host."
        ) from None
    if written != raw or _regfile.parse(_regfile.decode(written)) != keys:
        raise BackupError(f"the backup {path} did not read back as written; nothing was changed on the host")
    return {"backup_file": path, "checksum": hashlib.sha256(written).hexdigest(), "size": len(written), "content": text}


def _create_exclusive(directory: str, stem: str, raw: bytes) -> str:
    """A new 0600 file, whole or not at all: written under a temporary name, flushed to disk, then given its
    final name with a hard link (which never replaces a file); a second backup within the same second gets
    a -2, -3, ... suffix. On a full disk no truncated file is left under a backup's name."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{stem}.", suffix=".partial", dir=directory)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        for attempt in range(1, 1000):
            path = os.path.join(directory, f"{stem}{'' if attempt == 1 else f'-{attempt}'}.reg")
            try:
                os.link(temporary, path)
            except FileExistsError:
                continue
            return path
        raise BackupError(f"too many backups named {stem} in {directory}")
    finally:
        os.unlink(temporary)


def unrepresentable(keys: list[RegKey]) -> str | None:
    """The first key or value name a .reg file cannot hold (a line break would end the line: `reg import` would
    read the rest as new lines, such as [-HKEY_LOCAL_MACHINE\\SOFTWARE]), or None."""
    for key in keys:
        if "\r" in key.path or "\n" in key.path:
            return f"the key {key.path!r} has a line break in its name"
        for name in key.values:
            if "\r" in name or "\n" in name:
                return f"the value {name!r} under {key.path} has a line break in its name"
    return None
