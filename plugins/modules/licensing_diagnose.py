# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: licensing_diagnose
short_description: Diagnose why an RD Session Host will refuse connections (the RD Licensing Diagnoser for a fleet)
version_added: 0.2.0
description:
  - On a license server (O(view=license_server)) reads, in one round trip, what the license server can tell
    about itself - activation, key packs and capacity per CAL type and version (as
    M(remote_desktop.licensing.license_server_info)), membership of the AD group Terminal Server License Servers
    (C(IsLSinTSLSGroup)), whether it is a domain controller (C(IsLSonDC)), the license server security group policy
    (C(IsLSSecGrpGPEnabled)), C(IsSecureAccessAllowed) for O(session_hosts) and the newest Per User usage report
    (C(Win32_TSLicenseReport.FetchReportSummaryEntries)) - and returns it as RV(license_server_view).
  - On a session host (O(view=session_host)) reads, in one round trip, the licensing mode and license servers,
    the grace period, the OS, the domain, C(GetTStoLSConnectivityStatus) for each configured license server and
    what C(FindLicenseServers) discovers; combines that with O(license_server_views) (the RV(license_server_view)
    of license servers gathered in the same play) and returns RV(diagnosis), a list of findings.
  - A license server that is not in O(license_server_views) is diagnosed from the session host's view alone, and
    the diagnosis says so in RV(diagnosis.notes).
  - Every WMI call's failure is reported inside the answer and becomes an V(unknown) state, never a failed task
    or a healthy host.
options:
  view:
    description: Which side of licensing the host is diagnosed as.
    type: str
    choices: [session_host, license_server]
    default: session_host
  license_server_views:
    description:
      - The RV(license_server_view) results of license servers, usually
        C(groups['rds_license_servers'] | map('extract', hostvars, 'diagnose_license_server_view')).
      - Only used with O(view=session_host).
    type: list
    elements: dict
    default: []
  session_hosts:
    description: Session host names to ask C(IsSecureAccessAllowed) about (only with O(view=license_server)).
    type: list
    elements: str
    default: []
  domain:
    description: Domain for C(IsLSinTSLSGroup); empty asks a domain controller of the license server's own domain.
    type: str
    default: ""
  warning_days:
    description: Grace period days left at or below which a host without a working license server is critical.
    type: int
    default: 30
  critical_days:
    description: Days left at or below which RV(diagnosis.grace_class) is V(critical) (as C(licensing_grace_class)).
    type: int
    default: 7
notes:
  - C(PingLicenseServer) is not called; Microsoft documents it as unavailable since Windows Server 2008 R2.
  - No usage report is generated (that writes a file on the license server); the newest existing one is read.
  - The compatibility rules (CAL and license server versions) and their sources are in docs/architecture.md.
extends_documentation_fragment:
  - remote_desktop.licensing.group_defaults
  - remote_desktop.licensing.agent
  - remote_desktop.licensing.role_options
  - remote_desktop.licensing.read_only
seealso:
  - module: remote_desktop.licensing.licensing_info
  - module: remote_desktop.licensing.license_server_info
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: License servers first
  remote_desktop.licensing.licensing_diagnose:
    view: license_server
  register: ls
  when: inventory_hostname in groups['rds_license_servers']

- name: Then each session host, with every license server's view
  remote_desktop.licensing.licensing_diagnose:
    license_server_views: "{{ groups['rds_license_servers'] | map('extract', hostvars, ['ls', 'license_server_view']) | list }}"
  register: diag
  when: inventory_hostname in groups['rds_session_hosts']
"""

RETURN = r"""
diagnosis:
  description: The session host's diagnosis (O(view=session_host)).
  returned: success and view is session_host
  type: dict
  contains:
    state:
      description: V(healthy), V(warning), V(critical), V(unknown) (something could not be read) or V(not_applicable).
      type: str
    healthy:
      description: True when there is no finding.
      type: bool
    findings:
      description: What is wrong, each with C(id), C(severity) (critical, warning, info), C(summary), C(evidence)
        (the raw values used) and C(remedy) (console, GPO setting or PowerShell command).
      type: list
      elements: dict
    servers:
      description: Each configured license server with its connectivity status number and name and whether a
        license server view was used (C(session_host_and_license_server) or C(session_host_only)).
      type: list
      elements: dict
    working_servers:
      description: Configured license servers that can license this host.
      type: list
      elements: str
    notes:
      description: What the diagnosis could not check, such as servers outside the inventory.
      type: list
      elements: str
    grace_class:
      description: C(licensing_grace_class) with this diagnosis.
      type: str
    host_view:
      description: The raw session host view the rules used.
      type: dict
read_at:
  description: When the controller received the host's answer (UTC, ISO 8601); the diagnose role saves it with each result.
  returned: success
  type: str
  sample: "2026-11-28T16:11:04Z"
license_server_view:
  description: The license server's own view (O(view=license_server)).
  returned: success and view is license_server
  type: dict
  contains:
    host:
      description: Inventory name.
      type: str
    computer_name:
      description: Windows computer name.
      type: str
    domain:
      description: DNS domain (or workgroup name).
      type: str
    server:
      description: As RV(remote_desktop.licensing.license_server_info#module:license_server).
      type: dict
    checks:
      description: C(in_tsls_group), C(on_dc), C(security_group_policy) (each C(value) and C(error)),
        C(secure_access), C(usage_report) and C(usage_error).
      type: dict
"""
