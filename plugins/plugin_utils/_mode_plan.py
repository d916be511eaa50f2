# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

The decisions of licensing_mode: which values the requested mode and servers mean in the chosen
scope, what the host has now (local, policy, effective), and whether Group Policy would undo a
local change. Pure logic over read results, so every rule is unit-tested without a host.
"""

from __future__ import annotations

import typing as t

from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing as lic
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing_state as state_reader
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._changes import Change, Wanted, current_value
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._registry import display_path
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._failure import FailedTaskResult

# The values that make up the licensing state, in both scopes.
LOCAL_MODE = Wanted(lic.LICENSING_CORE_KEY, lic.LICENSING_MODE_VALUE)
LOCAL_SERVERS = Wanted(lic.LICENSE_SERVERS_KEY, lic.LOCAL_SERVERS_VALUE)
POLICY_MODE = Wanted(lic.POLICY_KEY, lic.LICENSING_MODE_VALUE)
POLICY_SERVERS = Wanted(lic.POLICY_KEY, lic.POLICY_SERVERS_VALUE)
STATE_VALUES = (LOCAL_MODE, LOCAL_SERVERS, POLICY_MODE, POLICY_SERVERS)
OS_VALUES = (Wanted(lic.CURRENT_VERSION_KEY, "CurrentBuild"), Wanted(lic.CURRENT_VERSION_KEY, "InstallationType"))

# First builds whose licensing policy knows AAD Per User (6): Windows Server 2022, and Windows 10
# 1903 for the multi-session client editions.
AAD_MIN_SERVER_BUILD = 20348
AAD_MIN_CLIENT_BUILD = 18362

GPO_ADVICE = (
    "Change the GPO that sets it (Computer Configuration > Administrative Templates > Windows Components > "
    "Remote Desktop Services > Remote Desktop Session Host > Licensing; 'gpresult /scope computer /h report.html' "
    "on the host shows which GPO wins), or set scope: policy to manage the policy values on hosts without a "
    "domain GPO, or set policy_conflict: warn to write the local value anyway (in the configure_licensing role: "
    "configure_licensing_scope and configure_licensing_policy_conflict)."
)

Lookup = t.Callable[[Wanted], t.Any]


class Request(t.NamedTuple):
    mode: int | None            # None: leave the mode alone
    servers: list[str] | None   # None: leave the servers alone; []: clear them
    scope: str                  # local | policy


def parse_request(args: dict[str, t.Any]) -> Request:
    """Validate the options before anything is sent; every message names the problem and the fix."""
    mode = None
    if args.get("mode") is not None:
        mode = lic.MODE_NUMBERS[args["mode"]]
        if mode == 6 and not args.get("allow_aad_per_user"):
            raise AnsibleActionFail(
                "mode aad_per_user (LicensingMode 6) is for Azure Virtual Desktop and Windows multi-session hosts whose "
                "users have Entra ID licences that include RDS rights; a classic RD Session Host may not honour it. "
                "Set allow_aad_per_user: true to confirm, or use per_user or per_device."
            )
    servers = args.get("license_servers")
    if servers is not None:  # "ls01, ls02" and one name per line (survey text) as well as a list
        try:
            servers = lic.server_list(servers)
        except ValueError as exc:
            raise AnsibleActionFail(f"license_servers {exc}.") from None
    clear = bool(args.get("clear_license_servers"))
    if servers is not None:
        if clear and servers:
            raise AnsibleActionFail("clear_license_servers: true asks for an empty list, but license_servers lists "
                                    "servers; give one or the other (in the configure_licensing role: "
                                    "configure_licensing_clear_license_servers, configure_licensing_license_servers).")
        if not servers and not clear:
            raise AnsibleActionFail("license_servers is an empty list. To remove every configured license server, also "
                                    "set clear_license_servers: true; to leave the servers alone, leave license_servers out.")
        seen: dict[str, str] = {}
        for index, name in enumerate(servers):
            problem = lic.server_name_problem(name)
            if problem:
                raise AnsibleActionFail(f"license_servers[{index}] {name!r} is not a valid license server name: {problem}.")
            if name.lower() in seen:
                raise AnsibleActionFail(f"license_servers lists {name!r} twice (as {seen[name.lower()]!r} too); list each server once.")
            seen[name.lower()] = name
        servers = list(servers)
    elif clear:
        servers = []
    if mode is None and servers is None:
        raise AnsibleActionFail("Nothing to manage: give mode, license_servers, or clear_license_servers: true.")
    return Request(mode, servers, args.get("scope") or "local")


def check_aad_supported(lookup: Lookup) -> None:
    build_value = lookup(OS_VALUES[0])
    kind_value = lookup(OS_VALUES[1])
    build_text = str(build_value[1]) if build_value else ""
    build = int(build_text) if build_text.isdigit() else None
    is_server = bool(kind_value) and str(kind_value[1]).lower().startswith("server")
    minimum = AAD_MIN_SERVER_BUILD if is_server else AAD_MIN_CLIENT_BUILD
    if build is None or build < minimum:
        release = "Windows Server 2022 (build 20348)" if is_server else "Windows 10 1903 (build 18362)"
        raise FailedTaskResult(
            f"mode aad_per_user needs {release} or later; this host reports build {build_text or 'unknown'}. "
            "Use per_user or per_device on this host."
        )


def _servers(value: t.Any, policy: bool) -> list[str] | None:
    return state_reader.policy_servers(value) if policy else state_reader.local_servers(value)


def state(lookup: Lookup) -> dict[str, t.Any]:
    """The licensing state as the module reports it before and after: the shared reader's blocks, flattened."""
    mode = state_reader.mode_block(lookup(POLICY_MODE), lookup(LOCAL_MODE))
    servers = state_reader.servers_block(lookup(POLICY_SERVERS), lookup(LOCAL_SERVERS))
    return {
        "local_mode": mode["local"], "local_mode_name": mode["local_name"],
        "local_license_servers": servers["local"],
        "policy_mode": mode["policy"], "policy_mode_name": mode["policy_name"],
        "policy_license_servers": servers["policy"],
        "mode": mode["effective"], "mode_name": lic.mode_name(mode["effective"]), "mode_source": mode["source"],
        "license_servers": servers["effective"], "license_servers_source": servers["source"],
    }


def _same_servers(left: list[str] | None, right: list[str] | None) -> bool:
    """Server names compare without case (DNS and NetBIOS names are case-insensitive); order matters."""
    if left is None or right is None:
        return left is right
    return [name.lower() for name in left] == [name.lower() for name in right]


def wanted(request: Request, lookup: Lookup) -> list[Wanted]:
    """The values to write in the request's scope. Servers equal but for case keep their stored
    spelling, so a second run with other capitals is not a change."""
    policy = request.scope == "policy"
    items = []
    if request.mode is not None:
        target = POLICY_MODE if policy else LOCAL_MODE
        items.append(target._replace(value=("dword", request.mode)))
    if request.servers is not None:
        target = POLICY_SERVERS if policy else LOCAL_SERVERS
        current = lookup(target)
        if not request.servers:
            items.append(target)  # absent
        elif current and _same_servers(_servers(current, policy), request.servers) and \
                current[0] == ("string" if policy else "multistring"):
            items.append(target._replace(value=current))
        else:
            value = ("string", ",".join(request.servers)) if policy else ("multistring", list(request.servers))
            items.append(target._replace(value=value))
    return items


def policy_conflicts(request: Request, before: dict[str, t.Any]) -> list[str]:
    """In local scope: the policy values that differ from what is asked and would override it."""
    if request.scope != "local":
        return []
    found = []
    where = display_path(lic.POLICY_KEY)
    if request.mode is not None and before["policy_mode"] is not None and before["policy_mode"] != request.mode:
        found.append(f"Group Policy sets LicensingMode = {lic.mode_label(before['policy_mode'])} in {where}, "
                     f"which overrides the {lic.mode_label(request.mode)} asked for locally (the local value is now "
                     f"{lic.mode_label(before['local_mode'])})")
    if request.servers is not None and before["policy_license_servers"] is not None and \
            not _same_servers(before["policy_license_servers"], request.servers):
        local = repr(",".join(before["local_license_servers"])) if before["local_license_servers"] else "empty"
        found.append(f"Group Policy sets LicenseServers = {','.join(before['policy_license_servers'])!r} in {where}, "
                     f"which overrides the list asked for locally {request.servers!r} (the local list is now {local})")
    return found


def after_lookup(lookup: Lookup, changes: list[Change]) -> Lookup:
    """Look values up as they are after the changes."""
    done = {(change.wanted.path.lower(), change.wanted.name.lower()): change.after for change in changes}

    def find(item: Wanted) -> t.Any:
        identity = (item.path.lower(), item.name.lower())
        return done[identity] if identity in done else lookup(item)
    return find


def lookup_in(key_values: dict[t.Any, t.Any]) -> Lookup:
    return lambda item: current_value(item, key_values)


def diff_text(info: dict[str, t.Any], scope: str) -> str:
    prefix = "policy" if scope == "policy" else "local"
    servers = info[f"{prefix}_license_servers"]
    return (f"scope: {scope}\n"
            f"LicensingMode: {lic.mode_label(info[f'{prefix}_mode'])}\n"
            f"license servers: {', '.join(servers) if servers else '(none)'}\n"
            f"effective: {lic.mode_label(info['mode'])} from {info['mode_source']}, servers "
            f"{', '.join(info['license_servers']) or '(none)'} from {info['license_servers_source']}\n")
