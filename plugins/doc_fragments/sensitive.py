# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Options of the modules that show registry data read from a file or a host: which values are secrets."""

    DOCUMENTATION = r"""
options:
  sensitive_values:
    description:
      - Names of values (without case, under any key) whose data is a secret, for example Winlogon
        C(DefaultPassword). Their data is never shown in the diff, the result, error messages or the agent's
        verbose logs, as C(no_log) would hide it; it reads V(VALUE_SPECIFIED_IN_NO_LOG_PARAMETER) there. The
        C(.reg) files on the controller (mode 0600) still hold the real data, since they must be able to put it back.
      - While any value is marked, the agent's request and answer are not logged, even at C(-vvvvv).
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  hide_values:
    description:
      - Treat the data of every value as a secret, as O(sensitive_values) does for the values it names.
    type: bool
    default: false
    version_added: 0.1.0
"""
