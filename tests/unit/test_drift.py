"""Drift against a baseline and grace classification, on licensing_info-shaped reports."""

from __future__ import annotations

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _drift


def report(policy_mode=None, local_mode=None, policy_servers=None, local_servers=None, days=100, state="active"):
    effective_mode = policy_mode if policy_mode is not None else local_mode
    names = {2: "per_device", 4: "per_user", 5: "not_configured", None: None}
    servers = policy_servers if policy_servers is not None else local_servers
    return {
        "mode": {"effective": effective_mode, "effective_name": names[effective_mode] or "not_configured",
                 "source": "policy" if policy_mode is not None else "local" if local_mode is not None else "unset",
                 "policy": policy_mode, "policy_name": names[policy_mode], "local": local_mode, "local_name": names[local_mode]},
        "license_servers": {"effective": servers or [], "policy": policy_servers, "local": local_servers,
                            "source": "policy" if policy_servers is not None else "local" if local_servers is not None else "unset"},
        "grace_period": {"days_left": days, "state": state},
    }


def settings(items):
    return sorted(item["setting"] for item in items)


def test_matching_host_has_no_drift():
    assert _drift.drift(report(local_mode=4, local_servers=["LS01"]), {"mode": "per_user", "license_servers": ["ls01"]}) == []


def test_local_drift_can_be_fixed_locally():
    items = _drift.drift(report(local_mode=2, local_servers=["ls09"]), {"mode": "per_user", "license_servers": ["ls01"]})
    assert settings(items) == ["license_servers", "mode"]
    assert all(item["source"] == "local" and not item["gpo_overrides_local_fix"] for item in items)
    assert items[0] == {"setting": "mode", "expected": "per_user", "actual": "per_device", "source": "local",
                        "gpo_overrides_local_fix": False}


def test_policy_values_are_marked_as_overriding_a_local_fix():
    items = _drift.drift(report(policy_mode=2, local_mode=4, policy_servers=["a"], local_servers=["b"]),
                         {"mode": "per_user", "license_servers": ["b"], "forbid_policy_conflicts": True})
    assert settings(items) == ["license_servers", "license_servers_policy_conflict", "mode", "mode_policy_conflict"]
    assert all(item["gpo_overrides_local_fix"] for item in items)


def test_server_order_matters():
    assert settings(_drift.drift(report(local_mode=4, local_servers=["b", "a"]), {"license_servers": ["a", "b"]})) == \
        ["license_servers"]


@pytest.mark.parametrize("days,configured,drifted", [(5, False, True), (20, False, False), (0, True, False), (None, False, True)])
def test_min_grace_days_only_while_licensing_is_not_configured(days, configured, drifted):
    host = report(local_mode=4 if configured else 5, local_servers=["ls01"] if configured else None, days=days,
                  state="unknown" if days is None else "active")
    assert bool(_drift.drift(host, {"min_grace_days": 14})) is drifted


def test_unknown_baseline_settings_are_refused():
    with pytest.raises(_drift.BaselineError, match="unknown baseline setting"):
        _drift.drift(report(), {"mode": "per_user", "licence_servers": []})


@pytest.mark.parametrize("host,expected", [
    # Not configured and still in grace is not "ok": the host stops taking sessions when grace ends.
    (report(local_mode=5, days=100), "unlicensed"), (report(local_mode=5, days=20), "warning"),
    (report(local_mode=5, days=7), "critical"), (report(local_mode=5, days=0, state="expired"), "critical"),
    (report(local_mode=4, local_servers=["ls01"], days=60), "ok"),
    # 0 days with licensing configured: configuration alone does not prove a CAL is issued.
    (report(local_mode=4, local_servers=["ls01"], days=0, state="expired"), "unknown"),
    (report(local_mode=5, days=None, state="unknown"), "unknown"),
    (report(local_mode=5, days=None, state="not_applicable"), "not_applicable"),
])
def test_grace_classes(host, expected):
    assert _drift.grace_class(host, 30, 7) == expected
    assert expected in _drift.GRACE_CLASSES and expected in _drift.GRACE_MEANINGS


@pytest.mark.parametrize("servers", ["ls01, ls02", "ls01,ls02", "ls01\nls02\n", " ls01 ,\r\n ls02 ", ["ls01", " ls02"],
                                     ["ls01, ls02"]])
def test_survey_server_lists_are_split_and_trimmed(servers):
    """AWX survey text (comma or newline separated, with spaces) compares like a list; never split into characters."""
    host = report(local_mode=4, local_servers=["LS01", "ls02"])
    assert _drift.drift(host, {"license_servers": servers}) == []
    assert _drift.normalise_baseline({"license_servers": servers})["license_servers"] == ["ls01", "ls02"]


def test_text_booleans_and_numbers_from_extra_vars_are_converted():
    host = report(policy_mode=2, local_mode=4)
    assert _drift.drift(host, {"forbid_policy_conflicts": "false"}) == []
    assert settings(_drift.drift(host, {"forbid_policy_conflicts": "yes"})) == ["mode_policy_conflict"]
    assert _drift.normalise_baseline({"min_grace_days": "14"}) == {"min_grace_days": 14}
    with pytest.raises(_drift.BaselineError, match="baseline"):
        _drift.normalise_baseline({"forbid_policy_conflicts": "perhaps"})


@pytest.mark.parametrize("days", [-5, 121, "-1"])
def test_min_grace_days_outside_the_grace_period_is_refused(days):
    with pytest.raises(_drift.BaselineError, match=r"min_grace_days is -?\d+; give a number of days from 0 to 120"):
        _drift.normalise_baseline({"min_grace_days": days})


def test_min_grace_days_at_the_edges_is_accepted():
    assert _drift.normalise_baseline({"min_grace_days": 0}) == {"min_grace_days": 0}
    assert _drift.normalise_baseline({"min_grace_days": "120"}) == {"min_grace_days": 120}


def test_empty_survey_fields_are_not_checked():
    assert _drift.normalise_baseline({"mode": "", "license_servers": None, "min_grace_days": 14}) == {"min_grace_days": 14}


def test_messages_show_lists_as_text_not_python_reprs():
    items = _drift.drift(report(policy_mode=2, local_mode=2, policy_servers=["a", "b"], local_servers=["c"]),
                         {"license_servers": ["a", "b"], "forbid_policy_conflicts": True})
    line = _drift.drift_line("h1", items)
    assert "[" not in line and "'" not in line
    assert "policy a, b; local c" in line
    diff = _drift.drift_diff("h1", [{"setting": "license_servers", "expected": ["a", "b"], "actual": [],
                                     "source": "unset", "gpo_overrides_local_fix": False}])
    assert diff["before"] == "license_servers: (none)\n" and diff["after"] == "license_servers: a, b\n"
    assert _drift.drift_line("h2", []) == "h2: no drift"


@pytest.mark.parametrize("servers", ["ls01.example.test,", "ls01, , ls02", ",ls01", "ls01,\nls02,\n", ["ls01", "ls02,"]])
def test_an_empty_name_next_to_a_comma_is_refused(servers):
    """'ls01.example.test,' is what ansible-playbook leaves of -e name="ls01.example.test, ls02.example.test"."""
    with pytest.raises(_drift.BaselineError, match=r"empty name next to a comma.*-e '\{\"name\": \"a, b\"\}'"):
        _drift.normalise_baseline({"license_servers": servers})


def test_baseline_server_names_are_checked_like_configure_licensing():
    with pytest.raises(_drift.BaselineError, match="'ls01.example.test; ls02.example.test' is not a valid license server name"):
        _drift.normalise_baseline({"license_servers": "ls01.example.test; ls02.example.test"})
