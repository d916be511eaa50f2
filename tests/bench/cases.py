"""What `make bench` runs: the floor, ours and the peer, each as one command over a whole fleet."""

from __future__ import annotations

import json
import os
import sys
import typing as t

HERE = os.path.dirname(os.path.abspath(__file__))
PLAYBOOKS = os.path.join(HERE, "playbooks")


class Case(t.NamedTuple):
    name: str
    side: str  # floor, ours or peer
    what: str  # one line for the table's legend
    playbook: str | None = None  # a file under tests/bench/playbooks, or a shipped playbook's FQCN
    args: tuple[str, ...] = ()
    extra_vars: t.Mapping[str, t.Any] = {}
    # powershell.exe processes a host starts per WinRM command beyond the command's own (win_shell: one more)
    extra_starts_per_host: int = 0
    # For a shipped playbook: the case that runs its one per-host module alone (the table's "x module")
    module_case: str | None = None


CASES: tuple[Case, ...] = (
    Case("floor_raw", "floor", "ansible.builtin.raw `echo ok` over winrm", "floor_raw.yml"),
    Case("floor_pywinrm", "floor", "plain pywinrm `hostname`, no Ansible"),
    Case("ours_info", "ours", "licensing_info (the whole report, one task)", "ours_info.yml"),
    Case("ours_mode_check", "ours", "licensing_mode per_user + 1 server, --check", "ours_mode.yml", ("--check",)),
    Case("peer_audit", "peer", "4 x win_reg_stat + win_shell GetGracePeriodDays", "peer_audit.yml",
         extra_starts_per_host=1),
    Case("peer_change_check", "peer", "2 x win_regedit (mode, server), --check", "peer_change.yml", ("--check",)),
    # The one per-host module of each shipped playbook, alone (licensing_info and licensing_mode are above).
    Case("ours_baseline_check", "ours", "licensing_baseline (drift_check's task), --check", "ours_baseline.yml", ("--check",)),
    Case("ours_grace_reset_check", "ours", "grace_period state=reset (grace_reset's task), --check", "ours_grace_reset.yml",
         ("--check",)),
    Case("ours_mslicensing_check", "ours", "mslicensing (mslicensing_reset's task), --check", "ours_mslicensing.yml",
         ("--check",)),
    Case("ours_license_server", "ours", "license_server_info (license_server_report's task)", "ours_license_server.yml"),
    Case("ours_diagnose", "ours", "licensing_diagnose (diagnose's task on a session host)", "ours_diagnose.yml"),
    Case("pb_licensing_report", "ours", "playbook licensing_report (result files, set_stats, fleet report)",
         "remote_desktop.licensing.licensing_report", extra_vars={"report_dir": "{run_dir}/report"}, module_case="ours_info"),
    Case("pb_grace_report", "ours", "playbook grace_report", "remote_desktop.licensing.grace_report", module_case="ours_info"),
    Case("pb_drift_check", "ours", "playbook drift_check, --check", "remote_desktop.licensing.drift_check", ("--check",),
         module_case="ours_baseline_check"),
    Case("pb_configure_licensing", "ours", "playbook configure_licensing, --check",
         "remote_desktop.licensing.configure_licensing", ("--check",),
         {"configure_licensing_license_servers": ["ls01.example.com"]}, module_case="ours_mode_check"),
    Case("pb_mslicensing_reset", "ours", "playbook mslicensing_reset, --check",
         "remote_desktop.licensing.mslicensing_reset", ("--check",), module_case="ours_mslicensing_check"),
    Case("pb_grace_reset", "ours", "playbook grace_reset, --check",
         "remote_desktop.licensing.grace_reset", ("--check",), {"grace_reset_acknowledge_lab_use": True},
         module_case="ours_grace_reset_check"),
    Case("pb_license_server_report", "ours", "playbook license_server_report",
         "remote_desktop.licensing.license_server_report", module_case="ours_license_server"),
    Case("pb_diagnose", "ours", "playbook diagnose (one result file per host)", "remote_desktop.licensing.diagnose",
         extra_vars={"report_dir": "{run_dir}/report"}, module_case="ours_diagnose"),
)
# The smoke in the normal test suite: one of each kind, and one shipped playbook.
SMOKE_CASES = ("floor_raw", "floor_pywinrm", "ours_info", "ours_mode_check", "peer_audit", "peer_change_check",
               "pb_licensing_report")
BY_NAME = {case.name: case for case in CASES}


def command(case: Case, tool_dir: str, inventory: str, fleet_dir: str, run_dir: str, forks: int) -> list[str]:
    """The command line of one run; every playbook targets every host of the fleet."""
    if case.playbook is None:
        return [sys.executable, os.path.join(HERE, "pywinrm_floor.py"), "--fleet", fleet_dir, "--forks", str(forks)]
    playbook = case.playbook if "." in case.playbook and not case.playbook.endswith(".yml") else \
        os.path.join(PLAYBOOKS, case.playbook)
    extra = {"target_hosts": "all", **{key: value.format(run_dir=run_dir) if isinstance(value, str) else value
                                       for key, value in case.extra_vars.items()}}
    return [os.path.join(tool_dir, "ansible-playbook"), "-i", inventory, "--forks", str(forks), playbook,
            "-e", json.dumps(extra), *case.args]
