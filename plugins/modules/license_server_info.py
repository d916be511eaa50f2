# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: license_server_info
short_description: Report an RD License Server's activation, CAL key packs and issued licenses
version_added: 0.1.0
description:
  - Reads, in one round trip, what an RD License Server holds, from WMI (C(root\\cimv2)) and the
    registry. Activation status (C(Win32_TSLicenseServer.GetActivationStatus)), license server ID,
    discovery role and database path.
  - Each key pack (C(Win32_TSLicenseKeyPack)) with its type, CAL type (per user or per device),
    product version, total, issued and available licenses and expiry; and a capacity summary per
    product version and CAL type, temporary packs left out.
  - Issued licenses (C(Win32_TSIssuedLicense), per-device CALs) counted by status (temporary,
    active, revoked, ...), the values under C(TermServLicensing\\Parameters) and the
    C(TermServLicensing) service state.
  - A host that is not a license server answers C(is_license_server=false); that is not an error.
requirements:
  - On the controller, pywinrm for the C(winrm) connection, or pypsrp for the C(psrp) connection.
options: {}
notes:
  - Per-user CALs are tracked in Active Directory, not issued by the license server, so they do not
    appear in the issued counts.
  - The product version strings of 2016 and later CAL packs (such as V(Windows Server 2022)) have not
    been checked on real license servers.
extends_documentation_fragment:
  - remote_desktop.licensing.group_defaults
  - remote_desktop.licensing.agent
  - remote_desktop.licensing.read_only
seealso:
  - module: remote_desktop.licensing.licensing_info
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: Read the license server
  remote_desktop.licensing.license_server_info:
  register: ls

- name: Fail when the license server is not activated
  ansible.builtin.assert:
    that: ls.license_server.activation.name == 'activated'
  when: ls.license_server.is_license_server
"""

RETURN = r"""
license_server:
  description: The license server's state.
  returned: always
  type: dict
  contains:
    is_license_server:
      description: Whether the RD Licensing role's WMI classes exist on the host.
      type: bool
      sample: true
    activation:
      description: C(status) (0 activated, 1 not activated, 2 unknown), its C(name), and C(error) when the call failed.
      type: dict
      sample: {status: 0, name: activated, error: null}
    license_server_id:
      description: The license server ID.
      type: str
    role:
      description: The discovery role, C(number) and C(name) (V(workgroup), V(domain), V(forest)).
      type: dict
    database_path:
      description: The licensing database directory.
      type: str
    key_packs:
      description: Each key pack, with C(key_pack_type_name), C(cal_type), C(product_version), C(total),
        C(issued), C(available) and C(expiration) (ISO 8601, UTC).
      type: list
      elements: dict
    capacity:
      description: Installed CALs per C(product_version) and C(cal_type), temporary packs left out.
      type: list
      elements: dict
      sample: [{product_version: Windows Server 2022, cal_type: per_user, total: 50, issued: 0, available: 50, key_packs: 1}]
    issued_licenses:
      description: Issued licenses counted by status.
      type: dict
      sample: {temporary: 2, active: 12, revoked: 1, unknown: 0, upgrade: 0, pending: 0, concurrent: 0}
    parameters:
      description: The values under C(HKLM\\SYSTEM\\CurrentControlSet\\Services\\TermServLicensing\\Parameters).
      type: dict
    service:
      description: The C(TermServLicensing) service, C(exists) and C(status).
      type: dict
    warnings:
      description: Problems an administrator must know about (not activated, a CAL type used up, temporary licenses issued).
      type: list
      elements: str
"""
