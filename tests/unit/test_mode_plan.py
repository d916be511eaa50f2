"""licensing_mode's decisions: option validation, server names, Group Policy conflicts, scopes."""

from __future__ import annotations

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing as lic
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _mode_plan as plan
from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._failure import FailedTaskResult


def args(**overrides):
    base = {"mode": None, "allow_aad_per_user": False, "license_servers": None, "clear_license_servers": False,
            "scope": "local"}
    return {**base, **overrides}


def lookup_of(values):
    """A lookup over {(path, name): (type, data)}."""
    return lambda item: values.get((item.path, item.name))


@pytest.mark.parametrize("name", ["LS01", "ls_01", "ls-01", "ls01.example.com", "ls01.example.com.", "10.0.0.5",
                                  "fe80::1", "a" * 15, "x-y.z"])
def test_valid_server_names(name):
    assert lic.server_name_problem(name) is None


@pytest.mark.parametrize("name", ["", " ls01", "ls 01", "ls01,ls02", "a" * 16, "$(reboot)", "ls01;x", "-ls.example.com",
                                  "ls..example.com", "ls01`n", "ls01\n", "1.2.3.999", "12345", "ls01\\x", "ls\u00fc"])
def test_invalid_server_names(name):
    assert lic.server_name_problem(name)


@pytest.mark.parametrize("name", ["ls01.example.com;ls02.example.com", "ls01 ls02", "ls01\tls02", "ls01\nls02"])
def test_a_pasted_list_is_told_to_use_commas(name):
    assert lic.server_name_problem(name) == "separate license server names with commas, not semicolons or spaces"


@pytest.mark.parametrize("options,message", [
    (args(mode="aad_per_user"), "Set allow_aad_per_user: true"),
    (args(license_servers=["ls01", "ls 02"]), "license_servers[1] 'ls 02' is not a valid license server name"),
    (args(license_servers=["ls01", "LS01"]), "lists 'LS01' twice (as 'ls01' too)"),
    (args(license_servers=[]), "also set clear_license_servers: true"),
    (args(license_servers=["ls01"], clear_license_servers=True), "give one or the other"),
    (args(), "Nothing to manage"),
])
def test_bad_options_are_refused_with_the_fix(options, message):
    with pytest.raises(AnsibleActionFail) as caught:
        plan.parse_request(options)
    assert message in str(caught.value)


def test_requests():
    assert plan.parse_request(args(mode="per_user")) == plan.Request(4, None, "local")
    assert plan.parse_request(args(clear_license_servers=True)) == plan.Request(None, [], "local")
    assert plan.parse_request(args(mode="aad_per_user", allow_aad_per_user=True, scope="policy")) == plan.Request(6, None, "policy")


@pytest.mark.parametrize("build,kind,ok", [
    ("20348", "Server", True), ("26100", "Server", True), ("17763", "Server", False),
    ("18362", "Client", True), ("17763", "Client", False), (None, "Server", False),
])
def test_aad_per_user_needs_a_recent_build(build, kind, ok):
    values = {(lic.CURRENT_VERSION_KEY, "InstallationType"): ("string", kind)}
    if build:
        values[(lic.CURRENT_VERSION_KEY, "CurrentBuild")] = ("string", build)
    if ok:
        plan.check_aad_supported(lookup_of(values))
    else:
        with pytest.raises(FailedTaskResult, match="needs Windows"):
            plan.check_aad_supported(lookup_of(values))


GPO = {
    (lic.LICENSING_CORE_KEY, "LicensingMode"): ("dword", 4),
    (lic.LICENSE_SERVERS_KEY, "SpecifiedLicenseServers"): ("multistring", ["ls03"]),
    (lic.POLICY_KEY, "LicensingMode"): ("dword", 2),
    (lic.POLICY_KEY, "LicenseServers"): ("string", "ls01, ls02"),
}


def test_state_reports_local_policy_and_effective_values():
    state = plan.state(lookup_of(GPO))
    assert (state["local_mode"], state["policy_mode"], state["mode"], state["mode_source"]) == (4, 2, 2, "policy")
    assert state["policy_license_servers"] == ["ls01", "ls02"] and state["license_servers_source"] == "policy"
    assert plan.state(lookup_of({}))["mode_source"] == "unset" and plan.state(lookup_of({}))["license_servers"] == []


def test_conflicts_only_for_differing_policy_values_in_local_scope():
    before = plan.state(lookup_of(GPO))
    found = plan.policy_conflicts(plan.Request(4, ["LS01", "ls02"], "local"), before)
    assert len(found) == 1 and "LicensingMode = per_device (2)" in found[0] and "per_user (4)" in found[0]
    assert len(plan.policy_conflicts(plan.Request(4, ["ls09"], "local"), before)) == 2
    assert plan.policy_conflicts(plan.Request(2, None, "local"), before) == []
    assert plan.policy_conflicts(plan.Request(4, ["ls09"], "policy"), before) == []
    # Clearing local servers does not clear the policy list: that is a conflict too.
    assert len(plan.policy_conflicts(plan.Request(None, [], "local"), before)) == 1


def test_wanted_values_per_scope():
    lookup = lookup_of(GPO)
    local = plan.wanted(plan.Request(2, ["ls01", "ls02"], "local"), lookup)
    assert [(item.path, item.name, item.value) for item in local] == [
        (lic.LICENSING_CORE_KEY, "LicensingMode", ("dword", 2)),
        (lic.LICENSE_SERVERS_KEY, "SpecifiedLicenseServers", ("multistring", ["ls01", "ls02"])),
    ]
    policy = plan.wanted(plan.Request(4, ["ls05", "10.0.0.5"], "policy"), lookup)
    assert [item.value for item in policy] == [("dword", 4), ("string", "ls05,10.0.0.5")]
    cleared = plan.wanted(plan.Request(None, [], "policy"), lookup)
    assert cleared[0].name == "LicenseServers" and cleared[0].value is None


def test_servers_equal_but_for_case_keep_their_stored_spelling():
    lookup = lookup_of(GPO)
    assert plan.wanted(plan.Request(None, ["LS03"], "local"), lookup)[0].value == ("multistring", ["ls03"])
    # The same names stored with the wrong type are rewritten with the right one.
    wrong_type = lookup_of({(lic.LICENSE_SERVERS_KEY, "SpecifiedLicenseServers"): ("string", "ls03")})
    assert plan.wanted(plan.Request(None, ["ls03"], "local"), wrong_type)[0].value == ("multistring", ["ls03"])


def test_diff_text_names_mode_and_number():
    text = plan.diff_text(plan.state(lookup_of(GPO)), "local")
    assert "LicensingMode: per_user (4)" in text and "license servers: ls03" in text
    assert "effective: per_device (2) from policy" in text


@pytest.mark.parametrize("servers", [["ls01.example.com, ls02.example.com"], ["ls01.example.com", " ls02.example.com"],
                                     ["ls01.example.com\nls02.example.com"]])
def test_survey_text_server_lists_are_split_and_trimmed(servers):
    """What ansible-core's list type makes of an AWX survey answer such as "ls01, ls02" or one name per line."""
    assert plan.parse_request(args(license_servers=servers)).servers == ["ls01.example.com", "ls02.example.com"]


def test_a_value_cut_by_extra_vars_splitting_is_refused():
    """-e configure_licensing_license_servers="ls01, ls02" reaches the module as 'ls01,'; dropping ls02 silently would
    take it off every host."""
    with pytest.raises(AnsibleActionFail, match="license_servers 'ls01.example.com,' has an empty name next to a comma"):
        plan.parse_request(args(license_servers=["ls01.example.com,"]))
    # As ansible-core's list type hands it over: split at the comma.
    with pytest.raises(AnsibleActionFail, match="license_servers 'ls01.example.com,' has an empty name next to a comma"):
        plan.parse_request(args(license_servers=["ls01.example.com", ""]))
