# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: licensing_mode
short_description: Set the Remote Desktop licensing mode and license servers of an RD Session Host
version_added: 0.1.0
description:
  - Ensures an RD Session Host uses the licensing mode (Per User or Per Device) and the license
    servers the administrator wants, idempotently, with an exact check mode and a diff.
  - By default it writes the local values, C(LicensingMode) (REG_DWORD) under
    C(HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core) and
    C(SpecifiedLicenseServers) (REG_MULTI_SZ) under
    C(HKLM\\SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers), the values
    Server Manager and C(Set-RDLicenseConfiguration) set.
  - Group Policy values under C(HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services)
    win over the local ones. When the policy sets something other than what is asked, a local write
    would have no effect and would be undone by the next policy refresh; O(policy_conflict) says what
    to do then. O(scope=policy) writes the policy values themselves, for hosts managed without domain GPO.
  - One round trip reads the state; when something differs, a second one writes (all or nothing,
    see M(remote_desktop.licensing.registry_values)) and, if asked, restarts the Remote Desktop
    Services service.
requirements:
  - On the controller, pywinrm for the C(winrm) connection, or pypsrp for the C(psrp) connection.
options:
  mode:
    description:
      - The licensing mode. V(per_user) is C(LicensingMode) 4, V(per_device) is 2.
      - V(aad_per_user) (6) is for Azure Virtual Desktop and Windows multi-session hosts whose users
        have Entra ID licences with RDS rights. It needs O(allow_aad_per_user=true) and Windows Server
        2022 (build 20348) or Windows 10 1903 (build 18362) or later; otherwise the task fails.
      - Left out, the mode is not changed. The values 0, 1, 3 and 5 are never written.
      - Hosts in a workgroup must use V(per_device); the module warns when V(per_user) is set on one.
    type: str
    choices: [per_user, per_device, aad_per_user]
  allow_aad_per_user:
    description:
      - Confirms that O(mode=aad_per_user) is intended.
    type: bool
    default: false
  license_servers:
    description:
      - The license servers, in the order the host should try them. Each is a NetBIOS name
        (letters, digits, V(-) and V(_), at most 15 characters), a DNS name or an IP address.
        Duplicates are refused. Names compare without case.
      - Left out, the servers are not changed. An empty list is refused unless
        O(clear_license_servers=true).
    type: list
    elements: str
  clear_license_servers:
    description:
      - Remove every configured license server (in O(scope)). With this set, O(license_servers) must be
        left out or empty.
    type: bool
    default: false
  scope:
    description:
      - V(local) writes the local values (the default).
      - V(policy) writes the Group Policy values (C(LicensingMode) REG_DWORD and C(LicenseServers), a
        comma-separated REG_SZ), as the local Group Policy editor would. On a domain member whose
        GPO sets these policies, the GPO puts its own values back at the next refresh.
    type: str
    choices: [local, policy]
    default: local
  policy_conflict:
    description:
      - What to do in O(scope=local) when a Group Policy value differs from what is asked.
      - V(fail) (the default) fails before anything is written; the message names the policy value and
        its key and says how to fix it.
      - V(warn) writes the local values, warns, and returns RV(policy_overrides=true).
      - V(ignore) writes the local values and returns RV(policy_overrides=true) without a warning.
    type: str
    choices: [fail, warn, ignore]
    default: fail
  restart:
    description:
      - V(never) leaves the restart to you and returns RV(restart_required=true) after a change.
      - V(if_changed) restarts the Remote Desktop Services service (TermService, and the services that
        depend on it such as UmRdpService) in the same call, after a successful change. The call is all
        or nothing, so if the restart fails the values it wrote are put back and the task fails.
      - V(reboot) reboots the host after a successful change, in the same task, through the action plugin of
        M(ansible.windows.win_reboot), and waits up to 30 minutes for it to come back. The C(ansible.windows)
        collection must be installed; without it the task fails before the host is contacted. If the reboot
        fails, the task fails saying that the change is in place (RV(after)) and whether the host still has to be
        rebooted; the change is not undone. After a lost write answer whose writes were all found on the host,
        the host is rebooted too.
      - B(Restarting TermService or rebooting disconnects every RDP session on the host.) Use either in a
        maintenance window.
      - None of them restarts, reboots or asks for a restart when the change leaves the licensing in use the same, for example
        local values that Group Policy overrides (O(policy_conflict=warn) or O(policy_conflict=ignore)); a warning
        says so.
    type: str
    choices: [never, if_changed, reboot]
    default: never
  backup:
    description:
      - Before writing, save the keys that are about to change to a C(.reg) file on the controller,
        under O(backup_dir), verified by reading it back. Importing the file undoes the change.
    type: bool
    default: false
  backup_dir:
    description:
      - The controller directory for backups, as
        C(<backup_dir>/<inventory_hostname>/licensing-mode-<UTC timestamp>.reg), mode 0600.
      - Defaults to C(~/.ansible/remote_desktop.licensing/backups) on the controller, outside any
        collection, so that upgrading or reinstalling the collection keeps the backups; in an
        execution environment, point it at persistent storage.
      - A directory inside an installed collection (a path with an C(ansible_collections) component)
        is refused before the host is changed.
    type: path
attributes:
  check_mode:
    support: full
    description: Reads and decides; sends no write, no restart and no reboot. C(changed), the diff and the other results are those a real run would report.
  diff_mode:
    support: full
    description: The mode (name and number) and the server list before and after, and the effective result.
notes:
  - Microsoft documents no way for the Remote Desktop service to pick up a new mode without a restart,
    so the module reports RV(restart_required) after a change; whether a TermService restart is always
    enough (rather than a reboot) has not been verified in a lab.
  - In a Connection Broker deployment, the broker's licensing settings (C(Set-RDLicenseConfiguration))
    may be pushed to the hosts again and overwrite per-host values.
seealso:
  - module: remote_desktop.licensing.licensing_info
  - module: remote_desktop.licensing.registry_values
  - name: RDS licensing troubleshooting guidance
    description: Microsoft's guide to the licensing mode, servers and Group Policy precedence.
    link: https://learn.microsoft.com/troubleshoot/windows-server/remote/troubleshoot-rds-licensing-guidance
extends_documentation_fragment:
  - remote_desktop.licensing.agent
  - remote_desktop.licensing.role_options
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: Per User licensing with two license servers
  remote_desktop.licensing.licensing_mode:
    mode: per_user
    license_servers:
      - ls01.example.com
      - ls02.example.com

- name: Per Device on workgroup hosts, restarting TermService in the maintenance window
  remote_desktop.licensing.licensing_mode:
    mode: per_device
    license_servers: [10.0.0.5]
    restart: if_changed
    backup: true

- name: Report (check mode) whether hosts would change, without failing on GPO-managed ones
  remote_desktop.licensing.licensing_mode:
    mode: per_user
    policy_conflict: warn
  check_mode: true
  register: mode_check

- name: Hosts without domain GPO - set the policy values, as gpedit would
  remote_desktop.licensing.licensing_mode:
    mode: per_user
    license_servers: [ls01.example.com]
    scope: policy

- name: Remove every configured license server (local values)
  remote_desktop.licensing.licensing_mode:
    clear_license_servers: true
"""

RETURN = r"""
before:
  description: The licensing state before the task.
  returned: always
  type: dict
  contains:
    local_mode:
      description: The local C(LicensingMode), or null when it is not set.
      type: int
      sample: 5
    local_mode_name:
      description: Its name (V(per_user), V(per_device), V(not_configured), ...).
      type: str
      sample: not_configured
    local_license_servers:
      description: The local C(SpecifiedLicenseServers), or null when not set.
      type: list
      elements: str
    policy_mode:
      description: The Group Policy C(LicensingMode), or null when no policy sets it.
      type: int
    policy_mode_name:
      description: Its name.
      type: str
    policy_license_servers:
      description: The Group Policy C(LicenseServers), split on commas, or null.
      type: list
      elements: str
    mode:
      description: The effective mode (policy first, then local).
      type: int
      sample: 4
    mode_name:
      description: The effective mode's name.
      type: str
      sample: per_user
    mode_source:
      description: Where the effective mode comes from, V(policy), V(local) or V(unset).
      type: str
      sample: local
    license_servers:
      description: The effective license servers.
      type: list
      elements: str
    license_servers_source:
      description: Where they come from, V(policy), V(local) or V(unset).
      type: str
after:
  description: The licensing state after the task (in check mode, what it would be); the same keys as RV(before).
  returned: always
  type: dict
policy_controlled:
  description: Whether Group Policy sets the licensing mode or the license servers on this host at all.
  returned: always
  type: bool
policy_overrides:
  description: Whether a Group Policy value differs from the local value asked for, so that the
    local value has no effect (only with O(policy_conflict=warn) or V(ignore)).
  returned: always
  type: bool
policy_conflicts:
  description: The Group Policy values that differ from what was asked, in words.
  returned: always
  type: list
  elements: str
restart_required:
  description: Whether the Remote Desktop Services service must be restarted for the change to take
    effect (a change to the effective mode or license servers was made and O(restart=never), or the
    restart's answer was lost, see RV(restarted), or the reboot did not start, see RV(rebooted)).
  returned: always
  type: bool
rebooted:
  description:
    - Whether the host was (in check mode, would be) rebooted by this task (O(restart=reboot)).
    - When the reboot did not start, the task fails with V(false) and RV(restart_required=true); when it started
      but the host was not seen back within 30 minutes, the task fails with V(true).
  returned: always
  type: bool
  version_added: 0.2.0
restarted:
  description:
    - Whether TermService was (in check mode, would be) restarted by this task.
    - V(null) when the answer to the write request was lost and the writes were found on the host
      afterwards (see RV(lost_answer)); a restart cannot be read back, so RV(restart_required) is then true.
  returned: always
  type: bool
domain:
  description: The host's domain membership, from C(Win32_ComputerSystem).
  returned: always
  type: dict
  sample: {part_of_domain: true, domain: example.com}
backup_file:
  description: The backup written on the controller before the change. Also in a failed result once it was written.
  returned: when O(backup=true) and something changed outside check mode
  type: str
backup_checksum:
  description: SHA-256 of the backup file. Also in a failed result once the backup was written.
  returned: when a backup was written
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
