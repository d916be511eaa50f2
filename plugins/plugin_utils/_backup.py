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
import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey

# Where backups go when the task does not say: a "backup" folder beside the playbook, as the
# network collections' backup option does.
DEFAULT_DIR_NAME = "backup"


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


def default_dir(task_vars: dict[str, t.Any]) -> str:
    return os.path.join(task_vars.get("playbook_dir") or os.getcwd(), DEFAULT_DIR_NAME)


def _host_dir_name(inventory_hostname: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", inventory_hostname) or "host"


def save(backup_dir: str, inventory_hostname: str, name: str, keys: list[RegKey], comments: list[str],
         now: datetime.datetime | None = None) -> dict[str, t.Any]:
    """Write, re-read and verify one backup; returns backup_file, checksum (sha256), size and content."""
    moment = (now or datetime.datetime.now(datetime.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    directory = os.path.join(os.path.abspath(os.path.expanduser(backup_dir)), _host_dir_name(inventory_hostname))
    text = _regfile.render(keys, comments)
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
    """A new 0600 file; a second backup within the same second gets a -2, -3, ... suffix."""
    for attempt in range(1, 1000):
        path = os.path.join(directory, f"{stem}{'' if attempt == 1 else f'-{attempt}'}.reg")
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(raw)
        return path
    raise BackupError(f"too many backups named {stem} in {directory}")
