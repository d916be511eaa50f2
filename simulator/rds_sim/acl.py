"""Registry key DACLs as Windows keeps them: each key may hold explicit ACEs (and a protected flag);
the rest of its DACL is inherited from its parent's container-inheritable ACEs. A host stores only
the explicit part, in facts.key_acl ({key path: SDDL}); what the agent reads (GetAccessControl
.GetSecurityDescriptorSddlForm('Access')) is derived, so that setting a parent's DACL reaches its
existing subkeys as SetSecurityInfo's propagation does."""

from __future__ import annotations

import re
import typing as t

# What every key below HKLM\SOFTWARE and HKLM\SYSTEM inherits on a default install (simplified to
# the three principals the collection's tests care about).
DEFAULT_INHERITED = ("(A;CIID;KA;;;SY)", "(A;CIID;KA;;;BA)", "(A;CIID;KR;;;BU)")
# A DACL only: "D:", its control flags (P protected, AI/AR auto-inherit), then plain ACEs.
_DACL = re.compile(r"D:([A-Z]*)((?:\([^()]*\))*)")
_ACE = re.compile(r"\(([^()]*)\)")


class Dacl(t.NamedTuple):
    protected: bool
    aces: tuple[str, ...]  # "(type;flags;rights;object;inherit object;sid)", in order


def parse(sddl: str) -> Dacl | None:
    """The DACL of an SDDL access section, or None when it is not one (owner, group, SACL, nested ACEs)."""
    match = _DACL.fullmatch(sddl or "")
    if match is None:
        return None
    return Dacl("P" in match.group(1), tuple(f"({ace})" for ace in _ACE.findall(match.group(2))))


def _flags(ace: str) -> list[str]:
    fields = ace[1:-1].split(";")
    flags = fields[1] if len(fields) > 1 else ""
    return [flags[index:index + 2] for index in range(0, len(flags), 2)]


def _with_flags(ace: str, flags: list[str]) -> str:
    fields = ace[1:-1].split(";")
    fields[1] = "".join(flags)
    return "(" + ";".join(fields) + ")"


def explicit(dacl: Dacl) -> Dacl:
    """The part a key holds itself: ACEs without the ID (inherited) flag."""
    return Dacl(dacl.protected, tuple(ace for ace in dacl.aces if "ID" not in _flags(ace)))


def _inherited_by_child(aces: t.Iterable[str]) -> tuple[str, ...]:
    """The ACEs a subkey inherits: container-inheritable ones, marked ID (NP stops them one level down)."""
    result = []
    for ace in aces:
        flags = _flags(ace)
        if "CI" not in flags:
            continue
        kept = [flag for flag in flags if flag not in ("IO", "ID")]
        if "NP" in kept:
            kept = [flag for flag in kept if flag not in ("CI", "NP")]
        result.append(_with_flags(ace, kept + ["ID"]))
    return tuple(result)


def effective(stored: dict[str, str], display_path: str) -> str:
    """The SDDL the agent reads for a key: its explicit ACEs, then (unless protected) what it inherits."""
    parts = display_path.split("\\")
    lowered = {path.lower(): sddl for path, sddl in stored.items()}
    aces: tuple[str, ...] = DEFAULT_INHERITED
    protected = False
    for depth in range(1, len(parts) + 1):
        own = parse(lowered.get("\\".join(parts[:depth]).lower(), "D:")) or Dacl(False, ())
        inherited = _inherited_by_child(aces) if depth > 1 else aces
        protected = own.protected
        aces = own.aces if own.protected else own.aces + inherited
    return "D:" + ("PAI" if protected else "AI") + "".join(aces)


def store(stored: dict[str, str], display_path: str, dacl: Dacl) -> None:
    """Keep a key's explicit part (none left and not protected: the key inherits only)."""
    own = explicit(dacl)
    for path in [path for path in stored if path.lower() == display_path.lower()]:
        del stored[path]
    if own.protected or own.aces:
        stored[display_path] = "D:" + ("P" if own.protected else "") + "".join(own.aces)


def add_ace(stored: dict[str, str], display_path: str, ace: str) -> None:
    """RegistrySecurity.AddAccessRule then SetAccessControl: an ACE already there is not added twice."""
    current = next((parse(sddl) for path, sddl in stored.items() if path.lower() == display_path.lower()), None) or Dacl(False, ())
    if ace not in current.aces:
        current = Dacl(current.protected, (ace, *current.aces))
    store(stored, display_path, current)
