# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: licensing_info
short_description: Report the Remote Desktop Services licensing state of a Windows host
version_added: 0.1.0
description:
  - Reads everything about a host's RDS licensing in one round trip over the task's connection
    (one PowerShell process on the host).
  - The licensing mode and the license servers, each as the local value, the Group Policy value,
    the effective value and its source (V(policy), V(local) or V(unset)), beside what WMI
    C(Win32_TerminalServiceSetting) reports.
  - The grace period (days left and a state), the OS release, whether the RD Session Host role is
    installed, the Remote Desktop services, domain membership and the client license cache
    (C(HKLM\\SOFTWARE\\Microsoft\\MSLicensing), both registry views).
  - A list of warnings an administrator must know about, such as a licensing mode that is not
    configured or a Group Policy value that overrides the local one.
  - The module runs on the controller and sends the collection's fixed PowerShell agent through
    the task's connection. It never writes to the host.
requirements:
  - On the controller, pywinrm for the C(winrm) connection, or pypsrp for the C(psrp) connection.
options:
  gather_subset:
    description:
      - Which parts of the report to read. V(all) reads everything.
      - Prefix an entry with V(!) to leave that part out, for example V([all, "!client_cache"]).
      - Valid entries are V(all), V(mode), V(license_servers), V(grace), V(os), V(role),
        V(services), V(domain) and V(client_cache).
    type: list
    elements: str
    default: [all]
  warning_days:
    description:
      - The grace period is reported as V(expiring) when this many days or fewer are left.
      - The same threshold name as the O(remote_desktop.licensing.fleet_report#module:warning_days) of
        M(remote_desktop.licensing.fleet_report) and the P(remote_desktop.licensing.licensing_grace_class#filter) filter.
      - The alias O(grace_expiring_days) is the earlier name, still accepted.
    type: int
    default: 30
    aliases: [grace_expiring_days]
notes:
  - A C(days_left) of V(0) means the 120-day grace period is over, which is normal once licensing
    is configured; the state is V(expired) and a warning is raised only when licensing is not configured.
seealso:
  - name: RDS licensing troubleshooting guidance
    description: Microsoft's guide to the registry values and Group Policy settings this module reads.
    link: https://learn.microsoft.com/troubleshoot/windows-server/remote/troubleshoot-rds-licensing-guidance
extends_documentation_fragment:
  - remote_desktop.licensing.group_defaults
  - remote_desktop.licensing.agent
  - remote_desktop.licensing.role_options
  - remote_desktop.licensing.read_only
author:
  - remote_desktop.licensing maintainers (@remote-desktop)
"""

EXAMPLES = r"""
- name: Read the whole licensing report
  remote_desktop.licensing.licensing_info:
  register: rds

- name: Fail when Group Policy decides the licensing mode
  ansible.builtin.assert:
    that: rds.licensing.mode.source != 'policy'
    fail_msg: "{{ inventory_hostname }} takes its licensing mode from Group Policy"

- name: Only the grace period and the role (fastest)
  remote_desktop.licensing.licensing_info:
    gather_subset: [grace, role]
    warning_days: 14
  register: grace
"""

RETURN = r"""
licensing:
  description: The host's licensing report. Only the parts chosen by O(gather_subset) are present.
  returned: success
  type: dict
  contains:
    gather_subset:
      description: The parts that were read.
      type: list
      elements: str
      sample: [mode, license_servers, grace, os, role, services, domain, client_cache]
    mode:
      description:
        - The licensing mode. Numbers are the registry values; names are V(per_device) (2),
          V(per_user) (4), V(not_configured) (5), V(aad_per_user) (6).
        - Keys C(effective), C(effective_name), C(source) (V(policy), V(local) or V(unset)),
          C(policy), C(policy_name), C(local), C(local_name), C(wmi_licensing_type),
          C(wmi_licensing_name), C(wmi_policy_source).
      type: dict
      sample: {effective: 2, effective_name: per_device, source: policy, policy: 2, local: 4}
    license_servers:
      description:
        - License servers as lists of names. Keys C(effective), C(source), C(policy) (the policy's
          comma-separated value, split), C(local) (C(SpecifiedLicenseServers); a REG_SZ reads as a
          one-server list and raises a warning), C(local_type) (the registry type of C(SpecifiedLicenseServers),
          V(multistring) as documented), C(wmi) (C(GetSpecifiedLicenseServerList)), C(wmi_policy_source).
        - C(policy) and C(local) are null when the value is absent, and an empty list when it exists
          but names no server; C(effective) is an empty list when no scope names a server.
      type: dict
      sample: {effective: [ls01.example.com], source: local, policy: null, local: [ls01.example.com], local_type: multistring}
    grace_period:
      description:
        - C(days_left) from C(GetGracePeriodDays), C(state) (V(active), V(expiring), V(expired),
          V(not_applicable) when the host is not an RD Session Host, V(unknown) when WMI fails),
          C(error) and C(hresult) when it failed (the WMI or Win32 code from C(MSFT_WmiError.error_Code),
          such as 0x80070002; null when the method failed through its return value), C(warning_days)
          (the threshold used) and C(expiring_days) (its earlier name, same value).
      type: dict
      sample: {days_left: 97, state: active, error: null, hresult: null, warning_days: 30, expiring_days: 30}
    os:
      description: C(product_name), C(edition), C(installation_type), C(build), C(ubr), C(version),
        C(display_version) and C(server_version) (for example V(Windows Server 2022)).
      type: dict
      sample: {product_name: Windows Server 2022 Datacenter, build: 20348, ubr: 2700, server_version: Windows Server 2022}
    role:
      description: C(rdsh_installed), C(terminal_server_mode) (1 = RD Session Host) and C(install_state).
      type: dict
      sample: {rdsh_installed: true, terminal_server_mode: 1, install_state: 1}
    services:
      description: For C(TermService), C(UmRdpService), C(SessionEnv) and C(TermServLicensing) -
        C(exists), C(state) (for example V(running)) and C(start_mode).
      type: dict
      sample: {TermService: {exists: true, state: running, start_mode: manual}}
    domain:
      description: C(member), C(name), C(workgroup), C(role) (Win32_ComputerSystem DomainRole) and C(computer_name).
      type: dict
      sample: {member: true, name: example.com, workgroup: null, role: 3, computer_name: RDSH01}
    client_cache:
      description: The MSLicensing client license cache - C(present), C(store_entries) and per view
        (V(64), V(32)) C(present), C(hardware_id), C(store_entries).
      type: dict
      sample: {present: true, store_entries: 2, views: {"64": {present: true, hardware_id: true, store_entries: 2}}}
    warnings:
      description: Things an administrator must know, in plain words.
      type: list
      elements: str
      sample: ["The licensing mode is not configured (event 1068); set Per User or Per Device."]
read_at:
  description: When the controller received the host's answer (UTC, ISO 8601), so saved results show their age.
  returned: success
  type: str
  sample: "2026-11-28T07:50:40Z"
agent:
  description: What the agent reported about its own run.
  returned: success
  type: dict
  sample: {ps_version: "5.1.20348.2700", user: "EXAMPLE\\ansible", elevated: true}
"""
