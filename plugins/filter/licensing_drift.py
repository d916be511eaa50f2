# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _drift

DOCUMENTATION = r"""
---
name: licensing_drift
short_description: List how a host's licensing report differs from a baseline
version_added: 0.1.0
description:
  - Compares the C(licensing) result of M(remote_desktop.licensing.licensing_info) with a baseline and
    returns one item per drifted setting, with C(setting), C(expected), C(actual), C(source)
    (V(local), V(policy), V(unset) or V(wmi)) and C(gpo_overrides_local_fix), which is true when a Group
    Policy value would undo a local fix.
  - It only reads its input, so a play gives the same answer with or without C(--check).
options:
  _input:
    description: The C(licensing) dictionary returned by M(remote_desktop.licensing.licensing_info).
    type: dict
    required: true
  baseline:
    description:
      - C(mode) (V(per_user), V(per_device) or V(aad_per_user)), C(license_servers) (a list, order
        matters, case does not; one string separated by commas or line breaks is split), C(forbid_policy_conflicts) (a local value that differs from the
        policy value is drift), C(min_grace_days) (fewer days left while licensing is not configured
        is drift). Settings left out are not checked.
    type: dict
    required: true
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: What differs from Per User with one license server
  ansible.builtin.debug:
    msg: "{{ info.licensing | remote_desktop.licensing.licensing_drift({'mode': 'per_user', 'license_servers': ['ls01']}) }}"
"""

RETURN = r"""
_value:
  description: The drifted settings; an empty list when the host matches the baseline.
  type: list
  elements: dict
"""


def licensing_drift(report, baseline):
    if not isinstance(report, dict) or not isinstance(baseline, dict):
        raise AnsibleFilterError("licensing_drift takes licensing_info's 'licensing' dictionary and a baseline dictionary")
    try:
        return _drift.drift(report, baseline)
    except _drift.BaselineError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"licensing_drift": licensing_drift}
