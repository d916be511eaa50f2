"""rds-sim's benchmark-only answers for ansible.windows modules: the payload ansible-core builds is
parsed back to the module and its arguments, and the answers follow the modules' own rules."""

from __future__ import annotations

import base64
import json
import time

import pytest
from ansible.executor.powershell import module_manifest

from rds_sim import peer_modules, scenarios
from rds_sim.host import Host

LICENSING_CORE = "HKLM:\\" + scenarios.LICENSING_CORE_KEY
SERVERS = "HKLM:\\" + scenarios.LICENSE_SERVERS_KEY
POLICY = "HKLM:\\" + scenarios.POLICY_KEY
POWERSHELL = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "


def payload(module: str, args: dict, monkeypatch) -> bytes:
    """ansible-core's own module payload (the signed-hashlist lookup needs the collection installed; none here)."""
    monkeypatch.setattr(module_manifest, "_get_powershell_signed_hashlist", lambda *_: None)
    return module_manifest._create_powershell_wrapper(
        name=f"ansible_collections.ansible.windows.plugins.modules.{module}",
        module_data=b"#!powershell\n#Requires -Module Ansible.ModuleUtils.Legacy\n", module_path=f"/c/{module}.ps1",
        module_args=args, environment={}, async_timeout=0, become_plugin=None, substyle="powershell", task_vars={},
        profile="legacy")


def command_line(script: str) -> str:
    return POWERSHELL + base64.b64encode(script.encode("utf-16-le")).decode()


def host(scenario: str) -> Host:
    return Host(scenarios.build(f"{scenario}-01", scenario, time.time()))


def test_the_payload_names_the_module_and_its_arguments(monkeypatch):
    args = {"path": LICENSING_CORE, "name": "LicensingMode", "_ansible_check_mode": True}
    call = peer_modules.parse_module_payload(payload("win_reg_stat", args, monkeypatch))
    assert call == peer_modules.ModuleCall("ansible.windows.win_reg_stat", args)


@pytest.mark.parametrize("stdin", [b"", b"not a payload", b'{"name": "exec_wrapper"}\n\0\0\0\0\n{"actions": []}',
                                   b'{"agent": "x", "request": {}}', b"\xff\xfe"])
def test_anything_else_is_not_a_module_call(stdin):
    assert peer_modules.parse_module_payload(stdin) is None


def serve(target: Host, module: str, args: dict, monkeypatch) -> tuple[dict, int]:
    answer = peer_modules.serve(target, command_line("& $bootstrap"), payload(module, args, monkeypatch))
    assert answer is not None
    stdout, _, code = answer
    return json.loads(stdout), code


def test_win_reg_stat_reads_values_of_the_model(monkeypatch):
    target = host("per_user")
    mode, _ = serve(target, "win_reg_stat", {"path": LICENSING_CORE, "name": "LicensingMode"}, monkeypatch)
    assert mode == {"changed": False, "exists": True, "type": "REG_DWORD", "value": 4, "raw_value": 4}
    servers, _ = serve(target, "win_reg_stat", {"path": SERVERS, "name": "SpecifiedLicenseServers"}, monkeypatch)
    assert servers["type"] == "REG_MULTI_SZ" and servers["value"] == ["ls01.example.test", "ls02.example.test"]
    missing, _ = serve(target, "win_reg_stat", {"path": POLICY, "name": "LicensingMode"}, monkeypatch)
    assert missing == {"changed": False, "exists": False}
    whole, _ = serve(target, "win_reg_stat", {"path": LICENSING_CORE}, monkeypatch)
    assert whole["properties"]["LicensingMode"]["value"] == 4


def test_win_reg_stat_fails_on_a_bad_path_and_on_denied_access(monkeypatch):
    answer, code = serve(host("fresh"), "win_reg_stat", {"path": "SOFTWARE\\X", "name": "Y"}, monkeypatch)
    assert code == 1 and "is not a valid registry path" in answer["msg"]
    target = host("fresh")
    target.faults["access_denied"] = [scenarios.LICENSING_CORE_KEY]
    answer, code = serve(target, "win_reg_stat", {"path": LICENSING_CORE, "name": "LicensingMode"}, monkeypatch)
    assert code == 1 and answer["failed"] and "not allowed" in answer["msg"]


def test_win_regedit_check_mode_reports_the_change_and_writes_nothing(monkeypatch):
    target = host("fresh")
    args = {"path": LICENSING_CORE, "name": "LicensingMode", "data": 4, "type": "dword",
            "_ansible_check_mode": True, "_ansible_diff": True}
    answer, code = serve(target, "win_regedit", args, monkeypatch)
    assert code == 0 and answer["changed"] and answer["data_changed"] and not answer["data_type_changed"]
    assert answer["diff"]["before"][LICENSING_CORE]["LicensingMode"] == {"type": "DWord", "value": "0x00000005"}
    assert answer["diff"]["after"][LICENSING_CORE]["LicensingMode"] == {"type": "DWord", "value": "0x00000004"}
    assert target.registry.get_value(scenarios.LICENSING_CORE_KEY, "LicensingMode")["data"] == 5
    assert target.counters["writes"] == 0


def test_win_regedit_writes_then_finds_nothing_to_do(monkeypatch):
    target = host("fresh")
    args = {"path": SERVERS, "name": "SpecifiedLicenseServers", "data": ["ls01.example.com"], "type": "multistring"}
    first, _ = serve(target, "win_regedit", args, monkeypatch)
    second, _ = serve(target, "win_regedit", args, monkeypatch)
    assert first["changed"] and not second["changed"]
    assert target.registry.get_value(scenarios.LICENSE_SERVERS_KEY, "SpecifiedLicenseServers") == {
        "name": "SpecifiedLicenseServers", "type": "multistring", "data": ["ls01.example.com"]}
    assert target.counters["writes"] == 2  # the missing key, then the value
    gone, _ = serve(target, "win_regedit", {"path": SERVERS, "name": "SpecifiedLicenseServers", "state": "absent"},
                    monkeypatch)
    assert gone["changed"] and target.registry.get_value(scenarios.LICENSE_SERVERS_KEY, "SpecifiedLicenseServers") is None


def test_win_regedit_a_new_type_is_a_change_and_bad_data_fails(monkeypatch):
    target = host("per_user")
    answer, _ = serve(target, "win_regedit", {"path": LICENSING_CORE, "name": "LicensingMode", "data": "4"}, monkeypatch)
    assert answer["changed"] and answer["data_type_changed"]
    assert target.registry.get_value(scenarios.LICENSING_CORE_KEY, "LicensingMode")["type"] == "string"
    answer, code = serve(target, "win_regedit", {"path": LICENSING_CORE, "name": "X", "data": 2 ** 32, "type": "dword"},
                         monkeypatch)
    assert code == 1 and answer["msg"] == "data cannot be larger than 0xffffffff when type is dword"


def test_win_shell_answers_only_the_grace_period_command(monkeypatch):
    answer, code = serve(host("grace_expiring"), "win_shell", {"_raw_params": peer_modules.GRACE_DAYS_COMMAND},
                         monkeypatch)
    assert code == 0 and answer["stdout"].strip() == "5" and answer["changed"]
    answer, code = serve(host("fresh"), "win_shell", {"_raw_params": "Remove-Item C:\\ -Recurse"}, monkeypatch)
    assert code == 1 and answer["failed"] and "runs no PowerShell" in answer["stderr"]
    answer, _ = serve(host("fresh"), "win_shell", {"_raw_params": peer_modules.GRACE_DAYS_COMMAND,
                                                   "_ansible_check_mode": True}, monkeypatch)
    assert answer["skipped"]


def test_other_modules_and_scripts_are_left_to_the_normal_refusal(monkeypatch):
    target = host("fresh")
    other = payload("win_command", {"_raw_params": "whoami"}, monkeypatch)
    assert peer_modules.serve(target, command_line("& $bootstrap"), other) is None
    assert peer_modules.serve(target, command_line("Get-ChildItem C:\\"), b"") is None
    assert peer_modules.serve(target, "cmd.exe /c dir", b"") is None


@pytest.mark.parametrize("line", ["hostname", "HOSTNAME", command_line("hostname"), command_line("echo ok")])
def test_trivial_commands_answer_bare_or_as_a_script(line):
    stdout, _, code = peer_modules.serve(host("fresh"), line, b"")
    assert code == 0 and stdout.strip() in (b"FRESH-01", b"ok")
