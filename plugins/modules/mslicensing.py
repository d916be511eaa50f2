# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file only documents the module; the work is done by the action plugin of the same name.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: mslicensing
short_description: Back up and clear the Remote Desktop client license cache (MSLicensing)
version_added: 0.1.0
description:
  - Removes C(HKLM\\SOFTWARE\\Microsoft\\MSLicensing), the license cache of the Remote Desktop
    client (C(HardwareID) and the C(Store\\LICENSE00x) tokens), in the 64-bit view and the 32-bit
    view (C(WOW6432Node)) used by 32-bit clients. This is Microsoft's fix for "An error occurred in
    the licensing protocol" and related client licensing errors (KB 187614).
  - B(A backup is always made first.) One round trip reads both trees; the controller writes them to a
    C(.reg) file, reads it back and compares it with the trees before anything is deleted; a second
    round trip deletes. Restore it with M(remote_desktop.licensing.registry_restore) or C(reg import).
  - Already absent in every view means nothing to do (C(changed=false)).
requirements:
  - On the controller, pywinrm for the C(winrm) connection, or pypsrp for the C(psrp) connection.
options:
  state:
    description:
      - V(absent) clears the cache.
    type: str
    choices: [absent]
    default: absent
  views:
    description:
      - The registry views to clear.
    type: list
    elements: int
    choices: [32, 64]
    default: [64, 32]
  recreate_for_users:
    description:
      - After clearing, create an empty C(MSLicensing) key (64-bit view) that C(BUILTIN\\Users) may
        write, with the permission inherited by its subkeys, so that a standard user's Remote Desktop
        client can store a new license without being run elevated once.
      - Off by default. Source and confidence, KB 187614 says a client that is not elevated cannot
        recreate the key; that setup used to create it with permissive rights comes from historical
        sources only (low to medium confidence). An empty key with this grant counts as cleared, so a
        second run does not change it.
      - The backup records this grant (each MSLicensing key's own DACL, as a
        C(; remote_desktop.licensing dacl:) comment line that regedit ignores), and
        M(remote_desktop.licensing.registry_restore) puts it back with the values.
    type: bool
    default: false
  backup_dir:
    description:
      - The controller directory for the backup, as
        C(<backup_dir>/<inventory_hostname>/mslicensing-<UTC timestamp>.reg).
      - Defaults to C(~/.ansible/remote_desktop.licensing/backups) on the controller, outside any
        collection, so that upgrading or reinstalling the collection keeps the backups; in an
        execution environment, point it at persistent storage.
      - A directory inside an installed collection (a path with an C(ansible_collections) component)
        is refused before the host is changed.
    type: path
attributes:
  check_mode:
    support: full
    description: Reports what would be removed; writes nothing and makes no backup file.
  diff_mode:
    support: full
    description: The keys that are (or would be) removed.
notes:
  - The host's license cache is rebuilt the next time its Remote Desktop client connects.
  - Nothing checks that the cache did not change between the read and the delete (a client
    connecting in that second); the backup holds the cache as it was read.
seealso:
  - module: remote_desktop.licensing.registry_restore
  - name: KB 187614, Remove Terminal Server licenses from an RDP client
    description: Microsoft's procedure this module automates.
    link: https://learn.microsoft.com/troubleshoot/windows-server/remote/remove-terminal-server-licenses-from-rdp
extends_documentation_fragment:
  - remote_desktop.licensing.agent
  - remote_desktop.licensing.role_options
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: Clear the client license cache, keeping a backup on the controller
  remote_desktop.licensing.mslicensing:
    state: absent
    backup_dir: /var/backups/rds
  register: cache

- name: Clear it and let standard users' clients store a new license
  remote_desktop.licensing.mslicensing:
    recreate_for_users: true
"""

RETURN = r"""
backup_file:
  description: The verified backup of both views, written before anything was deleted. Also in a failed result once it was written.
  returned: when something was removed outside check mode
  type: str
  sample: /home/admin/.ansible/remote_desktop.licensing/backups/pc042/mslicensing-20261128T101500Z.reg
backup_checksum:
  description: SHA-256 of the backup file. Also in a failed result once the backup was written.
  returned: when a backup was written
  type: str
removed:
  description: What was (in check mode, would be) removed, per view.
  returned: always
  type: dict
  sample:
    "64": {hardware_id: true, store_entries: 2, keys: 5, values: 3}
    "32": {hardware_id: false, store_entries: 0, keys: 0, values: 0}
recreated:
  description: Whether the empty key for users was (or would be) created.
  returned: always
  type: bool
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
