# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_backup
short_description: Export HKLM registry keys of a Windows host to a .reg file on the controller
version_added: 0.1.0
description:
  - Reads one or more keys, with all their subkeys and values, in one round trip and writes them to
    a regedit-compatible C(.reg) file (version 5.00, UTF-16 LE) on the controller.
  - The file is read back and parsed to verify it before the task succeeds. It imports with
    C(reg import) or regedit on the host, or with M(remote_desktop.licensing.registry_restore).
  - The result also carries the file's text, so a job whose controller filesystem is thrown away
    (an AWX execution environment, for example) still has the backup in its job output.
  - Keys under C(HKLM\\SOFTWARE\\Microsoft\\MSLicensing) (both views) get their own DACL (C(D:) when they only inherit) in
    SDDL on a comment line after the key's line, C(; remote_desktop.licensing dacl:), which regedit and C(reg import)
    skip and M(remote_desktop.licensing.registry_restore) puts back. Other keys' permissions are not recorded.
  - Read-only on the host unless O(remote_copy=true).
requirements:
  - On the controller, pywinrm for the C(winrm) connection, or pypsrp for the C(psrp) connection.
options:
  keys:
    description:
      - The keys to export, below C(HKEY_LOCAL_MACHINE), in any of the spellings
        V(HKLM:\\...), V(HKLM\\...) or V(HKEY_LOCAL_MACHINE\\...). Subkeys are included.
      - A key that does not exist is reported in RV(missing_keys) and skipped.
    type: list
    elements: str
    required: true
  view:
    description:
      - The registry view to read. In the file, 32-bit view keys of C(SOFTWARE) are written as
        C(SOFTWARE\\WOW6432Node\\...), as regedit exports them.
    type: int
    choices: [32, 64]
    default: 64
  name:
    description:
      - The file name stem. Defaults to the last component of the first key, for example V(mslicensing).
    type: str
  backup_dir:
    description:
      - The controller directory for backups, as
        C(<backup_dir>/<inventory_hostname>/<name>-<UTC timestamp>.reg), directories 0700, file 0600.
      - Defaults to C(~/.ansible/remote_desktop.licensing/backups) on the controller, outside any
        collection, so that upgrading or reinstalling the collection keeps the backups; in an
        execution environment, point it at persistent storage.
      - A directory inside an installed collection (a path with an C(ansible_collections) component)
        is refused before the host is changed.
    type: path
  remote_copy:
    description:
      - Also save the file on the host, under C(%ProgramData%\\RemoteDesktopLicensing\\Backups), in a
        directory only Administrators and SYSTEM can read. This is a second round trip and a write.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: The host is only read, so the backup is taken in check mode too; O(remote_copy) is skipped.
  diff_mode:
    support: none
    description: Nothing on the host changes.
notes:
  - C(changed) is V(false) unless O(remote_copy) wrote the file on the host; the controller file is new every run.
  - Values of types the .NET registry API does not name (such as REG_RESOURCE_LIST) are exported as
    C(hex(0)) data, as M(ansible.windows.win_regedit) reports them.
seealso:
  - module: remote_desktop.licensing.registry_restore
extends_documentation_fragment:
  - remote_desktop.licensing.agent
  - remote_desktop.licensing.sensitive
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: Back up the licensing keys of an RD Session Host
  remote_desktop.licensing.registry_backup:
    name: rds-licensing
    keys:
      - HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\RCM\Licensing Core
      - HKLM:\SYSTEM\CurrentControlSet\Services\TermService\Parameters\LicenseServers
      - HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services
  register: licensing_backup

- name: Back up the 32-bit client license cache, with a copy kept on the host
  remote_desktop.licensing.registry_backup:
    keys: [HKLM:\SOFTWARE\Microsoft\MSLicensing]
    view: 32
    remote_copy: true
"""

RETURN = r"""
backup_file:
  description: The .reg file written on the controller.
  returned: when at least one key exists
  type: str
  sample: /home/admin/.ansible/remote_desktop.licensing/backups/rdsh01/mslicensing-20261128T101500Z.reg
backup_checksum:
  description: SHA-256 of the file.
  returned: when a file was written
  type: str
size:
  description: The file size in bytes.
  returned: when a file was written
  type: int
content:
  description:
    - The file's text (CRLF line ends; the file itself is UTF-16 LE with a BOM).
    - With O(sensitive_values) or O(hide_values), the data of the marked values reads
      V(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER) here (as a string value), so this text is then not the file;
      the file keeps the real data.
  returned: when a file was written
  type: str
exported:
  description: Each exported key with the number of keys and values in its tree.
  returned: always
  type: list
  elements: dict
  sample: [{path: 'HKLM:\SOFTWARE\Microsoft\MSLicensing', view: 64, keys: 5, values: 3}]
missing_keys:
  description: The requested keys that do not exist on the host.
  returned: always
  type: list
  elements: str
remote_file:
  description: Where the copy on the host was written.
  returned: when O(remote_copy=true) outside check mode
  type: str
  sample: C:\ProgramData\RemoteDesktopLicensing\Backups\mslicensing-20261128T101500Z.reg
"""
