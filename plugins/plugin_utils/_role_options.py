# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The option ``options_from_role``: a shipped role's task names its role instead of passing each role
variable through a ``"{{ variable }}"`` argument, and the action plugin reads the variables from the
task's variables on the controller. ansible-core 2.19 compiles every template string again in every
forked worker (about 1-2 ms of controller CPU per string and host); a variable whose value is plain
data is not compiled at all, and one whose value is a template is templated exactly as the argument
would have been.
"""

from __future__ import annotations

import json
import typing as t
from collections.abc import Mapping

from ansible.errors import AnsibleActionFail
from ansible.release import __version__ as ANSIBLE_CORE_VERSION

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _drift

# Before ansible-core 2.19 a one-expression template turns text that reads as a Python literal ("['a', 'b']",
# "True", "7") into that value; 2.19 keeps it text. The roles' "{{ variable }}" arguments did the same.
if tuple(int(part) for part in ANSIBLE_CORE_VERSION.split(".")[:2]) < (2, 19):
    from ansible.template.native_helpers import ansible_eval_concat as _as_template_result
else:
    def _as_template_result(nodes: list[t.Any]) -> t.Any:
        return nodes[0]


_UNDEFINED = object()


class RoleOption(t.NamedTuple):
    variable: str
    # Derives the option's value from the templated variable (the Jinja the role's argument held before).
    derive: t.Callable[[t.Any, t.Callable[[str], t.Any]], t.Any] | None = None
    empty_is_unset: bool = False


class Role(t.NamedTuple):
    module: str
    options: Mapping[str, RoleOption]
    # The role variable naming the group whose hosts the task is for; other hosts are skipped, as a
    # `when: inventory_hostname in groups[...]` did (a `when` costs every host a compile of its own).
    group_variable: str | None = None


def _restart(strategy: t.Any, _variable: t.Callable[[str], t.Any]) -> str:
    # The service strategy restarts TermService from the module; none leaves it to the administrator.
    return "if_changed" if strategy == "service" else "never"


def _restart_or_reboot(strategy: t.Any, variable: t.Callable[[str], t.Any]) -> str:
    # configure_licensing's reboot strategy: the module reboots after the change (no handler: a conditional
    # `notify` was a template that every host compiled, 5-7 ms of controller CPU each).
    return "reboot" if strategy == "reboot" else _restart(strategy, variable)


def _drift_baseline(baseline: t.Any, variable: t.Callable[[str], t.Any]) -> t.Any:
    """drift_check_baseline with each survey field that is not empty (drift_check_baseline_<setting>) in place."""
    if isinstance(baseline, str):
        try:
            baseline = json.loads(baseline)  # an AWX survey or -e gives the dict as JSON text
        except ValueError:
            return baseline  # the module refuses it with its own message
    if not isinstance(baseline, Mapping):
        return baseline
    merged = dict(baseline)
    for field in _drift.BASELINE_KEYS:  # one survey field per baseline setting
        value = variable(f"drift_check_baseline_{field}")
        # As the role's Jinja did: every field that is not "" (a null turns that check off).
        if value is not _UNDEFINED and value != "":
            merged[field] = value
    return merged


ROLES: Mapping[str, Role] = {
    "configure_licensing": Role("licensing_mode", {
        "mode": RoleOption("configure_licensing_mode"),
        "allow_aad_per_user": RoleOption("configure_licensing_allow_aad_per_user"),
        # licensing_mode refuses an empty list: no servers means leave the list alone.
        "license_servers": RoleOption("configure_licensing_license_servers", empty_is_unset=True),
        "clear_license_servers": RoleOption("configure_licensing_clear_license_servers"),
        "scope": RoleOption("configure_licensing_scope"),
        "policy_conflict": RoleOption("configure_licensing_policy_conflict"),
        "restart": RoleOption("configure_licensing_restart_strategy", _restart_or_reboot),
        "backup": RoleOption("configure_licensing_backup"),
        "backup_dir": RoleOption("configure_licensing_backup_dir", empty_is_unset=True),
    }),
    "grace_reset": Role("grace_period", {
        "acknowledge_lab_use": RoleOption("grace_reset_acknowledge_lab_use"),
        "restart": RoleOption("grace_reset_restart_strategy", _restart),
        "backup_dir": RoleOption("grace_reset_backup_dir", empty_is_unset=True),
    }),
    "mslicensing_reset": Role("mslicensing", {
        "views": RoleOption("mslicensing_reset_views"),
        "recreate_for_users": RoleOption("mslicensing_reset_recreate_for_users"),
        "backup_dir": RoleOption("mslicensing_reset_backup_dir", empty_is_unset=True),
    }),
    "grace_report": Role("licensing_info", {
        "warning_days": RoleOption("grace_report_warning_days"),
    }),
    "drift_check": Role("licensing_baseline", {
        "baseline": RoleOption("drift_check_baseline", _drift_baseline),
    }),
    "diagnose": Role("licensing_diagnose", {
        "warning_days": RoleOption("diagnose_warning_days"),
        "critical_days": RoleOption("diagnose_critical_days"),
        "license_server_views": RoleOption("diagnose_license_server_views"),
    }, group_variable="diagnose_session_host_group"),
}


def skip_reason(role_name: t.Any, task_vars: Mapping[str, t.Any], template: t.Callable[[t.Any], t.Any]) -> str | None:
    """Why this host is skipped: it is not in the group the role's task is for (None: run the task)."""
    role = ROLES.get(role_name) if isinstance(role_name, str) else None
    if role is None or role.group_variable is None or role.group_variable not in task_vars:
        return None
    group = template(task_vars[role.group_variable])
    if task_vars.get("inventory_hostname") in (task_vars.get("groups") or {}).get(group, ()):
        return None
    return f"not in the group {group} ({role.group_variable})"


def task_args(role_name: t.Any, module: str, args: Mapping[str, t.Any], task_vars: Mapping[str, t.Any],
              template: t.Callable[[t.Any], t.Any]) -> dict[str, t.Any]:
    """The task's arguments with each option of the role that its variable sets.

    A variable that is set wins over the task's other arguments and module_defaults, as the role's
    ``"{{ variable }}"`` argument did; an undefined one, or an empty one where the role used ``omit``,
    leaves the argument as it is.
    """
    role = ROLES.get(role_name) if isinstance(role_name, str) else None
    if role is None or role.module != module:
        usable = sorted(name for name, known in ROLES.items() if known.module == module)
        raise AnsibleActionFail(
            f"options_from_role={role_name!r} is not a role of this collection that uses {module}; "
            f"{module} takes {' or '.join(usable) if usable else 'no role'}. Pass the options as arguments instead.")
    cache: dict[str, t.Any] = {}
    omit_token = task_vars.get("omit")

    def variable(name: str) -> t.Any:
        if name not in cache:
            raw = task_vars.get(name, _UNDEFINED)
            try:
                value = _UNDEFINED if raw is _UNDEFINED else template(raw)
                if isinstance(value, str):
                    value = _as_template_result([value])
            except Exception as exc:  # pylint: disable=broad-exception-caught
                if type(exc).__name__ != "AnsibleValueOmittedError":  # "{{ omit }}" on ansible-core 2.19
                    raise
                value = _UNDEFINED
            # "{{ omit }}" before 2.19 gives the omit placeholder string.
            cache[name] = _UNDEFINED if omit_token is not None and value == omit_token else value
        return cache[name]

    merged = dict(args)
    for option, source in role.options.items():
        value = variable(source.variable)
        if value is _UNDEFINED:
            continue
        if source.derive is not None:
            value = source.derive(value, variable)
        # The roles passed these with `x or omit`, and omit removes the option, module_defaults' value too.
        if source.empty_is_unset and (value is None or (isinstance(value, (str, list, dict)) and not value)):
            merged.pop(option, None)
            continue
        merged[option] = value
    return merged
