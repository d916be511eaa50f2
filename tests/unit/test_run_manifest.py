"""The run manifest: written once per play, one file per slice, read back as the union of a run's slices."""

from __future__ import annotations

import json
import os
import time

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _run_manifest as manifest

WHEN = "2026-11-28T10:00:00Z"


def test_written_once_per_play_and_read_back(tmp_path):
    results_dir = str(tmp_path / "hosts")
    path = manifest.write(results_dir, "run-1", ["b", "a", "a"], "licensing_report", WHEN)
    assert path and os.path.dirname(path) == str(tmp_path / "runs")
    assert json.loads(open(path, encoding="utf-8").read())["hosts"] == ["a", "b"]
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    # The next batch of the same play has the same hosts: nothing is written again.
    assert manifest.write(results_dir, "run-1", ["a", "b"], "licensing_report", WHEN) is None
    assert manifest.expected_hosts(results_dir, "run-1") == ["a", "b"]


def test_slices_of_a_run_add_up_and_other_runs_are_ignored(tmp_path):
    results_dir = str(tmp_path / "hosts")
    manifest.write(results_dir, "wf-7", ["a", "c"], "licensing_report", WHEN)
    manifest.write(results_dir, "wf-7", ["b"], "licensing_report", WHEN)
    manifest.write(results_dir, "wf-7--x", ["z"], "licensing_report", WHEN)  # shares the file name prefix
    manifest.write(results_dir, "wf-6", ["old"], "licensing_report", WHEN)
    assert manifest.expected_hosts(results_dir, "wf-7") == ["a", "b", "c"]
    assert manifest.expected_hosts(results_dir, "wf-8") is None and manifest.expected_hosts(results_dir, None) is None
    assert manifest.expected_hosts(str(tmp_path / "elsewhere" / "hosts"), "wf-7") is None


def test_a_run_id_is_one_safe_file_name(tmp_path):
    path = manifest.write(str(tmp_path / "hosts"), "../../etc/x", ["a"], "licensing_report", WHEN)
    assert os.path.dirname(path) == str(tmp_path / "runs")
    assert manifest.expected_hosts(str(tmp_path / "hosts"), "../../etc/x") == ["a"]


def test_old_manifests_of_other_runs_are_pruned(tmp_path):
    results_dir = str(tmp_path / "hosts")
    old = manifest.write(results_dir, "last-year", ["a"], "licensing_report", WHEN)
    recent = manifest.write(results_dir, "yesterday", ["a"], "licensing_report", WHEN)
    stamp = time.time() - manifest.KEEP_SECONDS - 60
    os.utime(old, (stamp, stamp))
    manifest.write(results_dir, "today", ["a"], "licensing_report", WHEN)
    assert not os.path.exists(old) and os.path.exists(recent)


def test_a_damaged_manifest_is_named_with_the_fix(tmp_path):
    results_dir = str(tmp_path / "hosts")
    path = manifest.write(results_dir, "run-1", ["a"], "licensing_report", WHEN)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("{half")
    with pytest.raises(ValueError, match="is not a run manifest.*run licensing_report again"):
        manifest.expected_hosts(results_dir, "run-1")
    assert manifest.write(results_dir, "run-1", ["a"], "licensing_report", WHEN) == path  # the fix the message names
    assert manifest.expected_hosts(results_dir, "run-1") == ["a"]
