"""The collection's playbooks and roles over a mixed simulated fleet: drift detection that never
writes and answers the same with --check, configuration in batches, role argument validation."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.helpers.fleet import SimFleet, peer_collections_env, run_playbook

MIXED = ["fresh", "per_device", "gpo_conflict", "grace_expiring", "client_cache", "license_server"]
BASELINE = {"mode": "per_user", "license_servers": ["ls01.example.test"], "forbid_policy_conflicts": True}
CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("mixed")).up(len(MIXED), MIXED)
    yield fleet
    fleet.down()


def play(fleet, name, results_dir, args=(), **extra):
    """ansible-playbook remote_desktop.licensing.<name>; the role writes one JSON file per host."""
    return run_playbook(f"remote_desktop.licensing.{name}", fleet.inventory, str(results_dir), extra, args=list(args))


VOLATILE = ("read_at", "run_id", "saved_at")


def stable(results):
    """Saved results without when and by which run they were read."""
    return {host: {key: value for key, value in result.items() if key not in VOLATILE} for host, result in results.items()}


def recap(output):
    """{host: {ok, changed, failed, ...}} from the PLAY RECAP."""
    found = re.findall(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output, re.M)
    return {host: {"ok": int(ok), "changed": int(changed), "unreachable": int(down), "failed": int(failed)}
            for host, ok, changed, down, failed in found}


def drift_of(run):
    return {host: sorted(item["setting"] for item in result["drift"]) for host, result in run.results.items() if result["drift"]}


def test_drift_check_lists_exactly_what_differs_and_never_writes(fleet, tmp_path):
    fleet.reset_stats()
    options = {"drift_check_baseline": BASELINE}
    normal = play(fleet, "drift_check", tmp_path / "normal", drift_check_results_dir=str(tmp_path / "normal"), **options)
    checked = play(fleet, "drift_check", tmp_path / "check", ["--check"], drift_check_results_dir=str(tmp_path / "check"),
                   **options)
    assert normal.rc == 0 and checked.rc == 0, normal.output
    assert stable(normal.results) == stable(checked.results)
    assert all(result["read_at"] and result["run_id"] for result in normal.results.values())
    assert f"results saved in {tmp_path / 'normal'}" in normal.output
    # Without --check a read-only job changes nothing; with --check the drifting hosts are the changed ones.
    assert {host for host, counts in recap(normal.output).items() if counts["changed"]} == set()
    assert {host for host, counts in recap(checked.output).items() if counts["changed"]} == set(drift_of(checked))
    assert drift_of(normal) == {
        "fresh-01": ["license_servers", "mode"],
        "per-device-02": ["mode"],
        "gpo-conflict-03": ["license_servers", "license_servers_policy_conflict", "mode", "mode_policy_conflict"],
        "grace-expiring-04": ["license_servers", "mode"],
    }
    gpo = normal.results["gpo-conflict-03"]
    assert gpo["policy_controlled"] is True and all(item["gpo_overrides_local_fix"] for item in gpo["drift"])
    assert {item["source"] for item in gpo["drift"]} == {"policy"}
    assert normal.results["fresh-01"]["policy_controlled"] is False
    # Only Session Hosts are in the default group; nothing anywhere was written.
    assert set(normal.results) == {"fresh-01", "per-device-02", "gpo-conflict-03", "grace-expiring-04"}
    assert all(counters["writes"] == 0 for counters in fleet.stats().values())


def test_configure_then_only_the_policy_controlled_host_drifts(fleet, tmp_path):
    configured = play(fleet, "configure_licensing", tmp_path / "unused",
                      configure_licensing_license_servers=["ls01.example.test"])
    assert configured.rc != 0  # the GPO host fails by default: a local write would have no effect
    assert "gpo-conflict-03" in configured.output and "Group Policy sets LicensingMode" in configured.output
    assert fleet.value("fresh-01", CORE, "LicensingMode") == {"type": "dword", "data": 4}
    after = play(fleet, "drift_check", tmp_path / "after", drift_check_results_dir=str(tmp_path / "after"),
                 drift_check_baseline=BASELINE)
    assert list(drift_of(after)) == ["gpo-conflict-03"]


def test_role_argument_spec_rejects_a_bad_value_before_anything_runs(fleet, tmp_path):
    fleet.reset_stats()
    run = play(fleet, "configure_licensing", tmp_path / "unused", configure_licensing_mode="per_seat")
    assert run.rc != 0
    assert "value of configure_licensing_mode must be one of: per_user, per_device, aad_per_user, got: per_seat" in run.output
    assert all(counters["commands"] == 0 for counters in fleet.stats().values())


def test_a_number_as_license_server_is_a_clear_error_before_any_write(fleet, tmp_path):
    """An AWX Integer survey field or a bare YAML number: the module names it, no template error."""
    fleet.reset_stats()
    run = play(fleet, "configure_licensing", tmp_path / "unused", ["--check"], configure_licensing_license_servers=42)
    assert run.rc != 0
    assert "license_servers[0] '42' is not a valid license server name" in run.output, run.output
    assert "has no len()" not in run.output
    assert all(counters["writes"] == 0 for counters in fleet.stats().values())


def test_a_bad_value_of_one_host_fails_before_any_host_is_contacted(fleet, tmp_path):
    """The playbooks check the role variables once per batch, yet every host's own (inventory) values."""
    extra_inventory = tmp_path / "host_vars.yml"
    extra_inventory.write_text("all:\n  hosts:\n    grace-expiring-04:\n      grace_report_warning_days: lots\n")
    fleet.reset_stats()
    run = run_playbook("remote_desktop.licensing.grace_report", fleet.inventory, str(tmp_path / "unused"), {},
                       args=["-i", str(extra_inventory)])
    assert run.rc != 0
    assert "argument 'grace_report_warning_days' is of type str and we were unable to convert to int" in run.output
    assert "(item=1 host(s): grace-expiring-04)" in run.output, run.output
    assert all(counters["commands"] == 0 for counters in fleet.stats().values())


def test_each_playbook_runs_one_task_per_host(fleet, tmp_path):
    """Argument checks, the batch guard, summaries and files run once per batch: in the recap, every host
    but the one that ran the batch steps has exactly one task (the module)."""
    for name, args, extra in (("grace_report", [], {"grace_report_results_dir": str(tmp_path / "g")}),
                              ("drift_check", ["--check"], {}),
                              ("configure_licensing", ["--check"], {"configure_licensing_policy_conflict": "warn"}),
                              ("grace_reset", ["--check"], {"grace_reset_acknowledge_lab_use": True})):
        run = play(fleet, name, tmp_path / name, args, **extra)
        assert run.rc == 0, run.output
        counts = {host: int(ok) + int(skipped) for host, ok, skipped in
                  re.findall(r"^(\S+)\s+: ok=(\d+)\s.*skipped=(\d+)", run.output, re.M)}
        assert len(counts) == 4 and sorted(counts.values())[:-1] == [1, 1, 1], (name, counts)


def test_the_reboot_strategy_reboots_in_the_module_task_only_where_the_change_takes_effect(fleet, tmp_path):
    servers = {"configure_licensing_license_servers": ["ls01.example.test"], "configure_licensing_policy_conflict": "warn"}
    fleet.reset_host("per-device-02", "per_device")
    fleet.reset_host("gpo-conflict-03", "gpo_conflict")
    fleet.reset_stats()
    rebooting = run_playbook("remote_desktop.licensing.configure_licensing", fleet.inventory, str(tmp_path / "unused"),
                             {**servers, "configure_licensing_restart_strategy": "reboot"}, args=["--check"], env=peer_collections_env())
    assert rebooting.rc == 0, rebooting.output
    # No handler and no second task: the module's restart=reboot, in the one task per host.
    assert "RUNNING HANDLER" not in rebooting.output and "win_reboot" not in rebooting.output
    assert "per-device-02: licensing changed; host rebooted" in rebooting.output
    # Group Policy overrides every value the change writes on gpo-conflict-03: the licensing in use stays, no reboot.
    assert 'gpo-conflict-03: licensing changed; Group Policy overrides it, so it has no effect while the policy is set"' \
        in rebooting.output, rebooting.output
    assert all(counters["writes"] == 0 for counters in fleet.stats().values())  # check mode
    plain = play(fleet, "configure_licensing", tmp_path / "unused", ["--check"], **servers)
    assert plain.rc == 0, plain.output
    assert "per-device-02: licensing changed; restart TermService (or reboot) in a maintenance window" in plain.output


def test_a_failed_reboot_fails_the_task_saying_the_change_is_in_place(fleet, tmp_path):
    """rds-sim answers only the collection's own agent, so win_reboot's first command (the boot time) fails as it
    would on a host whose PowerShell refuses it: the change is written, the task fails and says what to do."""
    fleet.reset_host("per-device-02", "per_device")
    run = run_playbook("remote_desktop.licensing.configure_licensing", fleet.inventory, str(tmp_path / "unused"),
                       {"configure_licensing_restart_strategy": "reboot", "target_hosts": "per-device-02"}, env=peer_collections_env())
    assert run.rc != 0
    assert "The licensing change was written, but the reboot through ansible.windows.win_reboot did not start " \
           "(remote_desktop.licensing.licensing_mode: failed to get host boot time info; rc 1; stderr: " in run.output, run.output
    assert "The host holds the new values" in run.output and "Reboot the host (or restart TermService)" in run.output
    assert fleet.value("per-device-02", CORE, "LicensingMode") == {"type": "dword", "data": 4}
    assert '"rebooted": false, "restart_required": true' in run.output
    again = run_playbook("remote_desktop.licensing.configure_licensing", fleet.inventory, str(tmp_path / "unused"),
                         {"configure_licensing_restart_strategy": "reboot", "target_hosts": "per-device-02"}, env=peer_collections_env())
    assert again.rc == 0 and "per-device-02: no change" in again.output, again.output


def test_grace_report_classifies_each_host(fleet, tmp_path):
    for host, scenario in (("fresh-01", "fresh"), ("per-device-02", "per_device"), ("grace-expiring-04", "grace_expiring")):
        fleet.reset_host(host, scenario)
    run = play(fleet, "grace_report", tmp_path / "grace", grace_report_results_dir=str(tmp_path / "grace"))
    assert run.rc == 0, run.output
    classes = {host: result["class"] for host, result in run.results.items()}
    # Not configured, still in grace: not "ok" (green); configured with days left: ok.
    assert classes["fresh-01"] == "unlicensed" and classes["per-device-02"] == "ok"
    assert classes["grace-expiring-04"] == "critical"
    assert run.results["grace-expiring-04"]["days_left"] in (4, 5)


def test_license_server_report_and_mslicensing_reset_use_their_groups(fleet, tmp_path):
    report = play(fleet, "license_server_report", tmp_path / "ls", license_server_report_results_dir=str(tmp_path / "ls"))
    assert report.rc == 0 and list(report.results) == ["license-server-06"]
    result = report.results["license-server-06"]
    assert result["activation"] == "activated" and result["issued_licenses"]["temporary"] == 2
    assert {(group["product_version"], group["cal_type"]) for group in result["capacity"]} == {
        ("Windows Server 2019", "per_device"), ("Windows Server 2022", "per_device"), ("Windows Server 2022", "per_user")}
    reset = play(fleet, "mslicensing_reset", tmp_path / "unused", mslicensing_reset_backup_dir=str(tmp_path / "b"))
    assert reset.rc == 0, reset.output
    assert os.listdir(tmp_path / "b") == ["client-cache-05"]


# max_fail_percentage: the older name, still read (ansible-core 2.19 warns about a variable of that name).
@pytest.mark.parametrize("name", ["batch_max_fail_percentage", "max_fail_percentage"])
def test_batches_stop_at_the_failure_percentage(tmp_path, name):
    fleet = SimFleet(tmp_path / "batch").up(4, ["fresh"], faults=[f"fresh-01=access_denied:{CORE}"])
    try:
        run = play(fleet, "configure_licensing", tmp_path / "unused", batch_size=2, **{name: 0})
        assert run.rc != 0
        stats = fleet.stats()
        assert stats["fresh-02"]["writes"] == 1  # the mode; no servers were asked for
        # The first batch failed past 0 %: the second batch never ran.
        assert stats["fresh-03"]["commands"] == 0 and stats["fresh-04"]["commands"] == 0
        assert fleet.value("fresh-03", CORE, "LicensingMode") == {"type": "dword", "data": 5}
    finally:
        fleet.down()


def test_playbooks_parse_and_list_their_hosts(fleet):
    for name in ("configure_licensing", "mslicensing_reset", "grace_report", "drift_check", "grace_reset",
                 "license_server_report"):
        run = run_playbook(f"remote_desktop.licensing.{name}", fleet.inventory, "/tmp/unused-results", {},
                           args=["--list-hosts"])
        assert run.rc == 0, run.output
    listed = run_playbook("remote_desktop.licensing.grace_reset", fleet.inventory, "/tmp/unused-results",
                          {"target_hosts": "scenario_fresh"}, args=["--list-hosts"])
    # The first play is the pattern check (all hosts, one task); the reset play gets only the group.
    reset_play = listed.output.split("Reset the grace period (lab)")[1]
    assert "fresh-01" in reset_play and "per-device-02" not in reset_play


def test_a_comma_limit_outside_the_target_fails_instead_of_checking_nothing(fleet, tmp_path):
    """AWX's Limit field and job slices are comma lists: 'group:&a,b' must not read as '(group:&a),b'."""
    outside = play(fleet, "license_server_report", tmp_path / "none", ["--limit", "fresh-01,client-cache-05"])
    assert outside.rc != 0 and outside.results == {}, outside.output
    assert "The host pattern 'rds_license_servers' with --limit 'fresh-01,client-cache-05' matches no host" in \
        " ".join(outside.output.split())
    assert "Could not match supplied host pattern" not in outside.output
    inside = play(fleet, "license_server_report", tmp_path / "one", ["--limit", "fresh-01,license-server-06"],
                  license_server_report_results_dir=str(tmp_path / "one"))
    assert inside.rc == 0 and list(inside.results) == ["license-server-06"], inside.output


def test_a_server_list_cut_by_key_value_extra_vars_is_refused_before_any_write(fleet, tmp_path):
    """-e name="a, b" reaches the role as 'a,': refused, instead of setting one server on every host."""
    fleet.reset_stats()
    run = play(fleet, "configure_licensing", tmp_path / "unused",
               ["-e", "configure_licensing_license_servers=ls01.example.test, ls02.example.test"])
    assert run.rc != 0
    assert "license_servers 'ls01.example.test,' has an empty name next to a comma" in run.output
    assert all(counters["writes"] == 0 for counters in fleet.stats().values())


@pytest.mark.parametrize("name, prefix", [("grace_report", "grace_report"), ("diagnose", "diagnose")])
def test_crossed_grace_thresholds_are_refused(fleet, tmp_path, name, prefix):
    """Critical is the band below warning; 7 and 30 the wrong way round would class every host wrongly."""
    run = play(fleet, name, tmp_path / "out", **{f"{prefix}_warning_days": "7", f"{prefix}_critical_days": "30",
                                                 f"{prefix}_results_dir": str(tmp_path / "out")})
    assert run.rc != 0
    assert "critical_days (30) must not be more than warning_days (7)" in run.output
    assert f"{prefix}_critical_days and {prefix}_warning_days" in run.output


@pytest.mark.parametrize("name, result_key", [("drift_check", "drift_check"), ("grace_report", "grace_report"),
                                              ("configure_licensing", "configure_licensing")])
def test_failed_and_unreachable_hosts_stay_in_the_lines_records_and_files(fleet, tmp_path, name, result_key):
    """A scheduled job must not show fewer hosts than it targeted: a host that could not be read is listed with its
    error, and a result file left from an earlier run is replaced, never left looking current."""
    for host, scenario in (("fresh-01", "fresh"), ("per-device-02", "per_device")):
        fleet.reset_host(host, scenario)
    fleet.set_faults("fresh-01", {"refused": True})
    fleet.set_faults("per-device-02", {"access_denied": [CORE]})
    results_dir = tmp_path / "results"
    results_dir.mkdir()
    (results_dir / "fresh-01.json").write_text('{"status": "ok", "run_id": "an-old-run"}', encoding="utf-8")
    extra = {f"{name}_results_dir": str(results_dir)} if name != "configure_licensing" else {}
    try:
        run = play(fleet, name, tmp_path / "unused", ["--check"], **extra)
    finally:
        fleet.set_faults("fresh-01", {})
        fleet.set_faults("per-device-02", {})
    assert run.rc != 0  # the job is not green: two hosts were not read
    text = " ".join(run.output.split())
    assert "fresh-01: " in text and "per-device-02: " in text
    lines = [line for line in run.output.splitlines()
             if re.match(r'\s*"(\[check mode\] )?(fresh-01|per-device-02):', line)]
    assert len(lines) == 2 and all(("unreachable" in line.lower() or "failed" in line.lower()) for line in lines), lines
    assert "Access denied on HKLM:" in text
    if extra:
        saved = json.loads((results_dir / "fresh-01.json").read_text(encoding="utf-8"))
        assert saved["status"] == "unreachable" and saved["run_id"] != "an-old-run"


def test_the_reboot_strategy_without_ansible_windows_fails_before_any_write(fleet, tmp_path):
    """restart=reboot needs ansible.windows; without it every host fails before it is contacted, not after the change."""
    fleet.reset_host("per-device-02", "per_device")
    fleet.reset_stats()
    run = play(fleet, "configure_licensing", tmp_path / "unused", configure_licensing_restart_strategy="reboot")
    assert run.rc != 0
    assert "reboots through ansible.windows.win_reboot, and the ansible.windows collection is not installed: nothing was " \
           "read or written" in run.output, run.output
    assert all(counters["writes"] == 0 and counters["commands"] == 0 for counters in fleet.stats().values())
