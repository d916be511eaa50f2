# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: grace_period
short_description: Report, or in a lab reset, the RD Session Host licensing grace period
version_added: 0.1.0
description:
  - V(query) reports the days left of the 120-day licensing grace period (WMI
    C(Win32_TerminalServiceSetting.GetGracePeriodDays)), a state, and whether a licensing mode and
    a license server are configured, which is what makes C(days_left=0) normal or a problem.
  - V(reset) deletes the grace period's timebomb so that the host starts a new grace period.
    B(Resetting licenses nothing.) It is not supported by Microsoft, it does not make an unlicensed
    deployment compliant, and it exists for lab and test hosts only; it refuses to run unless
    O(acknowledge_lab_use=true).
  - "A reset always backs up the C(GracePeriod) key (binary values included) on the controller
    first, then in one call: enables the take-ownership and restore privileges, makes Administrators
    (S-1-5-32-544) the owner, grants them full control, deletes only values named like
    C(L$*TIMEBOMB*), and puts the original owner and permissions back."
requirements:
  - On the controller, pywinrm for the C(winrm) connection, or pypsrp for the C(psrp) connection.
options:
  state:
    description:
      - V(query) only reads. V(reset) deletes the timebomb (see above).
    type: str
    choices: [query, reset]
    default: query
  warning_days:
    description:
      - The state is V(expiring) when this many days or fewer are left.
      - The same threshold name as the O(remote_desktop.licensing.fleet_report#module:warning_days) of
        M(remote_desktop.licensing.fleet_report) and the P(remote_desktop.licensing.licensing_grace_class#filter) filter.
      - The alias O(expiring_days) is the earlier name, still accepted.
    type: int
    default: 30
    aliases: [expiring_days]
  acknowledge_lab_use:
    description:
      - Must be V(true) for O(state=reset), to confirm this is a lab or test host and that a reset
        licenses nothing.
    type: bool
    default: false
  restart:
    description:
      - After a reset, V(if_changed) restarts TermService (and its dependents) in the same call, which
        starts the new grace period and B(disconnects every session). V(never) returns
        RV(restart_required=true) instead; the old expiry stays in force until the service restarts.
    type: str
    choices: [never, if_changed]
    default: never
  backup_dir:
    description:
      - The controller directory for the reset's backup, as
        C(<backup_dir>/<inventory_hostname>/graceperiod-<UTC timestamp>.reg).
      - Defaults to C(~/.ansible/remote_desktop.licensing/backups) on the controller, outside any
        collection, so that upgrading or reinstalling the collection keeps the backups; in an
        execution environment, point it at persistent storage.
      - A directory inside an installed collection (a path with an C(ansible_collections) component)
        is refused before the host is changed.
    type: path
attributes:
  check_mode:
    support: full
    description: A query only reads; a reset in check mode reports the values it would delete and writes nothing.
  diff_mode:
    support: full
    description: The timebomb values a reset removes.
notes:
  - On Windows Server 2022 and later the GracePeriod key may be locked so that only SYSTEM can change
    it; the reset then fails with nothing changed and says what would work (reported by public reset
    scripts; not verified in a lab). Where Administrators have no access at all to the key, not even to
    read it, the reset is refused before anything changes, because its original owner could not be put
    back after taking ownership.
  - C(GetGracePeriodDays) fails with 0x80070002 on some hosts (missing timebomb, or after expiry), or
    answers a non-zero return value without C(DaysLeft); the state is then V(unknown) with the reason,
    never V(expired).
seealso:
  - module: remote_desktop.licensing.licensing_info
  - name: RDS licensing troubleshooting guidance
    description: Microsoft's explanation of the grace period and why resetting it is not recommended.
    link: https://learn.microsoft.com/troubleshoot/windows-server/remote/troubleshoot-rds-licensing-guidance
extends_documentation_fragment:
  - remote_desktop.licensing.agent
  - remote_desktop.licensing.role_options
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: How many grace days are left
  remote_desktop.licensing.grace_period:
    warning_days: 14
  register: grace

- name: Lab host - start a new grace period now (sessions drop)
  remote_desktop.licensing.grace_period:
    state: reset
    acknowledge_lab_use: true
    restart: if_changed
"""

RETURN = r"""
grace_period:
  description: The grace period as WMI reports it before the task.
  returned: always
  type: dict
  contains:
    days_left:
      description: Days left, or null when WMI could not tell.
      type: int
      sample: 97
    state:
      description: V(active), V(expiring), V(expired), V(not_applicable) (no RD Session Host) or V(unknown).
      type: str
      sample: active
    error:
      description: Why WMI could not tell, with the HRESULT.
      type: str
licensing_configured:
  description: Whether the effective licensing mode is Per User, Per Device or AAD Per User and at
    least one license server is configured. With this true, C(days_left=0) is the normal state.
  returned: always
  type: bool
mode:
  description: The effective licensing mode's name.
  returned: always
  type: str
  sample: per_user
license_servers:
  description: The effective license servers.
  returned: always
  type: list
  elements: str
deleted:
  description: The timebomb values a reset deleted (in check mode, would delete).
  returned: with O(state=reset)
  type: list
  elements: str
acl_restored:
  description: Whether the key's owner and permissions read back exactly as before the reset.
  returned: after a reset that deleted something
  type: bool
restart_required:
  description: Whether TermService must restart for the new grace period to start.
  returned: with O(state=reset)
  type: bool
restarted:
  description:
    - Whether TermService was (in check mode, would be) restarted.
    - V(null) when the answer to the reset was lost and the reset was found done afterwards; a restart
      cannot be read back, so RV(restart_required) is then true.
  returned: with O(state=reset)
  type: bool
backup_file:
  description: The verified backup of the GracePeriod key made before the reset. Also in a failed result once it was written.
  returned: after a reset that deleted something
  type: str
backup_checksum:
  description: SHA-256 of the backup file. Also in a failed result once the backup was written.
  returned: after a reset that deleted something
  type: str
lost_answer:
  description:
    - Present when the answer to the write call was lost (the connection dropped, a timeout after the
      request was sent, or an unreadable answer). The module reconnected once and read back every key
      the write touched.
    - V(done) means every change is on the host; the task reports C(changed) with a warning.
      C(not done) means nothing was changed; the task fails with C(changed=false). C(unknown) means
      partly applied or unreadable; the task fails with C(changed=true). A failure names the backup.
  returned: when the answer to the write call was lost
  type: dict
  contains:
    cause:
      description: The error that lost the answer.
      type: str
    outcome:
      description: V(done), V(not done) or V(unknown).
      type: str
    found:
      description: Each write operation, its state (V(done), V(not done), V(unknown)) and what was found.
      type: list
      elements: dict
    message:
      description: The warning or failure message.
      type: str
"""
