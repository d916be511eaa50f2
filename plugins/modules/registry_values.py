# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_values
short_description: Set or remove many HKLM registry values on a Windows host in one round trip
version_added: 0.1.0
description:
  - Ensures a list of registry values under C(HKEY_LOCAL_MACHINE) are present with the given type
    and data, or absent. It is the batch form of M(ansible.windows.win_regedit), with the same
    option names and type names, so existing tasks port entry by entry.
  - One round trip reads every key involved; when something differs, a second round trip writes
    exactly the differences. A run where nothing differs costs one round trip and writes nothing.
  - "Writes are all or nothing: if one write fails (for example access denied on its key), the
    agent skips the rest and undoes the writes it already made, newest first, in the same call.
    The task fails, names the value and key, and says that nothing was left changed."
  - Values compare exactly by type and data, so a second run never reports a change because of how
    the data was written in the task. See O(values[].data) for the rules per type.
  - An entry with only a path (no name, no data) makes sure the key exists, as
    M(ansible.windows.win_regedit) does for a path alone; a key that exists is left as it is.
  - M(ansible.windows.win_regedit)'s spellings O(values[].key), O(values[].entry),
    O(values[].value) and O(values[].datatype) are accepted as aliases; see
    C(docs/migrating-from-win_regedit.md) in the collection.
  - The module runs on the controller and sends the collection's fixed PowerShell agent through
    the task's connection. Paths, names and data travel as data, never as script text.
requirements:
  - On the controller, pywinrm for the C(winrm) connection, or pypsrp for the C(psrp) connection.
options:
  values:
    description:
      - The values to manage, in the order they are written.
      - Each value may appear only once.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - The key, below C(HKEY_LOCAL_MACHINE). V(HKLM:\\SOFTWARE\\Example),
            V(HKLM\\SOFTWARE\\Example) and V(HKEY_LOCAL_MACHINE\\SOFTWARE\\Example) are the same key.
          - Other hives, relative paths and the HKLM root itself are refused.
          - Missing keys are created when a value is set in them.
        type: str
        required: true
        aliases: [key]
      name:
        description:
          - The value name. Use an empty string V("") for the key's default value; the default value
            is never addressed by leaving the name out.
          - Leave out O(values[].name) and O(values[].data) to make sure only the key exists (a bare
            key); that needs O(values[].state=present). This module never deletes keys.
        type: str
        aliases: [entry, value]
      type:
        description:
          - The registry type, with M(ansible.windows.win_regedit)'s names.
          - A value that exists with another type is rewritten with this type, and the diff shows both types.
        type: str
        choices: [string, expandstring, multistring, dword, qword, binary, none]
        default: string
        aliases: [datatype]
      data:
        description:
          - The data when O(values[].state=present).
          - V(dword) and V(qword) take an integer, a decimal string or a V(0x) hex string; a DWORD
            above 4294967295 or a QWORD above 18446744073709551615 is an error.
          - V(string) and V(expandstring) take text, compared exactly (case included); an expand
            string is stored and compared unexpanded, so V(%SystemRoot%) stays V(%SystemRoot%).
          - V(multistring) takes a list of non-empty strings, compared as a list (order matters).
          - V(binary) and V(none) take a list of integers 0-255 or a V(hex:aa,bb,cc) string;
            V(none) may be left out for no data.
        type: raw
      state:
        description:
          - V(present) sets the value; V(absent) removes it (a missing value or key is not an error).
        type: str
        choices: [present, absent]
        default: present
      view:
        description:
          - The registry view. V(32) reaches the 32-bit programs' view, where C(HKLM\\SOFTWARE) is
            redirected to C(HKLM\\SOFTWARE\\WOW6432Node).
        type: int
        choices: [32, 64]
        default: 64
      sensitive:
        description:
          - The value is a secret (for example Winlogon C(DefaultPassword)); its data, before and after, is never
            shown in the diff, the result (C(before)/C(after) data read V(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER)),
            error messages or the agent's verbose logs, as C(no_log) would hide it, while the other entries of the
            task stay visible. The backup file (mode 0600) still holds the old data, since it must be able to put
            it back.
        type: bool
        default: false
        version_added: 0.1.0
  backup:
    description:
      - Before writing, save the keys that are about to change to a regedit-compatible C(.reg) file
        on the controller, under O(backup_dir). The file also holds a deletion entry for each value
        the task creates, so C(reg import) of the file undoes the change.
      - The backup is read back and verified before anything is written; no backup is made when
        nothing would change or in check mode.
    type: bool
    default: false
  backup_dir:
    description:
      - The controller directory for backups. Each backup is
        C(<backup_dir>/<inventory_hostname>/registry-values-<UTC timestamp>.reg), mode 0600.
      - Defaults to C(~/.ansible/remote_desktop.licensing/backups) on the controller, outside any
        collection, so that upgrading or reinstalling the collection keeps the backups; in an
        execution environment, point it at persistent storage.
      - A directory inside an installed collection (a path with an C(ansible_collections) component)
        is refused before the host is changed.
    type: path
attributes:
  check_mode:
    support: full
    description: Reads and compares; sends no write to the host. C(changed) and the diff are those a real run would report.
  diff_mode:
    support: full
    description: One line per changed value, before and after, with its type.
notes:
  - The read and the write are two calls; a value changed on the host between them is overwritten
    with the wanted data.
  - Values under C(HKLM\\SOFTWARE\\Policies) are what Group Policy writes; a domain GPO puts its own
    values back at the next refresh. M(remote_desktop.licensing.licensing_mode) detects that for the
    licensing values.
seealso:
  - module: ansible.windows.win_regedit
  - module: remote_desktop.licensing.licensing_mode
extends_documentation_fragment:
  - remote_desktop.licensing.agent
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: Set the licensing mode and the license servers directly (Per User, two servers)
  remote_desktop.licensing.registry_values:
    values:
      - path: HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\RCM\Licensing Core
        name: LicensingMode
        type: dword
        data: 4
      - path: HKLM:\SYSTEM\CurrentControlSet\Services\TermService\Parameters\LicenseServers
        name: SpecifiedLicenseServers
        type: multistring
        data: [ls01.example.com, ls02.example.com]

- name: Hide the licensing notifications and remove a stale value, with a backup
  remote_desktop.licensing.registry_values:
    backup: true
    backup_dir: /var/backups/rds
    values:
      - path: HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services
        name: fDisableTerminalServerTooltip
        type: dword
        data: 1
      - path: HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services
        name: LicenseServers
        state: absent

- name: Remove the server-side licensing certificate values (X.224 / security errors; reboot afterwards)
  remote_desktop.licensing.registry_values:
    backup: true
    values:
      - {path: 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\RCM', name: Certificate, state: absent}
      - {path: 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\RCM', name: X509 Certificate, state: absent}
      - {path: 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\RCM', name: X509 Certificate ID, state: absent}
      - {path: 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\RCM', name: X509 Certificate2, state: absent}

- name: win_regedit's spellings, and a bare key (created when missing, left alone when present)
  remote_desktop.licensing.registry_values:
    values:
      - {key: 'HKLM:\SOFTWARE\Example', entry: Level, data: 3, datatype: dword}
      - {path: 'HKLM:\SOFTWARE\Example\Empty'}

- name: Binary, QWORD and the default value
  remote_desktop.licensing.registry_values:
    values:
      - {path: 'HKLM:\SOFTWARE\Example', name: Blob, type: binary, data: 'hex:de,ad,be,ef'}
      - {path: 'HKLM:\SOFTWARE\Example', name: Big, type: qword, data: '0xFFFFFFFFFFFF'}
      - {path: 'HKLM:\SOFTWARE\Example', name: '', type: string, data: default text}
"""

RETURN = r"""
entries:
  description:
    - Each requested value, in the order given, before and after the task.
    - Named C(entries) rather than C(values) so that C(result.entries) works in Jinja, where
      C(result.values) would be the dictionary's own method.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The key as C(HKLM:\\...).
      type: str
      sample: HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\RCM\Licensing Core
    name:
      description: The value name; an empty string is the default value.
      type: str
      sample: LicensingMode
    view:
      description: The registry view, 64 or 32.
      type: int
      sample: 64
    state:
      description: The requested state.
      type: str
      sample: present
    before:
      description: The value before the task, C(type) and C(data), or null when it did not exist.
        Binary and none data are shown as a V(hex:aa,bb) string.
      type: dict
      sample: {type: dword, data: 5}
    after:
      description: The value after the task (in check mode, what it would be), or null when absent.
      type: dict
      sample: {type: dword, data: 4}
    changed:
      description: Whether this value was (or in check mode would be) written or removed.
      type: bool
      sample: true
keys:
  description:
    - Each bare key requested (an entry with only a path), in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The key as C(HKLM:\\...).
      type: str
      sample: HKLM:\SOFTWARE\Example\Empty
    view:
      description: The registry view, 64 or 32.
      type: int
      sample: 64
    created:
      description: Whether the key was (in check mode, would be) created because it was missing.
      type: bool
      sample: true
backup_file:
  description: The backup written on the controller before the change. Also in a failed result once it was written.
  returned: when O(backup=true) and something changed outside check mode
  type: str
  sample: /home/admin/.ansible/remote_desktop.licensing/backups/rdsh01/registry-values-20261128T101500Z.reg
backup_checksum:
  description: SHA-256 of the backup file. Also in a failed result once the backup was written.
  returned: when a backup was written
  type: str
rollback:
  description: When a write failed, what the agent undid; C(errors) lists writes it could not undo.
  returned: on a failed write
  type: dict
  sample: {performed: true, undone: 2, errors: []}
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
