"""The built collection installs and ansible-doc shows its modules; test and simulator files stay out."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import tarfile

import yaml

from tests.helpers.paths import ROOT, tool


def test_build_install_and_document(tmp_path):
    subprocess.run([tool("ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(tmp_path)],
                   check=True, capture_output=True, text=True, timeout=300)
    (artifact,) = glob.glob(str(tmp_path / "remote_desktop-licensing-*.tar.gz"))
    with tarfile.open(artifact) as archive:
        names = archive.getnames()
    assert "plugins/plugin_utils/_agent.ps1" in names and "plugins/action/licensing_info.py" in names
    assert not [name for name in names if name.startswith(("simulator", "tests", "extensions", "demo", ".venv", "."))]
    assert not {"pytest.ini", "Makefile", "requirements-dev.txt", "CONTRIBUTING.md", "docs/performance.md",
                "docs/lab-validation.md", "docs/powershell-lint.md"} & set(names)
    assert {"README.md", "LICENSE", "requirements.txt", "meta/runtime.yml", "schemas/fleet_report.schema.json",
            "docs/migrating-from-win_regedit.md", "changelogs/changelog.yaml"} <= set(names)
    install = tmp_path / "installed"
    # Away from this checkout's ansible.cfg, which points at the in-place collection.
    env = {**os.environ, "ANSIBLE_COLLECTIONS_PATH": str(install)}
    env.pop("ANSIBLE_CONFIG", None)
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        repository = yaml.safe_load(handle)["repository"]
    with open(os.path.join(ROOT, "schemas", "fleet_report.schema.json"), encoding="utf-8") as handle:
        assert json.load(handle)["$id"].startswith(repository + "/"), "the schema's $id must be under galaxy.yml's repository"
    subprocess.run([tool("ansible-galaxy"), "collection", "install", "--force", artifact, "-p", str(install)],
                   check=True, capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path)
    names = [f"remote_desktop.licensing.{module}" for module in MODULE_OPTIONS]
    doc = subprocess.run([tool("ansible-doc"), "--json", *names], cwd=tmp_path,
                         capture_output=True, text=True, env=env, timeout=300)
    assert doc.returncode == 0, doc.stderr
    documents = json.loads(doc.stdout)
    for module, options in MODULE_OPTIONS.items():
        documented = documents[f"remote_desktop.licensing.{module}"]["doc"]
        assert set(documented.get("options") or {}) == options, module
    # Each filter shows its own documentation (licensing_grace_class used to show licensing_drift's).
    filters = subprocess.run([tool("ansible-doc"), "--json", "-t", "filter", "remote_desktop.licensing.licensing_grace_class",
                              "remote_desktop.licensing.licensing_drift"], cwd=tmp_path, capture_output=True, text=True,
                             env=env, timeout=300)
    assert filters.returncode == 0, filters.stderr
    filter_docs = json.loads(filters.stdout)
    grace = filter_docs["remote_desktop.licensing.licensing_grace_class"]["doc"]
    assert grace["name"] == "licensing_grace_class" and "Classify" in grace["short_description"]
    assert set(grace["options"]) == {"_input", "warning_days", "critical_days", "diagnosis"}
    assert filter_docs["remote_desktop.licensing.licensing_drift"]["doc"]["name"] == "licensing_drift"


# Every module and its public options: a change here is a change of the collection's public surface.
MODULE_OPTIONS = {
    "licensing_info": {"gather_subset", "warning_days", "backup_dir", "options_from_role"},
    "license_server_info": {"backup_dir"},
    "licensing_mode": {"mode", "allow_aad_per_user", "license_servers", "clear_license_servers", "scope",
                       "policy_conflict", "restart", "backup", "backup_dir", "options_from_role"},
    "registry_values": {"values", "backup", "backup_dir"},
    "registry_backup": {"keys", "view", "name", "backup_dir", "remote_copy", "sensitive_values", "hide_values"},
    "registry_restore": {"src", "allow_other_host", "backup", "backup_dir", "max_file_size_kb", "sensitive_values", "hide_values"},
    "mslicensing": {"state", "views", "recreate_for_users", "backup_dir", "options_from_role"},
    "grace_period": {"state", "warning_days", "acknowledge_lab_use", "restart", "backup_dir", "options_from_role"},
    "licensing_baseline": {"baseline", "backup_dir", "options_from_role"},
    "licensing_diagnose": {"view", "license_server_views", "session_hosts", "domain", "warning_days", "critical_days",
                           "backup_dir", "options_from_role"},
    "batch_results": {"kind", "results", "results_dir", "results_dir_variable", "run_id", "run_hosts", "warning_days", "critical_days",
                      "restart_strategy", "backup_dir"},
    "fleet_report": {"results_dir", "hosts", "output_dir", "formats", "warning_days", "critical_days", "baseline", "run_id",
                     "stale", "backup_dir"},
}
