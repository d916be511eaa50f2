# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The option by which a shipped role hands its variables to the module it runs."""

    DOCUMENTATION = r"""
options:
  options_from_role:
    description:
      - Read options from the variables of this collection's role of that name, on the controller, instead of
        from this task's arguments. The shipped roles' tasks use it; a play of your own normally passes the
        options themselves.
      - Each role variable sets one option (C(configure_licensing_mode) sets C(mode) of
        M(remote_desktop.licensing.licensing_mode), a role's C(<role>_restart_strategy) sets C(restart)), templated
        as a C({{ variable }}) argument would be. A variable that is set wins over the task's other arguments and
        C(module_defaults), as the role's own arguments did;
        an undefined one leaves the argument as it is, and an empty server list or backup directory removes it, as
        the roles' C(omit) did.
      - The role must be one that runs this module (V(configure_licensing) for M(remote_desktop.licensing.licensing_mode),
        V(grace_reset) for M(remote_desktop.licensing.grace_period), V(mslicensing_reset) for
        M(remote_desktop.licensing.mslicensing), V(grace_report) for M(remote_desktop.licensing.licensing_info),
        V(drift_check) for M(remote_desktop.licensing.licensing_baseline), V(diagnose) for
        M(remote_desktop.licensing.licensing_diagnose)).
      - With V(diagnose), a host outside the group that C(diagnose_session_host_group) names is skipped before it is
        contacted, as the role's task did with a C(when).
      - ansible-core compiles each template string of a task once per host, which cost the shipped playbooks up
        to 12 ms of controller CPU per host; a variable holding plain data is read as it is, without a template.
    type: str
    choices: [configure_licensing, grace_reset, mslicensing_reset, grace_report, drift_check, diagnose]
    version_added: 0.2.0
"""
