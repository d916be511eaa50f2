"""options_from_role: a shipped role's task names its role, and the action plugin reads the role's
variables as the role's "{{ variable }}" arguments did, with no template to compile per host."""

from __future__ import annotations

import glob
import os

import pytest
import yaml
from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _role_options
from tests.helpers.paths import ROOT
from tests.unit.test_argument_specs import action_class

ROLES = sorted(_role_options.ROLES)


def role_defaults(role: str) -> dict:
    with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def role_spec_options(role: str) -> dict:
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["argument_specs"]["main"]["options"]


def role_task(role: str) -> tuple[str, dict]:
    """The one task of the role that names options_from_role: its module and arguments."""
    found = []
    for path in glob.glob(os.path.join(ROOT, "roles", role, "tasks", "*.yml")):
        with open(path, encoding="utf-8") as handle:
            for task in yaml.safe_load(handle) or []:
                for key, value in task.items():
                    if isinstance(value, dict) and "options_from_role" in value:
                        found.append((key.rsplit(".", 1)[-1], value))
    assert len(found) == 1, found
    return found[0]


def by_name(values: dict):
    """A stand-in for the templar: "{{ name }}" is the value of name, anything else is itself."""
    def template(value):
        if isinstance(value, str) and value.startswith("{{ ") and value.endswith(" }}"):
            return values[value[3:-3]]
        return value
    return template


def defaults_args(role: str, **overrides) -> dict:
    task_vars = {**role_defaults(role), **overrides}
    module = _role_options.ROLES[role].module
    return _role_options.task_args(role, module, {"options_from_role": role}, task_vars, by_name(task_vars))


@pytest.mark.parametrize("role", ROLES)
def test_each_role_task_names_its_own_role_and_module(role):
    module, arguments = role_task(role)
    assert arguments["options_from_role"] == role
    assert module == _role_options.ROLES[role].module
    # Nothing the role reads itself is also passed as a template.
    assert not set(arguments) & set(_role_options.ROLES[role].options)
    assert not [value for value in arguments.values() if isinstance(value, str) and "{{" in value]


@pytest.mark.parametrize("role", ROLES)
def test_each_variable_is_a_documented_role_variable_with_a_default(role):
    spec, defaults = role_spec_options(role), role_defaults(role)
    for source in _role_options.ROLES[role].options.values():
        if role == "diagnose" and source.variable == "diagnose_license_server_views":
            continue  # set by the role itself, once per batch, before the task
        assert source.variable in spec, source.variable
        assert source.variable in defaults, source.variable


@pytest.mark.parametrize("role", ROLES)
def test_each_option_is_an_option_of_the_module(role):
    module = _role_options.ROLES[role].module
    spec = action_class(module).ARGUMENT_SPEC
    assert set(_role_options.ROLES[role].options) <= set(spec)
    assert "options_from_role" in spec
    assert role in spec["options_from_role"]["choices"]


def test_the_choices_are_the_roles():
    assert sorted(action_class("licensing_mode").ARGUMENT_SPEC["options_from_role"]["choices"]) == ROLES


def test_configure_licensing_defaults_give_the_arguments_the_role_passed():
    assert defaults_args("configure_licensing") == {
        "options_from_role": "configure_licensing", "mode": "per_user", "allow_aad_per_user": False,
        "clear_license_servers": False, "scope": "local", "policy_conflict": "fail", "restart": "never",
        "backup": False}


@pytest.mark.parametrize("strategy, restart, grace_restart",
                         [("service", "if_changed", "if_changed"), ("reboot", "reboot", "never"), ("none", "never", "never")])
def test_the_restart_strategy_becomes_restart(strategy, restart, grace_restart):
    assert defaults_args("configure_licensing", configure_licensing_restart_strategy=strategy)["restart"] == restart
    # grace_reset has no reboot strategy (its argument spec refuses one before the module runs)
    assert defaults_args("grace_reset", grace_reset_restart_strategy=strategy)["restart"] == grace_restart


@pytest.mark.parametrize("empty", ["", None, []])
def test_an_empty_server_list_or_backup_dir_is_left_unset(empty):
    args = defaults_args("configure_licensing", configure_licensing_license_servers=empty,
                         configure_licensing_backup_dir=empty)
    assert "license_servers" not in args and "backup_dir" not in args


def test_a_set_variable_wins_over_module_defaults_an_empty_one_removes_them_an_unset_one_keeps_them():
    task_vars = {"configure_licensing_mode": "per_device", "configure_licensing_backup_dir": ""}
    args = _role_options.task_args("configure_licensing", "licensing_mode",
                                   {"options_from_role": "configure_licensing", "mode": "per_user", "backup_dir": "/b",
                                    "policy_conflict": "warn"}, task_vars, by_name(task_vars))
    assert args["mode"] == "per_device"
    assert "backup_dir" not in args  # the role's `backup_dir or omit` removed module_defaults' value too
    assert args["policy_conflict"] == "warn"  # undefined outside the role: the argument stays
    assert "scope" not in args


@pytest.mark.skipif(not hasattr(__import__("ansible.errors", fromlist=["x"]), "AnsibleValueOmittedError"),
                    reason="ansible-core 2.19's templar")
def test_with_the_real_templar_inventory_templates_and_omit_behave_as_the_roles_arguments_did():
    from ansible._internal._datatag._tags import TrustedAsTemplate
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    trusted = TrustedAsTemplate().tag
    task_vars = {"site": ["ls01", "ls02"], "configure_licensing_license_servers": trusted("{{ site }}"),
                 "configure_licensing_scope": trusted("{{ omit }}"), "configure_licensing_mode": "['per_user']"}
    templar = Templar(loader=DataLoader(), variables=task_vars)
    args = _role_options.task_args("configure_licensing", "licensing_mode", {"options_from_role": "configure_licensing"},
                                   task_vars, templar.template)
    assert args["license_servers"] == ["ls01", "ls02"]
    assert "scope" not in args
    assert args["mode"] == "['per_user']"  # 2.19 keeps text text, as "{{ configure_licensing_mode }}" did


def test_templated_variables_are_templated_and_survey_strings_kept_for_validation():
    task_vars = {"site_servers": ["ls01", "ls02"], "configure_licensing_license_servers": "{{ site_servers }}",
                 "configure_licensing_backup": "true"}
    args = _role_options.task_args("configure_licensing", "licensing_mode", {"options_from_role": "configure_licensing"},
                                   task_vars, by_name(task_vars))
    assert args["license_servers"] == ["ls01", "ls02"]
    assert args["backup"] == "true"  # ansible-core's validation converts it, as it did the argument


def test_omitted_variables_are_unset():
    task_vars = {"omit": "__omit_place_holder__x", "configure_licensing_scope": "{{ omit }}"}
    args = _role_options.task_args("configure_licensing", "licensing_mode", {"options_from_role": "configure_licensing"},
                                   task_vars, by_name({"omit": "__omit_place_holder__x"}))
    assert "scope" not in args


def test_a_null_survey_field_replaces_the_setting_as_the_roles_jinja_did():
    assert defaults_args("drift_check", drift_check_baseline_mode=None)["baseline"]["mode"] is None


def test_drift_baseline_takes_each_survey_field_that_is_not_empty():
    args = defaults_args("drift_check", drift_check_baseline_license_servers="ls01,ls02",
                         drift_check_baseline_min_grace_days="30")
    assert args["baseline"] == {"mode": "per_user", "forbid_policy_conflicts": True, "license_servers": "ls01,ls02",
                                "min_grace_days": "30"}
    assert defaults_args("drift_check")["baseline"] == {"mode": "per_user", "forbid_policy_conflicts": True}


def test_drift_baseline_as_json_text_is_merged_and_a_bad_one_left_to_validation():
    as_text = defaults_args("drift_check", drift_check_baseline='{"mode": "per_device"}', drift_check_baseline_mode="per_user")
    assert as_text["baseline"] == {"mode": "per_user"}
    assert defaults_args("drift_check", drift_check_baseline="per_user")["baseline"] == "per_user"


@pytest.mark.parametrize("role, module", [("grace_reset", "licensing_mode"), ("nosuch", "licensing_mode"), (7, "mslicensing")])
def test_a_role_that_does_not_run_the_module_is_refused_with_the_one_that_does(role, module):
    with pytest.raises(AnsibleActionFail) as caught:
        _role_options.task_args(role, module, {"options_from_role": role}, {}, by_name({}))
    expected = {"licensing_mode": "configure_licensing", "mslicensing": "mslicensing_reset"}[module]
    assert f"{module} takes {expected}" in caught.value.message
    assert "Pass the options as arguments" in caught.value.message


@pytest.mark.parametrize("host, reason", [("sh01", None), ("ls01", "not in the group rds_session_hosts (diagnose_session_host_group)")])
def test_diagnose_skips_a_host_outside_the_session_host_group(host, reason):
    task_vars = {"inventory_hostname": host, "diagnose_session_host_group": "{{ site_group }}",
                 "groups": {"rds_session_hosts": ["sh01"], "rds_license_servers": ["ls01"]}}
    assert _role_options.skip_reason("diagnose", task_vars, by_name({"site_group": "rds_session_hosts"})) == reason


def test_only_diagnose_skips_hosts():
    task_vars = {"inventory_hostname": "ls01", "groups": {}, "diagnose_session_host_group": "rds_session_hosts"}
    assert [role for role in ROLES if _role_options.skip_reason(role, task_vars, by_name({}))] == ["diagnose"]
