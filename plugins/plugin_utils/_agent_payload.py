# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Builds what goes over the wire: the constant command line (the bootstrap, encoded) and the one
ASCII line on stdin that carries the agent and the request (JSON), each deflated and Ascii85-encoded. Pure Python
with no Ansible imports, so the simulator loads this same file to recognise the shipped agent.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import re
import typing as t
import zlib

AGENT_PROTOCOL_VERSION = 2

# The exact prefix ansible-core's winrm and psrp plugins recognise as "already encoded":
# they run it as is (winrm) or decode it and run it in the runspace (psrp).
POWERSHELL_PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand"

# cmd.exe limits a WinRS command line to 8191 characters.
CMD_LINE_LIMIT = 8191

_HERE = os.path.dirname(os.path.abspath(__file__))
_cache: dict[str, str] = {}


def _read_script(file_name: str) -> str:
    if file_name not in _cache:
        with open(os.path.join(_HERE, file_name), encoding="utf-8") as handle:
            _cache[file_name] = handle.read()
    return _cache[file_name]


def _strip_comment_lines(script: str) -> str:
    """Drop comment lines, blank lines and indentation (the scripts keep one statement per line)."""
    lines = (line.strip() for line in script.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("#"))


def agent_text() -> str:
    """The agent script as written, comment lines and indentation stripped (what the lints and parity tests read)."""
    return _strip_comment_lines(_read_script("_agent.ps1"))


# Minifying: one deterministic, token-level rewrite of agent_text(), checked by tests/unit/test_agent_wire.py against a
# PowerShell parse tree (same tree, names renamed one to one). Variables and functions get short names; strings,
# member names, hashtable keys and type names are never touched. PowerShell names are case-insensitive, so one
# lower-cased original maps to one new name. Automatic and preference variables (about_Automatic_Variables and
# about_Preference_Variables of Windows PowerShell 5.1) keep theirs.
_KEPT_VARIABLES = frozenset((
    "_", "args", "consolefilename", "error", "event", "eventargs", "eventsubscriber", "executioncontext", "false",
    "foreach", "home", "host", "input", "lastexitcode", "matches", "myinvocation", "nestedpromptlevel", "null", "ofs",
    "pid", "profile", "psboundparameters", "pscmdlet", "pscommandpath", "psculture", "psdebugcontext", "pshome",
    "psitem", "psscriptroot", "pssenderinfo", "psuiculture", "psversiontable", "pwd", "sender", "shellid",
    "stacktrace", "switch", "this", "true", "confirmpreference", "debugpreference", "erroractionpreference",
    "errorview", "formatenumerationlimit", "informationpreference", "logcommandhealthevent",
    "logcommandlifecycleevent", "logenginehealthevent", "logenginelifecycleevent", "logproviderhealthevent",
    "logproviderlifecycleevent", "maximumhistorycount", "outputencoding", "progresspreference",
    "psdefaultparametervalues", "psemailserver", "psmoduleautoloadingpreference", "pssessionapplicationname",
    "pssessionconfigurationname", "pssessionoption", "verbosepreference", "warningpreference", "whatifpreference",
))
# One line of the agent as tokens: a single-quoted string, a variable, a hyphenated command name, other code. Anything
# else (a double quote, '${', a lone '$', an unclosed quote, splatting) is refused rather than guessed at.
_TOKEN = re.compile(
    r"'(?:[^']|'')*'"  # a single-quoted string: never changed
    r"|\$([A-Za-z_][A-Za-z0-9_]*)(?![A-Za-z0-9_:{])"  # a variable
    r"|([A-Za-z][A-Za-z0-9]*-[A-Za-z][A-Za-z0-9]*)(?![A-Za-z0-9-])"  # a command name such as Get-Field
    r"|(@[A-Za-z_])"  # splatting (@name): refused, it names a variable without '$'
    r"|[^'$\"@A-Za-z]+|@|[A-Za-z]+"
)
# Spaces that never matter in the agent's code (outside strings): around '=', after ';', ',' and '{', before '}'.
# The others stay: after a command argument a space before '{' or '|' or after '}' ends the argument, and a space
# before ',' keeps 'return ,$list' plainly a keyword and a unary comma.
_SQUEEZE = re.compile(r"([;,]) |(\{) | (\})| (=) (?!=)")


def _short_names(prefix: str, count: int) -> list[str]:
    """count names: a..z, then two characters; the prefix keeps function names clear of aliases and cmdlets."""
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    names = [prefix + letter for letter in alphabet]
    names += [prefix + first + second for first in alphabet for second in alphabet + "0123456789"]
    # 'rl' is the bootstrap's prefix: the agent runs in its child scope and must not see its variables by accident.
    names = [name for name in names if name.lower() not in _KEPT_VARIABLES and not name.lower().startswith("rl")]
    if len(names) < count:
        raise ValueError(f"minify_agent has {len(names)} short names for {count}")
    return names[:count]


def _tokens(line: str) -> list[re.Match[str]]:
    matches = list(_TOKEN.finditer(line))
    if "".join(match.group(0) for match in matches) != line or any(match.group(3) for match in matches):
        raise ValueError(f"minify_agent cannot read this agent line safely: {line}")
    return matches


def minify_agent(script: str) -> str:
    """The agent text with short variable and function names and no optional spaces (see above)."""
    functions = [name.lower() for name in re.findall(r"^function ([A-Za-z][A-Za-z0-9]*-[A-Za-z0-9]+)", script, re.M)]
    lines = [_tokens(line) for line in script.splitlines()]
    # Most used first, so the most frequent names get the shortest replacements (ties: first seen).
    uses: dict[str, int] = {}
    for line in lines:
        for match in line:
            name = (match.group(1) or "").lower()
            if name and name not in _KEPT_VARIABLES:
                uses[name] = uses.get(name, 0) + 1
    variables = sorted(uses, key=lambda name: -uses[name])
    variable_map = dict(zip(variables, _short_names("", len(variables))))
    function_map = dict(zip(functions, _short_names("F-", len(functions))))
    out = []
    for line in lines:
        pieces = []
        for match in line:
            text = match.group(0)
            if match.group(1):
                text = "$" + variable_map.get(match.group(1).lower(), match.group(1))
            elif match.group(2):
                text = function_map.get(text.lower(), text)
            elif not text.startswith("'"):
                text = _SQUEEZE.sub(lambda found: next(group for group in found.groups() if group), text)
            pieces.append(text)
        out.append("".join(pieces))
    return "\n".join(out)


@functools.lru_cache(maxsize=1)
def wire_agent_text() -> str:
    """The agent script exactly as it is sent and run (its SHA-256 is the one to allow-list)."""
    prebuilt = _current_prebuilt()
    return inflate_agent(prebuilt) if prebuilt else minify_agent(agent_text())


def bootstrap_text() -> str:
    """The bootstrap script exactly as it is encoded on the command line."""
    return _strip_comment_lines(_read_script("_bootstrap.ps1"))


@functools.lru_cache(maxsize=1)
def bootstrap_command() -> str:
    """The constant command line that starts the bootstrap."""
    encoded = base64.b64encode(bootstrap_text().encode("utf-16-le")).decode("ascii")
    return f"{POWERSHELL_PREFIX} {encoded}"


def agent_sha256() -> str:
    return hashlib.sha256(wire_agent_text().encode("utf-8")).hexdigest()


def source_sha256() -> str:
    """The hash the prebuilt file records of the agent it was made from (agent_text(), not the minified text)."""
    return hashlib.sha256(agent_text().encode("utf-8")).hexdigest()


# The deflated agent, made once at build time with a stronger DEFLATE encoder than zlib's (zopfli: about 3% smaller,
# same format): `make agent-wire` rewrites it after any change to _agent.ps1. Its first line is the SHA-256 of the
# agent_text() it was made from, so a task checks it is current by one hash (minifying takes about 0.1 s, too much for
# every host-task); tests/unit/test_agent_wire.py checks that it inflates to exactly minify_agent(agent_text()).
DEFLATED_AGENT_FILE = "_agent_deflated.txt"


def ascii85(raw: bytes) -> str:
    """raw bytes as Ascii85 (5 characters for 4 bytes; base64 takes 4 for 3), spelling a zero group '!!!!!' rather
    than 'z' so that the bootstrap's decoder stays short; still standard Ascii85 (base64.a85decode reads it)."""
    return base64.a85encode(raw).decode("ascii").replace("z", "!!!!!")


def zlib_deflated(text: str) -> str:
    """text as raw DEFLATE (what .NET's DeflateStream reads), Ascii85, with zlib's best level."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    return ascii85(compressor.compress(text.encode("utf-8")) + compressor.flush())


class BootstrapFailure(ValueError):
    """A stdin line the bootstrap cannot decode: its catch prints BOOTSTRAP_FAILURE with the exception's type name."""

    def __init__(self, exception_type: str):
        super().__init__(exception_type)
        self.exception_type = exception_type


# What the bootstrap prints when decoding or running fails (its catch block, byte for byte).
BOOTSTRAP_FAILURE = '{"ok":false,"error":{"kind":"internal","message":"the agent stopped with %s"}}'
# PowerShell wraps what a .NET constructor or method throws (ArgumentNullException, InvalidDataException) in this.
_METHOD_FAILED = "System.Management.Automation.MethodInvocationException"


def bootstrap_ascii85_bytes(part: str) -> bytes:
    """What the bootstrap's decoding loop makes of one part of the stdin line: its statements in order (the comments;
    tests/unit/test_bootstrap_decoder.py finds each in the bootstrap), so that rds-sim decodes exactly as a host does,
    malformed input included (no digit check: a wrong digit makes bytes that DeflateStream then refuses)."""
    # $rlN = $rlI = 0L
    group = count = 0
    # $rlB = [byte[]]$(foreach ($rlC in [byte[]][char[]]($rlPart + 'uuuu')) {
    made: list[int] = []
    try:
        digits = (part + "uuuu").encode("latin-1")
    except UnicodeEncodeError:
        # A character above 255 fails the [byte[]] cast, which PowerShell reports as a RuntimeException (reasoned from
        # the 5.1 documentation, not seen on a host; rds-sim never gets here, it takes ASCII lines only).
        raise BootstrapFailure("System.Management.Automation.RuntimeException") from None
    for digit in digits:
        # $rlN = $rlN * 85 + $rlC - 33
        group = group * 85 + digit - 33
        # if (++$rlI % 5 -eq 0) {
        count += 1
        if count % 5 == 0:
            # foreach ($rlS in 24, 16, 8, 0) { ($rlN -shr $rlS) -band 255 }
            made += [(group >> shift) & 255 for shift in (24, 16, 8, 0)]
            # $rlN = 0L
            group = 0
    # $rlB = New-Object IO.MemoryStream($rlB, 0, ($rlI - 4 - $rlB.Count / 4))
    if not made:
        raise BootstrapFailure(_METHOD_FAILED)  # no output: $rlB is $null, and MemoryStream refuses a null buffer
    return bytes(made[:count - 4 - len(made) // 4])


def bootstrap_inflate(part: str) -> str:
    """One part of the stdin line as the bootstrap reads it: Ascii85, then DeflateStream, then UTF-8 text."""
    inflater = zlib.decompressobj(-15)
    try:
        # DeflateStream stops at the end of its input without complaint, so a cut-off stream gives what it holds.
        raw = inflater.decompress(bootstrap_ascii85_bytes(part))
    except zlib.error:
        raise BootstrapFailure(_METHOD_FAILED) from None
    return raw.decode("utf-8", errors="replace")


def prebuilt_file_text(source_hash: str, deflated: str) -> str:
    return f"source-sha256 {source_hash}\n{deflated}\n"


def _current_prebuilt() -> str | None:
    """The prebuilt deflated agent when it was made from today's _agent.ps1, else None."""
    try:
        fields = _read_script(DEFLATED_AGENT_FILE).split()
    except OSError:
        return None
    if len(fields) == 3 and fields[0] == "source-sha256" and fields[1] == source_sha256():
        return fields[2]
    return None


@functools.lru_cache(maxsize=1)
def deflated_agent() -> str:
    """The agent as it travels: the prebuilt file when it was made from today's agent, else zlib's encoding of it."""
    return _current_prebuilt() or zlib_deflated(wire_agent_text())


def inflate_agent(text: str) -> str:
    """The inverse of deflated_agent and zlib_deflated (what the bootstrap does on the host)."""
    return bootstrap_inflate(text)


def build_request(ops: list[dict[str, t.Any]], stop_on_error: bool = False, rollback_on_error: bool = False) -> dict[str, t.Any]:
    # The flags travel only when set: the agent (and rds-sim) read a missing one as false, and every byte of stdin counts.
    request: dict[str, t.Any] = {"version": AGENT_PROTOCOL_VERSION, "ops": ops}
    if stop_on_error:
        request["stop_on_error"] = True
    if rollback_on_error:
        request["rollback_on_error"] = True
    return request


def stdin_line(request: dict[str, t.Any]) -> bytes:
    """One ASCII line (psrp feeds stdin one object per line): the deflated agent, a space, the request as JSON, deflated
    too (a licensing_info request is 1.9 KB of JSON, 0.6 KB so)."""
    body = json.dumps(request, ensure_ascii=True, separators=(",", ":"))
    return f"{deflated_agent()} {zlib_deflated(body)}\n".encode("ascii")


def split_stdin_line(line: bytes) -> tuple[str, dict[str, t.Any]]:
    """The agent text and the request carried by a stdin line (for the simulator and the tests). Every part is decoded
    as the bootstrap does (BootstrapFailure where it would fail); a line without a request part is a ValueError."""
    texts = [bootstrap_inflate(part) for part in line.decode("ascii").strip().split(" ")]
    if len(texts) < 2:
        raise ValueError("the line carries no request")
    return texts[0], json.loads(texts[1])
