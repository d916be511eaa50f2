"""What a Windows host does with a WinRS command line before any script runs: cmd.exe's length
limit, then powershell.exe's own parameter parsing and -EncodedCommand decoding, including a
command that is itself one more encoded PowerShell call (what ansible-core 2.16-2.18's winrm
plugin makes of an already encoded command)."""

from __future__ import annotations

import base64
import binascii

# cmd.exe refuses longer command lines; CreateProcess (a PowerShell script starting powershell.exe) allows 32,767.
CMD_LINE_LIMIT = 8191
CREATE_PROCESS_LIMIT = 32767

# powershell.exe 5.1 parameters in the order it tries them, with the shortest spelling each accepts.
_PARAMETERS = (
    ("encodedcommand", "e", True), ("executionpolicy", "ex", True), ("command", "c", True),
    ("configurationname", "config", True), ("file", "f", True), ("inputformat", "i", True),
    ("mta", "m", False), ("noexit", "noe", False), ("nologo", "nol", False),
    ("noninteractive", "noni", False), ("noprofile", "nop", False), ("outputformat", "o", True),
    ("psconsolefile", "psc", True), ("sta", "s", False), ("version", "v", True), ("windowstyle", "w", True),
)


class CommandFailed(Exception):
    """The command line never reached a script: what the host writes to stderr, and the exit code."""

    def __init__(self, stderr: str, exit_code: int = 1):
        super().__init__(stderr)
        self.stderr = stderr
        self.exit_code = exit_code


def _parameter(word: str) -> tuple[str, bool] | None:
    name = word[1:].lower()
    if name == "ec":
        return "encodedcommand", True
    for full, shortest, takes_value in _PARAMETERS:
        if name.startswith(shortest) and full.startswith(name):
            return full, takes_value
    return None


def _is_powershell(word: str) -> bool:
    executable = word.strip('"').replace("/", "\\").rsplit("\\", 1)[-1].lower()
    return executable in ("powershell", "powershell.exe")


def _script(words: list[str]) -> str:
    """The script powershell.exe runs for these arguments (words[0] is the executable)."""
    index = 1
    while index < len(words):
        word = words[index]
        if not word.startswith(("-", "/")):
            return " ".join(words[index:])  # a bare word starts the command text, as -Command does
        parameter = _parameter(word)
        if parameter is None:
            raise CommandFailed(f"-{word[1:]} : The term '{word}' is not recognized as a parameter of powershell.exe.\r\n", 1)
        name, takes_value = parameter
        if takes_value and index + 1 >= len(words):
            raise CommandFailed(f"Missing argument for parameter {word}.\r\n", 1)
        if name == "command":
            return " ".join(words[index + 1:])
        if name == "encodedcommand":
            try:
                return base64.b64decode(words[index + 1], validate=True).decode("utf-16-le")
            except (binascii.Error, UnicodeDecodeError):
                raise CommandFailed(
                    "Cannot process the command because the value specified with -EncodedCommand is not properly "
                    "encoded. The value must be Base64 encoded.\r\n", 1) from None
        if name == "file":
            raise CommandFailed("rds-sim runs no script files.\r\n", 1)
        index += 2 if takes_value else 1
    return ""


def script_of(command_line: str) -> str:
    """The script the innermost powershell.exe runs for a WinRS command line.

    A script that consists of a single powershell.exe call is followed into that call, as the real
    outer PowerShell would start the inner one with the same stdin.
    """
    if len(command_line) > CMD_LINE_LIMIT:
        raise CommandFailed("The command line is too long.\r\n", 1)
    words = command_line.split()
    if not words or not _is_powershell(words[0]):
        raise CommandFailed(f"'{words[0] if words else ''}' is not recognized as an internal or external command, "
                            "operable program or batch file.\r\n", 1)
    script = _script(words)
    while True:
        lines = [line.strip() for line in script.splitlines() if line.strip()]
        if len(lines) != 1 or not _is_powershell(lines[0].split()[0]):
            return script
        if len(lines[0]) > CREATE_PROCESS_LIMIT:
            raise CommandFailed("Program 'powershell.exe' failed to run: The filename or extension is too long.\r\n", 1)
        script = _script(lines[0].split())
