# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: licensing_baseline
short_description: Compare a host's RDS licensing with a declared baseline (drift check, read only)
version_added: 0.2.0
description:
  - Reads the licensing mode, license servers, grace period and role in one round trip (as
    M(remote_desktop.licensing.licensing_info) does) and lists every setting that differs from the
    baseline, with C(expected), C(actual), C(source) and C(gpo_overrides_local_fix).
  - It never writes to the host. In check mode a host that drifts reports C(changed), as a
    configuration module's check run reports what it would change, and C(--diff) shows the actual
    values against the expected ones. Outside check mode it always reports C(changed=false); the drift
    is in the result (C(drifted), C(drift), C(summary)).
  - For AWX surveys, O(baseline.license_servers) also takes one string of names separated by commas
    or line breaks (V(ls01, ls02)), and booleans and numbers may be given as text.
requirements:
  - On the controller, pywinrm for the C(winrm) connection, or pypsrp for the C(psrp) connection.
options:
  baseline:
    description:
      - The declared state. Settings left out (or empty) are not checked.
      - At least one setting must be given; an empty baseline would check nothing and is refused.
    type: dict
    required: true
    suboptions:
      mode:
        description: The licensing mode every host must use.
        type: str
        choices: [per_user, per_device, aad_per_user]
      license_servers:
        description: The license servers, in order (case does not matter).
        type: list
        elements: str
      forbid_policy_conflicts:
        description: A local value that differs from the Group Policy value counts as drift.
        type: bool
      min_grace_days:
        description: Fewer grace days left while licensing is not configured counts as drift. From 0 to 120.
        type: int
extends_documentation_fragment:
  - remote_desktop.licensing.group_defaults
  - remote_desktop.licensing.agent
  - remote_desktop.licensing.role_options
attributes:
  check_mode:
    support: full
    description: The module only reads. In check mode a drifting host reports C(changed).
  diff_mode:
    support: full
    description: Shows each drifted setting's actual value (before) against the baseline (after).
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: Check mode shows drifting hosts as changed, --diff shows expected versus actual
  remote_desktop.licensing.licensing_baseline:
    baseline:
      mode: per_user
      license_servers: "ls01.example.com, ls02.example.com"
      forbid_policy_conflicts: true
  register: baseline

- name: One line per host
  ansible.builtin.debug:
    msg: "{{ baseline.summary }}"
"""

RETURN = r"""
drifted:
  description: Whether any setting differs from the baseline.
  returned: success
  type: bool
drift:
  description: One item per drifted setting, as the P(remote_desktop.licensing.licensing_drift#filter) filter returns them.
  returned: success
  type: list
  elements: dict
  sample: [{setting: mode, expected: per_user, actual: per_device, source: local, gpo_overrides_local_fix: false}]
summary:
  description: "One line for the host, for example C(rdsh01: DRIFT mode is per_device, expected per_user (local))."
  returned: success
  type: str
policy_controlled:
  description: Whether Group Policy sets the mode or the license servers on this host.
  returned: success
  type: bool
baseline:
  description: The baseline as compared (empty settings removed, license servers as a list).
  returned: success
  type: dict
licensing:
  description: The licensing report the comparison used (mode, license_servers, grace_period, role, warnings).
  returned: success
  type: dict
read_at:
  description: When the controller received the host's answer (UTC, ISO 8601).
  returned: success
  type: str
"""
