# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: batch_results
short_description: Summarise and save the registered results of a batch of hosts on the controller
version_added: 0.2.0
description:
  - Runs on the controller only, once per batch (C(run_once)), and contacts no host. The collection's
    roles and playbooks use it so that saving and publishing results costs one task per batch, not one
    per host, and never marks a managed host C(changed).
  - Turns each host's registered result into a compact record (what the roles publish with
    C(set_stats)), one line per host, and one line for the whole batch.
  - With O(results_dir), writes one C(<inventory_hostname>.json) per host. Each file holds the record
    (or, for V(licensing_report), the whole task result; for V(diagnose), the record is the whole diagnosis) with C(run_id) and C(saved_at) added, so a
    report can tell a result of this run from an older one.
  - A failed or unreachable host is in the records with its C(status) and C(error); whatever its result does
    not state is null (unknown), never a definite false, 0 or empty list (C(licensing_configured),
    C(license_servers), C(drifted), C(capacity), C(finding_ids), ...). C(changed), C(restart_required) and
    C(restarted) of a failed write keep what the module's failure result states (a lost answer says
    C(changed=true)); for an unreachable host they are null.
  - Always returns C(changed=false), since files on the controller are not managed-host state.
options:
  kind:
    description: Which role or playbook the results come from; decides the record and the lines.
    type: str
    required: true
    choices: [drift_check, grace_report, license_server_report, licensing_report, configure_licensing, mslicensing_reset, grace_reset,
              diagnose]
  results:
    description:
      - The registered result of each host, by inventory host name.
      - For V(diagnose), each host's two registered results of the diagnose role as C(session_host) and
        C(license_server) (the one that does not apply to the host is a skipped result).
    type: dict
    required: true
  results_dir:
    description:
      - A controller directory for one JSON file per host; empty writes none.
      - Refused when it is inside an installed collection (an C(ansible_collections) directory).
    type: str
    default: ""
  results_dir_variable:
    description: The variable a refused O(results_dir) error tells the user to set (the role's or playbook's own name).
    type: str
    default: results_dir
  run_id:
    description: The identifier of this run, written into every file.
    type: str
    default: ""
  run_hosts:
    description:
      - Every host of the run (the play's C(ansible_play_hosts_all)). With O(results_dir) and O(run_id), the
        run manifest C(runs/<run_id>--<digest>.json) beside O(results_dir) lists them, written atomically once
        per play (later batches find it there; each slice of a sliced job writes its own).
      - The P(remote_desktop.licensing.fleet_report#module) module reads it when its C(hosts) option is empty, so
        a host without a result is listed as C(missing) without loading an inventory.
      - Manifests of other runs older than 30 days are removed when a new one is written.
    type: list
    elements: str
    default: []
  warning_days:
    description: For V(grace_report), the warning threshold in grace days left.
    type: int
    default: 30
  critical_days:
    description: For V(grace_report), the critical threshold in grace days left.
    type: int
    default: 7
  restart_strategy:
    description:
      - For V(configure_licensing), how the role makes a change take effect (its C(configure_licensing_restart_strategy)).
      - With V(reboot), a host whose change was not followed by its reboot (the write's answer was lost, or the reboot
        failed) gets a line asking to reboot it, instead of asking for a TermService restart.
    type: str
    choices: [none, service, reboot]
    default: none
attributes:
  check_mode:
    support: full
    description:
      - Writes the result files (and the run manifest) in check mode too; they record what was read, and the hosts
        are not touched.
      - For V(configure_licensing), V(mslicensing_reset) and V(grace_reset) the lines start with C([check mode]),
        since they describe what a real run would change.
  diff_mode:
    support: none
    description: Not applicable.
  platform:
    support: full
    platforms: posix
    description: Runs on the Ansible controller; it contacts no managed host.
extends_documentation_fragment:
  - remote_desktop.licensing.group_defaults
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: Summarise and save every host's drift once per batch
  remote_desktop.licensing.batch_results:
    kind: drift_check
    results: "{{ dict(ansible_play_batch | zip(ansible_play_batch | map('extract', hostvars, 'drift_check_info'))) }}"
    results_dir: /srv/rds/drift
  run_once: true
  register: drift_check_batch

- name: Show one line per host and the batch line
  ansible.builtin.debug:
    msg: "{{ drift_check_batch.lines + [drift_check_batch.fleet] }}"
  run_once: true
"""

RETURN = r"""
records:
  description: The compact record of each host, by inventory host name.
  returned: always
  type: dict
lines:
  description: One line per host, in host order.
  returned: always
  type: list
  elements: str
fleet:
  description: One line for the batch, naming the hosts that need attention and where the result files were saved.
  returned: always
  type: str
files:
  description: The files written.
  returned: always
  type: list
  elements: str
run_id:
  description: The run identifier written into the files.
  returned: always
  type: str
manifest:
  description: The run manifest written by this task; null when none was written (no O(run_hosts), or an earlier batch wrote it).
  returned: always
  type: str
"""
