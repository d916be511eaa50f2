# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The run manifest: which hosts a run (or one slice of a sliced job) was meant to read, so that the
fleet report can list a host without a result when it renders with no inventory. Each play writes
<report_dir>/runs/<run_id>--<digest of its hosts>.json once; slices of one run (same run_id,
different hosts) write different files, so concurrent slices never overwrite each other, and the
report covers the union of every manifest of its run.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _controller_files, _paths

DIRECTORY = "runs"
FORMAT = 1
# Manifests of other runs are removed when a run writes its own and they are older than this.
KEEP_SECONDS = 30 * 24 * 3600


def directory(results_dir: str) -> str:
    """The manifests' directory: beside the per-host results directory (report_dir/hosts -> report_dir/runs)."""
    return os.path.join(os.path.dirname(os.path.normpath(results_dir)), DIRECTORY)


def _prefix(run_id: str) -> str:
    return f"{_paths.host_file_name(run_id)}--"


def write(results_dir: str, run_id: str, hosts: t.Iterable[str], kind: str, written_at: str) -> str | None:
    """Save this play's host list once: the path written, or None when the same manifest is there already."""
    names = sorted(set(str(host) for host in hosts))
    digest = hashlib.sha256("\n".join(names).encode("utf-8")).hexdigest()[:16]
    folder = directory(results_dir)
    path = os.path.join(folder, f"{_prefix(run_id)}{digest}.json")
    if _read(path).get("hosts") == names:  # every later batch of the same play: nothing new to say
        return None
    os.makedirs(folder, mode=0o700, exist_ok=True)
    _controller_files.write_json(path, {"format": FORMAT, "run_id": run_id, "kind": kind, "written_at": written_at,
                                        "hosts": names})
    _prune(folder, run_id)
    return path


def _read(path: str) -> dict[str, t.Any]:
    """A manifest's content; empty when it is absent or damaged (then written again)."""
    try:
        with open(path, encoding="utf-8") as handle:
            content = json.load(handle)
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


def _prune(folder: str, run_id: str) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        try:
            if name.endswith(".json") and not name.startswith(_prefix(run_id)) and os.path.getmtime(path) < cutoff:
                os.unlink(path)
        except OSError:  # another run pruned it first
            continue


def expected_hosts(results_dir: str, run_id: str | None) -> list[str] | None:
    """Every host the run's manifests list (the union over its slices), or None when the run saved none."""
    folder = directory(results_dir)
    if not run_id or not os.path.isdir(folder):
        return None
    hosts: set[str] = set()
    found = False
    for name in sorted(os.listdir(folder)):
        if not (name.startswith(_prefix(run_id)) and name.endswith(".json")):
            continue
        path = os.path.join(folder, name)
        try:
            with open(path, encoding="utf-8") as handle:
                manifest = json.load(handle)
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path} is not a run manifest: {exc}. Remove it (the report then covers the hosts with a saved "
                             f"result), or run licensing_report again with the same run_id, which writes it again.") from None
        if isinstance(manifest, dict) and manifest.get("run_id") == run_id and isinstance(manifest.get("hosts"), list):
            hosts.update(str(host) for host in manifest["hosts"])
            found = True
    return sorted(hosts) if found else None
