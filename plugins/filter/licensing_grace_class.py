# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _drift

DOCUMENTATION = r"""
---
name: licensing_grace_class
short_description: Classify a host's licensing grace period
version_added: 0.1.0
description:
  - Takes the C(licensing) result of M(remote_desktop.licensing.licensing_info) and returns one of
    V(ok), V(warning), V(critical), V(unknown), V(unlicensed) or V(not_applicable).
  - V(ok) - licensing is configured (a licensed mode and a license server) and grace days are still left.
  - V(unknown) - the grace period could not be read, or it has ended on a host whose licensing is
    configured. Configuration alone does not show that the license server issues CALs, so such a
    host is not reported as V(ok).
  - V(critical) and V(warning) - licensing is not configured and the days left are at or under the thresholds.
  - V(unlicensed) - licensing is not configured; the host is still in its grace period.
  - V(not_applicable) - the host is not an RD Session Host.
options:
  _input:
    description: The C(licensing) dictionary returned by M(remote_desktop.licensing.licensing_info).
    type: dict
    required: true
  warning_days:
    description: V(warning) at this many days left or fewer.
    type: int
    default: 30
  critical_days:
    description: V(critical) at this many days left or fewer.
    type: int
    default: 7
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: Classify
  ansible.builtin.debug:
    msg: "{{ info.licensing | remote_desktop.licensing.licensing_grace_class(30, 7) }}"
"""

RETURN = r"""
_value:
  description: V(ok), V(warning), V(critical), V(unknown), V(unlicensed) or V(not_applicable).
  type: str
"""


def licensing_grace_class(report, warning_days=30, critical_days=7):
    if not isinstance(report, dict):
        raise AnsibleFilterError("licensing_grace_class takes licensing_info's 'licensing' dictionary")
    return _drift.grace_class(report, int(warning_days), int(critical_days))


class FilterModule:
    def filters(self):
        return {"licensing_grace_class": licensing_grace_class}
