# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """The action group's common options, accepted by the modules that make no backup so that one
    module_defaults entry for group/remote_desktop.licensing.licensing serves every module."""

    DOCUMENTATION = r"""
options:
  backup_dir:
    description:
      - Accepted and ignored; this module makes no backup.
      - It is accepted so that C(module_defaults) for the action group
        C(group/remote_desktop.licensing.licensing) can set O(backup_dir) once for every module of
        the collection.
    type: path
"""
