"""What a non-elevated token may do (the not_elevated fault): a UAC-filtered administrator token, or a standard
user, as a WinRM network logon has it. Administrators is deny-only in such a token, so only ACEs for Everyone,
Authenticated Users, Users and NETWORK grant it anything; it holds neither SeTakeOwnershipPrivilege nor
SeRestorePrivilege."""

from __future__ import annotations

from rds_sim import acl

# The well-known groups (SDDL aliases) whose allow ACEs apply to a filtered network-logon token.
FILTERED_TOKEN_GROUPS = frozenset(("WD", "AU", "BU", "NU"))
# SDDL registry rights that include KEY_QUERY_VALUE (read) and KEY_SET_VALUE / KEY_CREATE_SUB_KEY (write).
READ_RIGHTS = frozenset(("KA", "KR", "KX", "GA", "GR", "GX"))
WRITE_RIGHTS = frozenset(("KA", "KW", "GA", "GW"))


def _fields(ace: str) -> list[str]:
    return ace[1:-1].split(";")


def allows(sddl: str, write: bool) -> bool:
    """Whether a key's DACL (SDDL access section, possibly with owner and group before it) lets a filtered token
    read (or write) the key: a matching deny ACE refuses, a matching allow ACE grants, no ACE refuses."""
    dacl = acl.parse(sddl[sddl.find("D:"):] if "D:" in sddl else "")
    if dacl is None:
        return False
    wanted = WRITE_RIGHTS if write else READ_RIGHTS
    granted = False
    for ace in dacl.aces:
        fields = _fields(ace)
        if len(fields) < 6 or fields[5] not in FILTERED_TOKEN_GROUPS or "IO" in fields[1]:
            continue
        rights = {fields[2][index:index + 2] for index in range(0, len(fields[2]), 2)}
        if not rights & wanted:
            continue
        if fields[0] == "D":
            return False
        granted = granted or fields[0] == "A"
    return granted
