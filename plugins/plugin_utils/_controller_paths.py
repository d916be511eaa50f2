# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Where controller-side data (reports, per-host results) may go: never inside an installed
collection, which `ansible-galaxy collection install --force` replaces and an execution
environment throws away with its container.
"""

from __future__ import annotations

import os

# The documented default base directory; reports go under reports/, backups under backups/.
DEFAULT_BASE = "~/.ansible/remote_desktop.licensing"


class InsideCollectionError(ValueError):
    pass


def inside_collection(path: str) -> bool:
    """Whether the path lies in an ansible_collections/ tree (as written, or once symlinks are resolved)."""
    absolute = os.path.abspath(os.path.expanduser(path))
    return any("ansible_collections" in candidate.split(os.sep) for candidate in (absolute, os.path.realpath(absolute)))


def refuse_inside_collection(path: str, variable: str) -> str:
    """The absolute path, or an error naming the variable to set when it is inside a collection."""
    if inside_collection(path):
        raise InsideCollectionError(
            f"{variable} is {path}, inside an installed collection (an ansible_collections directory): files there are "
            f"deleted when the collection is reinstalled or upgraded. Set {variable} to a directory outside it, or leave "
            f"it unset for the default under {DEFAULT_BASE}.")
    return os.path.abspath(os.path.expanduser(path))
