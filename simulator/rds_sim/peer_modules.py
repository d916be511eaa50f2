"""What users run today, answered from the same host model, for the benchmark only.

With `rds-sim up --serve-peer-modules` a host also answers:
- the ansible.windows modules the benchmark's peer playbooks use (win_reg_stat, win_regedit,
  win_shell), read from Ansible's PowerShell module payload on stdin (ansible-core 2.19's exec
  manifest) and answered with the results those modules return;
- a few trivial commands (`echo ok`, `hostname`), bare or as a PowerShell script, the floor of
  `ansible.builtin.raw` and of a plain pywinrm command;
- the scripts of ansible.windows.win_reboot (licensing_mode's restart=reboot runs its action plugin):
  the host reboots (rds_sim/reboot.py).
Any other module or command is left to the normal check, which refuses it: rds-sim still runs no
PowerShell and no module code, it only recognises these payloads. Not modelled: win_reg_stat's
expanded `value` of REG_EXPAND_SZ (returned as stored; the model holds no environment), hives other
than HKLM (empty), and the output faults (noisy_output, truncated_output), which stay the agent's.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
import typing as t

from rds_sim import powershell_exe, reboot
from rds_sim.host import Host, SimulatedFailure

# ansible-core 2.19: bootstrap manifest JSON, this separator line, then the exec manifest JSON.
MANIFEST_SEPARATOR = "\n\0\0\0\0\n"
# The one win_shell command the peer audit uses (GetGracePeriodDays, as users write it).
GRACE_DAYS_COMMAND = ("(Invoke-CimMethod -InputObject (Get-CimInstance -Namespace root/cimv2/TerminalServices "
                      "-ClassName Win32_TerminalServiceSetting) -MethodName GetGracePeriodDays).DaysLeft")
_HIVE_PATH = re.compile(r"^HK(CC|CR|CU|LM|U):\\", re.IGNORECASE)
_REG_TYPES = {"string": "REG_SZ", "expandstring": "REG_EXPAND_SZ", "multistring": "REG_MULTI_SZ", "dword": "REG_DWORD",
              "qword": "REG_QWORD", "binary": "REG_BINARY", "none": "REG_NONE"}
# RegistryValueKind names, as win_regedit's diff prints them.
_KIND_NAMES = {"string": "String", "expandstring": "ExpandString", "multistring": "MultiString", "dword": "DWord",
               "qword": "QWord", "binary": "Binary", "none": "None"}

Answer = t.Tuple[bytes, bytes, int]


class ModuleCall(t.NamedTuple):
    name: str  # collection-qualified, e.g. ansible.windows.win_reg_stat
    args: dict[str, t.Any]


def parse_module_payload(stdin: bytes) -> ModuleCall | None:
    """The module and arguments of an ansible-core 2.19 PowerShell module payload; None if it is not one."""
    try:
        head, separator, body = stdin.decode("utf-8").partition(MANIFEST_SEPARATOR)
        if not separator or json.loads(head).get("name") != "exec_wrapper":
            return None
        manifest = json.loads(body)
        action = next(item for item in manifest["actions"] if item["name"] == "module_wrapper.ps1")
        script = str(action["params"]["Script"])
        variables = {item["Name"]: item["Value"] for item in action["params"].get("Variables") or []}
    except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError, StopIteration):
        return None
    parts = script.removesuffix(".ps1").split(".")
    if len(parts) != 6 or parts[0] != "ansible_collections" or parts[3:5] != ["plugins", "modules"]:
        return None
    args = variables.get("complex_args")
    return ModuleCall(".".join((parts[1], parts[2], parts[5])), args if isinstance(args, dict) else {})


def _trivial_answer(host: Host, text: str) -> bytes | None:
    command = " ".join(text.split()).lower()
    if command == "echo ok":
        return b"ok\r\n"
    if command == "hostname":
        return f"{host.facts.get('computer_name', host.name.upper())}\r\n".encode()
    return None


def serve(host: Host, command_line: str, stdin: bytes) -> Answer | None:
    """The answer to a served command or module; None leaves the command to the normal check."""
    bare = _trivial_answer(host, command_line)
    if bare is not None:
        return bare, b"", 0
    try:
        script = powershell_exe.script_of(command_line)
    except powershell_exe.CommandFailed:
        return None
    scripted = _trivial_answer(host, script)
    if scripted is not None:
        return scripted, b"", 0
    rebooting = reboot.answer(host, script)
    if rebooting is not None:
        return rebooting
    call = parse_module_payload(stdin) if stdin else None
    if call is None or call.name not in MODULES:
        return None
    result = MODULES[call.name](host, call.args)
    failed = bool(result.get("failed"))
    return (json.dumps(result) + "\r\n").encode("utf-8"), b"", 1 if failed else 0


# Registry paths -----------------------------------------------------------------------------------
def _hklm_path(path: str) -> str | None:
    """The HKLM-relative path of 'HKLM:\\...'; None for the other hives (not modelled: they hold nothing)."""
    if not path.upper().startswith("HKLM:\\"):
        return None
    return path[6:].strip("\\")


def _stat_value(entry: dict[str, t.Any]) -> dict[str, t.Any]:
    """win_reg_stat's type, value and raw_value of a stored value."""
    kind, data = entry["type"], entry["data"]
    value: t.Any = data
    raw: t.Any = data
    if kind in ("binary", "none"):
        value = list(base64.b64decode(data or ""))
        raw = [f"0x{byte:02x}" for byte in value]
    return {"type": _REG_TYPES[kind], "value": value, "raw_value": raw}


def _failed(result: dict[str, t.Any], message: str) -> dict[str, t.Any]:
    return {**result, "failed": True, "msg": message}


# win_reg_stat -------------------------------------------------------------------------------------
def win_reg_stat(host: Host, args: dict[str, t.Any]) -> dict[str, t.Any]:
    result: dict[str, t.Any] = {"changed": False}
    path = args.get("path", args.get("key"))
    name = args.get("name", args.get("entry", args.get("value")))
    if not path:
        return _failed(result, "Get-AnsibleParam: Missing required argument: path")
    if not _HIVE_PATH.match(str(path)):
        return _failed(result, f"path: {path} is not a valid registry path, see module documentation for examples.")
    key = _hklm_path(str(path))
    try:
        if key is not None:
            host.check_access(key, 64)
        if key is None or not host.registry.key_exists(key):
            return {**result, "exists": False}
        host.count("reads")
        if name is None:
            values = host.registry.values(key)
            return {**result, "exists": True, "properties": {entry["name"]: _stat_value(entry) for entry in values},
                    "sub_keys": host.registry.subkeys(key)}
        entry = host.registry.get_value(key, str(name))
    except SimulatedFailure as failure:
        return _failed(result, f"Exception calling \"OpenSubKey\" with \"2\" argument(s): \"{failure}\"")
    if entry is None:
        return {**result, "exists": False}
    return {**result, "exists": True, **_stat_value(entry)}


# win_regedit --------------------------------------------------------------------------------------
class _BadData(Exception):
    pass


def _regedit_data(kind: str, data: t.Any) -> t.Any:
    """win_regedit's conversion of `data`, to the simulator's stored form."""
    if kind in ("dword", "qword"):
        text = str(data if data is not None else 0).strip()
        number = int(text, 16) if text.lower().startswith("0x") else int(text, 10)  # as PowerShell's [UInt64] cast
        limit = 0xFFFFFFFF if kind == "dword" else 0xFFFFFFFFFFFFFFFF
        if not 0 <= number <= limit:
            raise _BadData(f"data cannot be larger than 0x{limit:x} when type is {kind}")
        return number
    if kind in ("binary", "none"):
        if isinstance(data, list):
            raw = bytes(int(item) for item in data)
        elif isinstance(data, int):
            raw = bytes([data])
        else:
            text = re.sub(r"[^a-f0-9,:]", "", str(data or "").lower().removeprefix("hex:"))
            raw = bytes(int(part, 16) for part in re.split(r"[,:]+", text) if part) if re.search(r"[,:]", text) \
                else binascii.unhexlify(text)
        return base64.b64encode(raw).decode("ascii")
    if kind == "multistring":
        return [str(item) for item in data] if isinstance(data, list) else [str(data)]
    return str(data)


def _diff_value(kind: str, data: t.Any) -> dict[str, t.Any]:
    if kind == "dword":
        return {"type": _KIND_NAMES[kind], "value": f"0x{data:08x}"}
    if kind == "qword":
        return {"type": _KIND_NAMES[kind], "value": f"0x{data:016x}"}
    if kind in ("binary", "none"):
        return {"type": _KIND_NAMES[kind], "value": [f"0x{byte:02x}" for byte in base64.b64decode(data or "")]}
    return {"type": _KIND_NAMES[kind], "value": data}


def win_regedit(host: Host, args: dict[str, t.Any]) -> dict[str, t.Any]:
    params = {"path": args.get("path", args.get("key")), "name": args.get("name", args.get("entry", args.get("value"))),
              "data": args.get("data"), "type": args.get("type", args.get("datatype", "string")),
              "state": args.get("state", "present"), "delete_key": args.get("delete_key", True), "hive": args.get("hive")}
    result: dict[str, t.Any] = {"changed": False, "data_changed": False, "data_type_changed": False,
                                "invocation": {"module_args": params}}
    check_mode = bool(args.get("_ansible_check_mode"))
    before: dict[str, t.Any] = {}
    after: dict[str, t.Any] = {}
    path, name, kind = str(params["path"] or ""), params["name"] or None, params["type"]
    if kind not in _REG_TYPES:
        return _failed(result, f"value of type must be one of: {', '.join(_REG_TYPES)}, got: {kind}")
    if not _HIVE_PATH.match(path):
        return _failed(result, f"path: {path} is not a valid powershell path, see module documentation for examples.")
    key = _hklm_path(path)
    if key is None:
        return _failed(result, f"rds-sim models HKLM only: {path}")
    try:
        data = None if params["data"] is None else _regedit_data(kind, params["data"])
        if params["state"] == "absent":
            result["changed"], before, after = _regedit_absent(host, key, path, name, bool(params["delete_key"]), check_mode)
        else:
            changed, before, after = _regedit_present(host, key, path, name, kind, data, check_mode, result)
            result["changed"] = changed
    except _BadData as bad:
        return _failed(result, str(bad))
    except (ValueError, binascii.Error) as bad:
        return _failed(result, f"cannot convert data '{params['data']}' for type {kind}: {bad}")
    except SimulatedFailure as failure:
        return _failed(result, f"failed to change registry property '{name}' at {path}: {failure}")
    if args.get("_ansible_diff"):
        result["diff"] = {"before": before or "", "after": after or ""}
    return result


def _regedit_present(host: Host, key: str, print_path: str, name: str | None, kind: str, data: t.Any, check_mode: bool,
                     result: dict[str, t.Any]) -> tuple[bool, dict[str, t.Any], dict[str, t.Any]]:
    host.check_access(key, 64)
    changed = False
    if not host.registry.key_exists(key):
        changed = True
        before: dict[str, t.Any] = {}
        if not check_mode:
            host.check_write_access(key, 64)
            host.registry.create_key(key)
            _written(host)
    else:
        before = {print_path: {}}
    after: dict[str, t.Any] = {print_path: {}}
    if data is None or (check_mode and changed):
        return changed, before, after
    value_name = name or ""
    existing = host.registry.get_value(key, value_name)
    if existing is not None:
        type_changed = existing["type"] != kind
        data_changed = existing["data"] != data
        result["data_type_changed"], result["data_changed"] = type_changed, data_changed
        before[print_path][value_name] = _diff_value(existing["type"], existing["data"])
        if not (type_changed or data_changed):
            after[print_path][value_name] = before[print_path][value_name]
            return changed, before, after
    after[print_path][value_name] = _diff_value(kind, data)
    if not check_mode:
        host.check_write_access(key, 64)
        host.registry.set_value(key, value_name, kind, data)
        _written(host)
    return True, before, after


def _regedit_absent(host: Host, key: str, print_path: str, name: str | None, delete_key: bool,
                    check_mode: bool) -> tuple[bool, dict[str, t.Any], dict[str, t.Any]]:
    host.check_access(key, 64)
    if not host.registry.key_exists(key):
        return False, {}, {}
    if delete_key and not name:
        if not check_mode:
            host.check_write_access(key, 64)
            host.registry.delete_tree(key)
            _written(host)
        return True, {print_path: {}}, {}
    existing = host.registry.get_value(key, name or "")
    if existing is None:
        return False, {}, {}
    if not check_mode:
        host.check_write_access(key, 64)
        host.registry.delete_value(key, name or "")
        _written(host)
    return True, {print_path: {existing["name"]: _diff_value(existing["type"], existing["data"])}}, {print_path: {}}


def _written(host: Host) -> None:
    host.count("writes")
    host.dirty = True


# win_shell ----------------------------------------------------------------------------------------
def win_shell(host: Host, args: dict[str, t.Any]) -> dict[str, t.Any]:
    command = str(args.get("_raw_params") or "").strip()
    if args.get("_ansible_check_mode"):
        return {"skipped": True, "changed": False, "msg": "remote module does not support check mode"}
    # win_shell starts one more powershell.exe for the command: its start-up costs the same again.
    latency = float(host.faults.get("latency_ms", 0)) / 1000.0
    if latency:
        time.sleep(latency)
    start = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())
    result: dict[str, t.Any] = {"changed": True, "cmd": command, "start": start, "end": start, "delta": "0:00:00.000000"}
    if command != GRACE_DAYS_COMMAND:
        return _failed({**result, "rc": 1, "stdout": "", "stderr": "rds-sim runs no PowerShell; win_shell answers only "
                        "the benchmark's GetGracePeriodDays command.\r\n"}, "non-zero return code")
    try:
        days = host.grace_days_left()
    except SimulatedFailure as failure:
        stderr = f"Invoke-CimMethod : {failure} ({failure.hresult})\r\n"
        return _failed({**result, "rc": 1, "stdout": "", "stderr": stderr}, "non-zero return code")
    host.count("reads")
    return {**result, "rc": 0, "stdout": f"{days}\r\n", "stderr": ""}


MODULES: dict[str, t.Callable[[Host, dict[str, t.Any]], dict[str, t.Any]]] = {
    "ansible.windows.win_reg_stat": win_reg_stat,
    "ansible.windows.win_regedit": win_regedit,
    "ansible.windows.win_shell": win_shell,
}
