# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _paths

DOCUMENTATION = r"""
---
name: host_file_name
short_description: Turn an inventory host name into one safe, unique file name
version_added: 0.1.0
description:
  - Keeps letters, digits, C(.), C(_) and C(-), and writes every other character as C(%XX) (its UTF-8 bytes), so
    C(../escape), C(..), C(a/b) or C(a\\b) can never leave the directory a file is written under, and two host
    names never share a file. A leading dot and Windows device names (C(CON), C(NUL), C(LPT1), ...) are encoded too.
  - M(remote_desktop.licensing.fleet_report) decodes the names back to host names.
options:
  _input:
    description: The inventory host name.
    type: str
    required: true
author:
  - remote_desktop.licensing contributors (@remote-desktop-licensing)
"""

EXAMPLES = r"""
- name: Save this host's result under results_dir
  ansible.builtin.copy:
    content: "{{ result | to_nice_json }}"
    dest: "{{ results_dir }}/{{ inventory_hostname | remote_desktop.licensing.host_file_name }}.json"
    mode: "0600"
  delegate_to: localhost
"""

RETURN = r"""
_value:
  description: One path component, never C(.) or C(..), without separators.
  type: str
"""


class FilterModule:
    def filters(self):
        return {"host_file_name": _paths.host_file_name}
