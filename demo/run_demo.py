"""make demo: the whole story on a simulated fleet of about 20 hosts (every preset, a license
server, an unreachable host): grace report, drift check, configure Per User, drift check again,
MSLicensing reset with backup, license server report, the licensing diagnosis of broken
configurations (one per diagnosis preset, left unconfigured), and the fleet report files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BIN = os.path.dirname(sys.executable)
WORK = os.path.join(ROOT, ".build", "demo")
SCENARIOS = ["fresh", "per_device", "per_user", "gpo_conflict", "grace_expiring", "grace_expired", "client_cache",
             "license_server", "license_server+unactivated", "ws2012r2", "per_user+ws2016", "per_device+ws2019",
             "fresh+ws2025", "per_user+ws2022", "fresh", "grace_expiring+ws2019", "client_cache", "per_user",
             "fresh+ws2016", "per_user"]
# Broken configurations the diagnosis must name, and the license servers they point at.
DIAGNOSIS_SCENARIOS = ["license_server+lsrv_main", "license_server+lsrv_unactivated", "license_server+lsrv_device_only",
                       "license_server+lsrv_old_cals", "license_server+lsrv_not_in_group", "license_server+lsrv_full",
                       "license_server+lsrv_overused", "diag_unreachable", "diag_not_activated", "diag_wrong_cal_type",
                       "diag_old_cals", "diag_old_server", "diag_not_in_group", "diag_no_cals_left", "diag_overuse",
                       "diag_grace_no_server", "diag_workgroup_per_user", "diag_gpo_retired", "diag_status_unknown"]
# configure_licensing leaves the broken configurations alone so that the diagnosis can name them.
CONFIGURED = "rds_session_hosts:!scenario_diag_*"
UNREACHABLE = "per-user-20"
BASELINE = {"mode": "per_user", "license_servers": ["ls01.example.test", "ls02.example.test"],
            "forbid_policy_conflicts": True}


def tool(name: str) -> str:
    return os.path.join(BIN, name)


def playbook(name: str, inventory: str, extra: dict, *args: str) -> subprocess.CompletedProcess:
    """Run one of the collection's playbooks; a failed host is part of the story, not a crash."""
    command = [tool("ansible-playbook"), "-i", inventory, f"remote_desktop.licensing.{name}", "-e", json.dumps(extra), *args]
    started = time.monotonic()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    recap = completed.stdout[completed.stdout.rfind("PLAY RECAP"):].strip().splitlines()[1:]
    counts = {"hosts": 0, "changed": 0, "failed": 0, "unreachable": 0}
    for line in recap:
        fields = dict(field.split("=") for field in line.split()[2:] if "=" in field)
        counts["hosts"] += 1
        for key in ("changed", "failed", "unreachable"):
            counts[key] += int(fields.get(key, 0)) > 0
    print(f"\n== {name} {' '.join(args)}: {counts['hosts']} hosts, {counts['changed']} changed, "
          f"{counts['failed']} failed, {counts['unreachable']} unreachable ({time.monotonic() - started:.1f} s)")
    return completed


def drifted(results_dir: str) -> dict[str, list[str]]:
    found = {}
    for name in sorted(os.listdir(results_dir)):
        with open(os.path.join(results_dir, name), encoding="utf-8") as handle:
            result = json.load(handle)
        if result["drift"]:
            found[result["host"]] = sorted(item["setting"] for item in result["drift"])
    return found


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    fleet_dir = os.path.join(WORK, "fleet")
    command = [tool("rds-sim"), "up", "--dir", fleet_dir, "--hosts", str(len(SCENARIOS + DIAGNOSIS_SCENARIOS)),
               "--fault", f"{UNREACHABLE}=refused"]
    for scenario in SCENARIOS + DIAGNOSIS_SCENARIOS:
        command += ["--scenario", scenario]
    subprocess.run(command, cwd=ROOT, check=True)
    inventory = os.path.join(fleet_dir, "inventory.yml")
    started = time.monotonic()
    try:
        playbook("grace_report", inventory, {"grace_report_results_dir": os.path.join(WORK, "grace")})
        playbook("drift_check", inventory, {"drift_check_baseline": BASELINE,
                                            "drift_check_results_dir": os.path.join(WORK, "drift-before")}, "--check")
        print("   drift before:", json.dumps(drifted(os.path.join(WORK, "drift-before")), indent=None))
        playbook("configure_licensing", inventory, {"configure_licensing_license_servers": BASELINE["license_servers"],
                                                    "target_hosts": CONFIGURED, "configure_licensing_backup": True,
                                                    "configure_licensing_backup_dir": os.path.join(WORK, "backups")},
                 "--diff")
        playbook("drift_check", inventory, {"drift_check_baseline": BASELINE,
                                            "drift_check_results_dir": os.path.join(WORK, "drift-after")})
        print("   drift after: ", json.dumps(drifted(os.path.join(WORK, "drift-after")), indent=None))
        playbook("mslicensing_reset", inventory, {"mslicensing_reset_backup_dir": os.path.join(WORK, "backups")})
        playbook("license_server_report", inventory,
                 {"license_server_report_results_dir": os.path.join(WORK, "license-servers")})
        report_dir = os.path.join(WORK, "report")
        # One run id for both, so that the report combines each host's diagnosis with its licensing result; the
        # unreachable host is part of the story, so the report job tolerates it (and says so).
        run_id = time.strftime("demo-%Y%m%dT%H%M%SZ", time.gmtime())
        playbook("diagnose", inventory, {"report_dir": report_dir, "run_id": run_id})
        playbook("licensing_report", inventory, {"report_dir": report_dir, "baseline": BASELINE, "target_hosts": "all",
                                                 "run_id": run_id, "tolerate_unread_hosts": True})
        stats = json.loads(subprocess.run([tool("rds-sim"), "stats", "--dir", fleet_dir], check=True,
                                          capture_output=True, text=True).stdout)
    finally:
        subprocess.run([tool("rds-sim"), "down", "--dir", fleet_dir], cwd=ROOT, capture_output=True)
    with open(os.path.join(report_dir, "report.json"), encoding="utf-8") as handle:
        document = json.load(handle)
    summary = document["summary"]
    backups = sorted(os.path.relpath(os.path.join(path, name), ROOT)
                     for path, _dirs, names in os.walk(os.path.join(WORK, "backups")) for name in names)
    print("\n== Summary")
    print(f"   {summary['hosts']} hosts, {summary['reachable']} read, unreachable: {', '.join(summary['unreachable']) or 'none'}")
    print(f"   modes: {summary['by_mode']}")
    print(f"   grace classes: {summary['by_grace_class']}; critical: {', '.join(summary['critical_hosts']) or 'none'} "
          f"(by grace class {len(summary['critical_by_grace'])}, by diagnosis {len(summary['critical_by_diagnosis'])})")
    print(f"   still drifting after configure: {', '.join(summary['drifted_hosts']) or 'none'}")
    diagnosis = document.get("diagnosis") or {"by_state": {}, "findings": []}
    print(f"   diagnosis: {diagnosis['by_state']}")
    for entry in diagnosis["findings"]:
        print(f"     {entry['severity']:8} {entry['id']}: {', '.join(entry['hosts'])}")
    print(f"   {len(backups)} verified backups, e.g. {backups[0] if backups else '-'}")
    print(f"   WinRM commands: {sum(host['commands'] for host in stats.values())}, "
          f"registry writes: {sum(host['writes'] for host in stats.values())}, "
          f"whole story: {time.monotonic() - started:.0f} s")
    print("\n== Reports")
    for name in ("report.html", "report.csv", "diagnosis.csv", "cal_capacity.csv", "report.md", "report.json"):
        print("   " + os.path.relpath(os.path.join(report_dir, name), ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
