"""Make the collection importable as ansible_collections.remote_desktop.licensing in every test."""

from __future__ import annotations

import os
import sys

from tests.helpers.paths import COLLECTIONS_PATH, ROOT

_link = os.path.join(COLLECTIONS_PATH, "ansible_collections", "remote_desktop", "licensing")
if not os.path.exists(_link):
    os.makedirs(os.path.dirname(_link), exist_ok=True)
    os.symlink(os.path.relpath(ROOT, os.path.dirname(_link)), _link)
if COLLECTIONS_PATH not in sys.path:
    sys.path.insert(0, COLLECTIONS_PATH)
os.environ.setdefault("ANSIBLE_CONFIG", os.path.join(ROOT, "ansible.cfg"))
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
