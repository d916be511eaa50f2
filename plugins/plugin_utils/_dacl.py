# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Key DACLs in SDDL as the agent reads them (GetSecurityDescriptorSddlForm('Access'), e.g.
``D:AI(A;CI;KA;;;BU)(A;CIID;KA;;;SY)``), reduced to the part a key holds itself: the protected flag
and the ACEs without the ID (inherited) flag. That part is what a backup records and what
registry_restore compares and puts back; the inherited ACEs always come from the parent again.
"""

from __future__ import annotations

import functools
import re

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _protocol

DACL_ROOTS = _protocol.DACL_ROOTS
# The own part of a key that only inherits (an unprotected DACL without explicit ACEs).
INHERITED_ONLY = "D:"
# A DACL only: "D:", its control flags, then ACEs without nested parentheses (no conditional ACEs).
_DACL = re.compile(r"D:([A-Z]*)((?:\([^()]*\))*)")
_ACE = re.compile(r"\(([^()]*)\)")
# Plain allow and deny ACEs only: object, callback, audit and alarm ACEs have no place on a license cache key.
_ACE_TYPES = ("A", "D")


class DaclError(ValueError):
    """An SDDL that is not a plain DACL a restore may apply."""


def allowed(path: str) -> bool:
    """Whether a key below HKLM (64-bit view spelling) is inside the DACL allow-list."""
    normal = path.strip("\\").lower()
    return any(normal == root.lower() or normal.startswith(root.lower() + "\\") for root in DACL_ROOTS)


@functools.lru_cache(maxsize=256)  # a restore sees a handful of distinct DACLs, once per key
def explicit(sddl: str) -> str:
    """The key's own part as SDDL ("D:" or "D:P", then its explicit ACEs; INHERITED_ONLY when the key only
    inherits). Raises DaclError for text that is not a DACL of plain allow and deny ACEs."""
    match = _DACL.fullmatch(sddl.strip())
    if match is None:
        raise DaclError(f"{sddl[:120]!r} is not a DACL in SDDL (D: then ACEs; no owner, group, SACL or conditional ACEs)")
    protected = "P" in match.group(1)
    own = []
    for ace in _ACE.findall(match.group(2)):
        fields = ace.split(";")
        if len(fields) != 6 or fields[0] not in _ACE_TYPES:
            raise DaclError(f"ACE ({ace}) is not a plain allow (A) or deny (D) entry")
        flags = fields[1]
        if "ID" not in (flags[index:index + 2] for index in range(0, len(flags), 2)):
            own.append(f"({ace})")
    return "D:" + ("P" if protected else "") + "".join(own)


# Who must keep access to a license cache key whose DACL no longer inherits: SYSTEM and Administrators.
_KEEPERS = ("SY", "BA")


def restorable(own: str) -> str:
    """own, unless it is a protected DACL (no inheritance) that grants neither SYSTEM nor Administrators anything: that
    file would lock both out of the key (a typo or a hostile file), and no backup of this collection records one."""
    if own.startswith("D:P") and not any(ace.split(";")[0] == "A" and ace.split(";")[5] in _KEEPERS
                                         for ace in _ACE.findall(own)):
        raise DaclError(f"{own} is protected (inherits nothing) and allows neither SYSTEM (SY) nor Administrators (BA): "
                        "applying it would lock both out of the key")
    return own


def shown(own: str | None) -> str:
    """An own part for a diff: "D:" alone reads like an empty DACL (no access at all), so it is said in words."""
    if own is None:
        return "(unknown)"
    return f"{own} (inherited ACEs only)" if own == INHERITED_ONLY else own
