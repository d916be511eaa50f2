# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

JSON files the controller writes for later runs to read (per-host results, run manifests).
"""

from __future__ import annotations

import json
import os
import tempfile
import typing as t


def write_json(path: str, document: t.Any) -> None:
    """Write atomically (a reader never sees half a file), readable by the owner only."""
    handle, temporary = tempfile.mkstemp(prefix=".result-", dir=os.path.dirname(path))
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2, sort_keys=True, default=str)
            stream.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
