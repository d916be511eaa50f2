# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """What every module of the collection shares: how it reaches the host."""

    DOCUMENTATION = r"""
options: {}
attributes:
  platform:
    support: full
    platforms: windows
    description: Windows hosts reached over a connection with a PowerShell shell.
notes:
  - The module runs on the controller and sends the collection's fixed PowerShell agent (Windows
    PowerShell 5.1) through the task's connection; paths, names and data travel as data, never as
    script text.
  - Requires a connection with a PowerShell shell (C(winrm), C(psrp), or C(ssh) with
    C(ansible_shell_type=powershell)) and a user that is an elevated local administrator.
    C(winrm) and C(psrp) are exercised by the collection's tests; C(ssh) is not.
  - C(become) is not supported; the agent runs as the connection user.
  - When the connection user's token is not elevated (a local administrator over WinRM with
    C(LocalAccountTokenFilterPolicy) 0, or a standard user), the task warns that the agent is not
    elevated (M(remote_desktop.licensing.licensing_info) also returns C(agent.elevated=false)). Windows
    then lets the agent only read the licensing keys; every write, service restart, ownership change
    and backup copy on the host is refused, and the task fails saying so, with nothing written.
"""
