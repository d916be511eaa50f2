"""The command line a Windows host receives from each supported ansible-core, computed with each
version's own rule, and what rds-sim (as powershell.exe) makes of it.

winrm: 2.16, 2.17 and 2.18 always pass the command through the shell plugin's `_encode_script`
(plugins/connection/winrm.py `exec_command`), so an already encoded command is encoded a second
time; 2.19 and 2.20 pass a command that starts with the encoded prefix through unchanged. psrp
(every version) decodes the prefix and runs the script in the runspace. `_encode_script` itself
is the same in all five versions.
"""

from __future__ import annotations

import pytest
from ansible.plugins.shell.powershell import ShellModule

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from rds_sim import powershell_exe

CORES_THAT_ENCODE_AGAIN = ("2.16", "2.17", "2.18")
SUPPORTED_CORES = CORES_THAT_ENCODE_AGAIN + ("2.19", "2.20")


def winrm_command_line(core: str, command: str) -> str:
    shell = ShellModule()
    prefix = shell._encode_script("", as_list=False, strict_mode=False, preserve_rc=False)
    if core not in CORES_THAT_ENCODE_AGAIN and command.startswith(prefix):
        return command
    return " ".join(shell._encode_script(command, as_list=True, strict_mode=False, preserve_rc=False))


@pytest.mark.parametrize("core", SUPPORTED_CORES)
def test_every_core_sends_a_command_line_cmd_exe_accepts(core):
    line = winrm_command_line(core, payload.bootstrap_command())
    assert len(line) <= payload.CMD_LINE_LIMIT, f"ansible-core {core}: {len(line)} characters"


@pytest.mark.parametrize("core", SUPPORTED_CORES)
def test_powershell_exe_runs_the_bootstrap_from_every_core(core):
    assert powershell_exe.script_of(winrm_command_line(core, payload.bootstrap_command())) == payload.bootstrap_text()


def test_the_double_encoding_is_what_makes_the_line_long():
    once = payload.bootstrap_command()
    twice = winrm_command_line("2.16", once)
    assert len(twice) > 2.5 * len(once)


def test_a_line_over_the_limit_is_refused_as_cmd_exe_does():
    too_long = winrm_command_line("2.16", winrm_command_line("2.16", payload.bootstrap_command()))
    assert len(too_long) > powershell_exe.CMD_LINE_LIMIT
    with pytest.raises(powershell_exe.CommandFailed) as refused:
        powershell_exe.script_of(too_long)
    assert refused.value.stderr == "The command line is too long.\r\n"
    assert refused.value.exit_code == 1


@pytest.mark.parametrize("spelling", ["-EncodedCommand", "-encodedcommand", "-enc", "-e", "-ec", "/EncodedCommand"])
def test_powershell_exe_accepts_its_own_spellings(spelling):
    encoded = payload.bootstrap_command().split(" ")[-1]
    assert powershell_exe.script_of(f"powershell.exe -NoP -NonI {spelling} {encoded}") == payload.bootstrap_text()


def test_a_badly_encoded_command_fails_as_powershell_does():
    with pytest.raises(powershell_exe.CommandFailed, match="not properly encoded"):
        powershell_exe.script_of("PowerShell -EncodedCommand not*base64")


def test_other_programs_are_not_powershell():
    with pytest.raises(powershell_exe.CommandFailed, match="not recognized"):
        powershell_exe.script_of("cmd.exe /c whoami")
