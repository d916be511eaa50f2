"""Per-batch records and lines of the roles, and where controller-side files may go."""

from __future__ import annotations

import os

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _batch, _controller_paths

OPTIONS = {"warning_days": 30, "critical_days": 7}


def licensing(mode=5, servers=(), days=100, state="active"):
    return {"licensing": {"mode": {"effective": mode, "effective_name": {4: "per_user", 5: "not_configured"}[mode]},
                          "license_servers": {"effective": list(servers)},
                          "grace_period": {"days_left": days, "state": state}, "warnings": []}, "read_at": "T"}


def test_drift_check_fleet_line_names_the_drifted_hosts():
    results = {"a": {"drifted": True, "drift": [{"setting": "mode"}], "summary": "a: DRIFT ..."},
               "b": {"drifted": False, "drift": [], "summary": "b: no drift"}}
    records = {host: _batch.drift_check(host, result, OPTIONS)[0] for host, result in results.items()}
    assert _batch.fleet_line("drift_check", records) == "Drift on 1 of 2 host(s): a"
    assert _batch.drift_check("c", {"unreachable": True, "msg": "refused"}, OPTIONS)[1] == "c: unreachable, not checked (refused)"


def test_grace_report_classifies_in_one_place():
    record, line = _batch.grace_report("a", licensing(4, ["ls01"], 0, "expired"), OPTIONS)
    assert record["class"] == "unknown" and line.startswith("a: UNKNOWN 0 grace day(s)")
    assert "[" not in line  # servers as text
    record, _line = _batch.grace_report("b", licensing(days=5, state="expiring"), OPTIONS)
    assert record["class"] == "critical" and record["licensing_configured"] is False


def test_change_lines_say_restarts_and_backups():
    _record, line = _batch.configure_licensing("a", {"changed": True, "restarted": True, "backup_file": "/b/a.reg"}, OPTIONS)
    assert line == "a: licensing changed; TermService restarted; backup /b/a.reg"
    records = {"a": _record, "b": _batch.configure_licensing("b", {"changed": True, "restart_required": True}, OPTIONS)[0]}
    assert _batch.fleet_line("configure_licensing", records) == \
        "Changed 2 of 2 host(s): a, b; TermService restarted on a; restart pending on b"


def test_change_records_and_lines_keep_failed_and_unreachable_hosts():
    """A host that failed (or whose answer was lost after it changed) is in the records with its error, never
    counted as unchanged or left out."""
    lost = {"failed": True, "changed": True, "msg": "The connection was lost after the write was sent; it may be PARTLY APPLIED."}
    record, line = _batch.configure_licensing("a", lost, OPTIONS)
    assert record["status"] == "failed" and record["changed"] is True and "PARTLY APPLIED" in record["error"]
    assert line.startswith("a: FAILED (possibly changed): The connection was lost")
    down, line = _batch.grace_reset("b", {"unreachable": True, "msg": "refused"}, OPTIONS)
    assert (down["status"], line) == ("unreachable", "b: UNREACHABLE: refused")
    cleared = _batch.mslicensing_reset("c", {"changed": False}, OPTIONS)[0]
    assert cleared["status"] == "ok" and cleared["error"] is None
    assert _batch.fleet_line("configure_licensing", {"a": record, "c": cleared}) == \
        "Changed 1 of 2 host(s): a; failed or unreachable: a"


def test_a_change_group_policy_overrides_says_so_in_its_line():
    _record, line = _batch.configure_licensing("a", {"changed": True, "policy_overrides": True}, OPTIONS)
    assert line == "a: licensing changed; Group Policy overrides it, so it has no effect while the policy is set"
    # The policy sets the mode only; the servers the change wrote are in use, and the restart is pending.
    _record, line = _batch.configure_licensing("b", {"changed": True, "policy_overrides": True, "restart_required": True},
                                               OPTIONS)
    assert line.startswith("b: licensing changed; Group Policy overrides part of it; restart TermService")


def test_diagnose_records_each_host_from_its_two_results():
    skipped = {"skipped": True, "skip_reason": "Conditional result was False"}
    diagnosis = {"state": "critical", "findings": [{"id": "no_license_server"}, {"id": "grace_ending_without_license_server"}]}
    record, line = _batch.diagnose("sh1", {"session_host": {"diagnosis": diagnosis}, "license_server": skipped}, OPTIONS)
    assert record["role"] == "session_host" and record["state"] == "critical" and record["error"] is None
    assert line == "sh1: critical: no_license_server, grace_ending_without_license_server"
    view = {"server": {"is_license_server": True}}
    record, line = _batch.diagnose("ls1", {"session_host": skipped, "license_server": {"license_server_view": view}}, OPTIONS)
    assert (record["role"], record["state"], record["license_server_view"], line) == \
        ("license_server", "license_server", view, "ls1: license_server")
    # A host that cannot be read is unknown, with the reason, never healthy or dropped.
    record, line = _batch.diagnose("sh2", {"session_host": {"unreachable": True, "msg": "refused"}, "license_server": skipped},
                                   OPTIONS)
    assert (record["state"], record["error"], record["finding_ids"], line) == ("unknown", "refused", None, "sh2: unknown (refused)")
    records = {"sh1": _batch.diagnose("sh1", {"session_host": {"diagnosis": diagnosis}}, OPTIONS)[0], "sh2": record,
               "sh3": _batch.diagnose("sh3", {"session_host": {"diagnosis": {"state": "healthy", "findings": []}}}, OPTIONS)[0]}
    assert _batch.fleet_line("diagnose", records) == "Diagnosis of 3 host(s): critical 1 (sh1); healthy 1; unknown 1 (sh2)"


UNREAD = {"unreachable": {"unreachable": True, "changed": False, "msg": "refused"},
          "failed": {"failed": True, "msg": "Access is denied."}}


@pytest.mark.parametrize("how", sorted(UNREAD))
@pytest.mark.parametrize("kind", sorted(_batch.KINDS))
def test_a_host_that_was_not_read_has_no_definite_false_zero_or_empty_field(kind, how):
    """Every field of a failed or unreachable host's record that its result does not state is None (unknown): never
    licensing_configured false, drifted false, changed false, no servers, no CALs or no findings."""
    result = UNREAD[how] if kind != "diagnose" else {"session_host": UNREAD[how]}
    record, _line = _batch.KINDS[kind]("h1", result, {**OPTIONS, "restart_strategy": "none"})
    definite = {key: value for key, value in record.items()
                if value is False or value == 0 and not isinstance(value, bool) or value in ([], {})}
    # warnings: the module said nothing, which is not a statement about the host's licensing.
    assert {key: value for key, value in definite.items() if key != "warnings"} == {}, record


def test_a_failed_write_keeps_what_its_own_result_states():
    """A lost answer reports changed=true with its failure; a module failure before any write says changed=false."""
    lost = _batch.configure_licensing("a", {"failed": True, "changed": True, "restart_required": False, "msg": "lost"}, OPTIONS)[0]
    assert (lost["changed"], lost["restart_required"], lost["restarted"]) == (True, False, None)
    refused = _batch.grace_reset("b", {"failed": True, "changed": False, "msg": "not acknowledged"}, OPTIONS)[0]
    assert (refused["changed"], refused["restart_required"]) == (False, None)
    read = _batch.grace_report("c", licensing(days=5, state="expiring"), OPTIONS)[0]
    assert (read["licensing_configured"], read["license_servers"]) == (False, [])


@pytest.mark.parametrize("path,inside", [
    ("/usr/share/ansible/collections/ansible_collections/remote_desktop/licensing/playbooks/licensing-report", True),
    ("~/.ansible/collections/ansible_collections/remote_desktop/licensing/backup", True),
    ("~/.ansible/remote_desktop.licensing/reports/licensing_report", False),
    ("/srv/rds-reports", False),
])
def test_paths_inside_an_installed_collection_are_refused(path, inside):
    assert _controller_paths.inside_collection(path) is inside
    if inside:
        with pytest.raises(_controller_paths.InsideCollectionError, match="Set report_dir to a directory outside it"):
            _controller_paths.refuse_inside_collection(path, "report_dir")
    else:
        assert _controller_paths.refuse_inside_collection(path, "report_dir") == os.path.abspath(os.path.expanduser(path))


def test_a_client_in_the_grace_report_is_named_as_not_a_session_host():
    client = {"licensing": {"mode": {"effective_name": "not_configured"}, "grace_period": {"state": "not_applicable"}}}
    record, line = _batch.grace_report("pc1", client, OPTIONS)
    assert record["class"] == "not_applicable" and "?" not in line
    assert line == "pc1: NOT_APPLICABLE, not an RD Session Host (no grace period), mode not_configured"


def test_with_the_reboot_strategy_the_line_says_rebooted_or_asks_for_the_reboot_that_did_not_happen():
    rebooted = {"changed": True, "restart_required": False, "restarted": False, "rebooted": True}
    record, line = _batch.configure_licensing("a", rebooted, {**OPTIONS, "restart_strategy": "reboot"})
    assert line == "a: licensing changed; host rebooted" and record["rebooted"] is True
    pending = {"changed": True, "restart_required": True, "rebooted": False}
    _record, line = _batch.configure_licensing("a", pending, {**OPTIONS, "restart_strategy": "reboot"})
    assert line == "a: licensing changed; not rebooted: reboot the host (or restart TermService) for the change to take effect"
    _record, line = _batch.configure_licensing("a", pending, {**OPTIONS, "restart_strategy": "none"})
    assert line == "a: licensing changed; restart TermService (or reboot) in a maintenance window for the change to take effect"


def test_a_restart_the_module_states_unknown_stays_unknown_in_the_record():
    """After a lost answer whose writes were found on the host, the module says restarted: null (not read back)."""
    found = {"changed": True, "restarted": None, "restart_required": True, "lost_answer": {"outcome": "done"}}
    record, line = _batch.configure_licensing("a", found, OPTIONS)
    assert record["restarted"] is None and record["restart_required"] is True
    assert "restart TermService (or reboot) in a maintenance window" in line
    assert _batch.grace_reset("b", {**found, "deleted": ["L$X"]}, OPTIONS)[0]["restarted"] is None


def test_the_batch_line_names_the_rebooted_hosts():
    records = {"a": {"changed": True, "rebooted": True, "restart_required": False},
               "b": {"changed": False, "rebooted": False, "restart_required": False}}
    assert _batch.fleet_line("configure_licensing", records) == "Changed 1 of 2 host(s): a; rebooted a"
