# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_restore
short_description: Apply a .reg file from the controller to a Windows host, idempotently
version_added: 0.1.0
description:
  - Applies a regedit C(.reg) file (this collection's backups, or a file regedit or C(reg export)
    wrote) to the host's C(HKEY_LOCAL_MACHINE), writing only what differs from the live registry.
  - One round trip reads every key the file names; if anything differs, a second one writes it, all
    or nothing (a failed write undoes the earlier ones, deleted trees included). A second run
    reports no change.
  - As with C(reg import), values on the host that the file does not mention are left alone;
    C("name"=-) entries delete values, and C([-key]) entries delete whole keys.
  - Whole-key deletions are honoured only inside the collection's destructive allow-list
    (C(HKLM\\SOFTWARE\\Microsoft\\MSLicensing), its C(WOW6432Node) copy, and
    C(HKLM\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod)); a file that
    deletes any other key is refused before anything is sent.
  - A file that would change the C(GracePeriod) key (such as a M(remote_desktop.licensing.grace_period) reset's backup) is
    refused before anything is written, because Windows lets only the Remote Desktop Services service (NETWORK SERVICE) change
    that key. A C(GracePeriod) block the host already matches is no change and does not stop the rest of the file.
  - Key permissions. A C(.reg) file has no place for ACLs, so this collection's backups record the DACL of each
    C(HKLM\\SOFTWARE\\Microsoft\\MSLicensing) key (C(D:) alone for a key that only inherits) as a comment line right after the key's line,
    C(; remote_desktop.licensing dacl:) followed by the DACL in SDDL (regedit and C(reg import) skip it). The
    module puts that DACL back (never the owner or the SACL; inherited ACEs come from the parent again), after
    the key's values, and only when the key's own ACEs differ. This is how the C(BUILTIN\\Users) grant of
    M(remote_desktop.licensing.mslicensing)'s O(remote_desktop.licensing.mslicensing#module:recreate_for_users)
    comes back. DACLs are restored only inside C(HKLM\\SOFTWARE\\Microsoft\\MSLicensing) and its C(WOW6432Node)
    copy, and only plain allow and deny ACEs; a file with a DACL comment on any other key is refused before
    anything is sent, so a crafted file cannot grant rights on other keys.
requirements:
  - On the controller, pywinrm for the C(winrm) connection, or pypsrp for the C(psrp) connection.
options:
  src:
    description:
      - The .reg file on the controller; a relative path is looked up like M(ansible.builtin.copy)'s
        C(src) (the role's or playbook's C(files) directory first).
      - A bare file name found nowhere else is looked up among the host's own backups,
        C(<backup_dir>/<inventory_hostname>/), where the modules save them (see O(backup_dir)).
      - Version 5.00 files in UTF-16 or UTF-8 and C(REGEDIT4) files are read. A malformed file fails
        with the line number and the problem.
      - Must be on the controller; to apply a file that is on the host, fetch it first
        (M(ansible.builtin.fetch)).
    type: path
    required: true
  max_file_size_kb:
    description:
      - The largest C(src) file accepted, in KiB. A larger file is refused before it is read, naming its size and
        this option; the whole file travels to the host in one request, so raise it only for files you expect.
      - The default (8192 KiB) is far above any backup this collection writes (a few KiB) and a C(reg export) of
        the policy or licensing keys.
    type: int
    default: 8192
    version_added: 0.1.0
  allow_other_host:
    description:
      - Every backup this collection writes names the host it was taken on in a comment line,
        C(Source host) followed by its C(inventory_hostname) (regedit ignores comments). A file whose
        source host is not this task's C(inventory_hostname) (compared without case) is refused before
        anything is sent, because it would copy another host's values (for MSLicensing, its HardwareID
        and client licenses) to this one. Set V(true) to apply it anyway, with a warning.
      - A file without that line (a regedit or C(reg export) file) is applied with a warning that its
        source is unknown.
    type: bool
    default: false
  backup:
    description:
      - Before writing, save the keys the restore changes, as they are, to a .reg file under O(backup_dir).
    type: bool
    default: false
  backup_dir:
    description:
      - The controller directory for backups, as
        C(<backup_dir>/<inventory_hostname>/before-restore-<UTC timestamp>.reg).
      - Defaults to C(~/.ansible/remote_desktop.licensing/backups) on the controller, outside any
        collection, so that upgrading or reinstalling the collection keeps the backups; in an
        execution environment, point it at persistent storage.
      - A directory inside an installed collection (a path with an C(ansible_collections) component)
        is refused before the host is changed.
    type: path
attributes:
  check_mode:
    support: full
    description: Reads and compares; sends no write. C(changed) and the diff are those a real run would report.
  diff_mode:
    support: full
    description: Keys created or deleted, and each value before and after with its type.
notes:
  - Only C(HKEY_LOCAL_MACHINE) keys are restored; paths are written as the file spells them, so a
    C(WOW6432Node) key in the file is the 32-bit view's key on the host.
  - Registry types other than string, expand string, multi-string, DWORD, QWORD, binary and none
    are refused with a message naming the value.
seealso:
  - module: remote_desktop.licensing.registry_backup
  - module: remote_desktop.licensing.mslicensing
extends_documentation_fragment:
  - remote_desktop.licensing.agent
  - remote_desktop.licensing.sensitive
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: Put back the client license cache removed by mslicensing
  remote_desktop.licensing.registry_restore:
    src: "{{ mslicensing_result.backup_file }}"

- name: Preview what a .reg file would change
  remote_desktop.licensing.registry_restore:
    src: files/licensing-baseline.reg
  check_mode: true
  diff: true
"""

RETURN = r"""
operations:
  description: The number of write operations the restore needed (or, in check mode, would need).
  returned: always
  type: int
  sample: 7
keys_created:
  description: Keys created.
  returned: always
  type: int
keys_deleted:
  description: Key trees deleted by C([-key]) entries.
  returned: always
  type: int
values_set:
  description: Values written.
  returned: always
  type: int
values_deleted:
  description: Values deleted by C("name"=-) entries.
  returned: always
  type: int
dacls_set:
  description: Keys whose DACL was put back from the file's DACL comments (or, in check mode, would be).
  returned: always
  type: int
source_host:
  description: The host the file says it was taken on (its C(Source host) comment), or null when it does not say.
  returned: when the file was read
  type: str
  sample: client-07.example.com
backup_file:
  description: The backup of the changed keys written before the restore; also returned when the restore failed after it was written.
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
