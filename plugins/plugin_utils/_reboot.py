# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

A reboot after a change (licensing_mode's restart=reboot), made by ansible.windows.win_reboot's own
action plugin on the task's connection, as ansible-core's template action runs copy's: the shutdown,
the wait and the checks that the host is back are that plugin's, not ours. ansible.windows is needed
only by those who choose the reboot, so it is looked up when asked for, before anything is read.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail

WIN_REBOOT = "ansible.windows.win_reboot"
MESSAGE = "Rebooting to apply a Remote Desktop licensing change (remote_desktop.licensing)"
TIMEOUT_S = 1800


def require(action: t.Any) -> None:
    """Refuse restart=reboot, before the host is contacted, when ansible.windows is not installed."""
    if not action._shared_loader_obj.action_loader.has_plugin(WIN_REBOOT):
        raise AnsibleActionFail(
            f"restart=reboot (configure_licensing_restart_strategy=reboot, with the role) reboots through {WIN_REBOOT}, "
            "and the ansible.windows collection is not installed: nothing was read or written. Install it "
            "(ansible-galaxy collection install ansible.windows; in AWX, in the project's collections/requirements.yml) "
            "or restart TermService instead: restart=if_changed (configure_licensing_restart_strategy=service), or "
            "leave the restart to you: restart=never (none).")


def failure_text(result: dict[str, t.Any]) -> str:
    """win_reboot's failure in one line: its message, and the command's exit code and stderr when it gives them."""
    parts = [str(result.get("msg") or "no message")]
    if result.get("rc") not in (None, 0):
        parts.append(f"rc {result['rc']}")
    if result.get("stderr"):
        parts.append(f"stderr: {str(result['stderr']).strip()}")
    return "; ".join(parts)[:600]


def reboot(action: t.Any, task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
    """Reboot the host of the running task and wait until it is back; win_reboot's result."""
    task = action._task.copy()
    task.args = {"msg": MESSAGE, "reboot_timeout": TIMEOUT_S}
    plugin = action._shared_loader_obj.action_loader.get(
        WIN_REBOOT, task=task, connection=action._connection, play_context=action._play_context, loader=action._loader,
        templar=action._templar, shared_loader_obj=action._shared_loader_obj)
    return plugin.run(task_vars=task_vars)
