# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The collection's one private failure type. Option errors are not failures of this kind: they are
ansible-core's AnsibleActionFail, raised before anything is sent (see _action_base).
"""

from __future__ import annotations

import typing as t


class FailedTaskResult(Exception):
    """A failed task result: its message and the extra result keys it carries (what the host now
    holds, the backup file, ...). The action base turns it into ``failed: true`` and ``msg``."""

    def __init__(self, msg: str, **result: t.Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.result = result
