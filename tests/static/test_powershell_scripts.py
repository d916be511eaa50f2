"""The PowerShell the collection sends parses, and uses nothing Windows PowerShell 5.1 lacks.

pwsh cannot be installed here, so the tree-sitter PowerShell grammar stands in for the parser.
"""

from __future__ import annotations

import os

import pytest
import tree_sitter
import tree_sitter_pwsh

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload

# Grammar nodes that only PowerShell 7 can run.
PS7_NODES = {"null_coalesce_expression", "ternary_expression", "pipeline_chain_tail", "??="}
# Command words that only PowerShell 7 knows (parameters and cmdlets).
PS7_WORDS = {"-ashashtable", "-parallel", "-escapehandling", "-skipcertificatecheck", "join-string", "get-error",
             "test-json", "$psstyle"}
# The registry must be reached through the .NET API, never reg.exe (blocked by hardening policy).
FORBIDDEN_COMMANDS = {"reg", "reg.exe", "regedit", "invoke-expression", "iex", "add-type"}

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))


def _nodes(source: str):
    tree = _PARSER.parse(source.encode("utf-8"))
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(node.children)


def ps7_constructs(source: str) -> list[str]:
    found = []
    for node in _nodes(source):
        text = node.text.decode("utf-8", "replace").lower() if node.text is not None else ""
        if node.type in PS7_NODES:
            found.append(f"{node.type} at line {node.start_point[0] + 1}")
        elif node.child_count == 0 and text in PS7_WORDS:
            found.append(f"{text} at line {node.start_point[0] + 1}")
    return found


def parse_errors(source: str) -> list[str]:
    return [f"line {node.start_point[0] + 1}: {node.text.decode('utf-8', 'replace')[:60]!r}"
            for node in _nodes(source) if node.type == "ERROR" or node.is_missing]


SCRIPTS = {"agent": payload.agent_text, "bootstrap": payload.bootstrap_text}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_parses_without_errors(name):
    assert parse_errors(SCRIPTS[name]()) == []


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_uses_no_powershell_7_syntax(name):
    assert ps7_constructs(SCRIPTS[name]()) == []


def test_agent_does_not_shell_out_or_build_code():
    commands = {node.text.decode().lower() for node in _nodes(payload.agent_text()) if node.type == "command_name"}
    assert commands & FORBIDDEN_COMMANDS == set()
    assert "[scriptblock]::create" not in payload.agent_text().lower()


def test_checker_catches_broken_and_powershell_7_scripts():
    """The checks above would fail on a bad script (they are not vacuous)."""
    assert parse_errors("if ($a) { Write-Output 'x' ")
    assert ps7_constructs("$b = $a ?? 2")
    assert ps7_constructs("$c = $a ? 1 : 2")
    assert ps7_constructs("Get-Item x && Get-Item y")
    assert ps7_constructs("$o = ConvertFrom-Json $t -AsHashtable")
    assert parse_errors("$a?.b")


# A certification linter reads the shipped files as they are: at most 160 characters a line, no trailing whitespace.
MAX_LINE = 160
SOURCE_FILES = {"agent": "_agent.ps1", "bootstrap": "_bootstrap.ps1"}


def long_or_trailing_lines(text: str) -> list[str]:
    return [f"line {number}: {len(line)} characters" if len(line) > MAX_LINE else f"line {number}: trailing whitespace"
            for number, line in enumerate(text.splitlines(), 1) if len(line) > MAX_LINE or line != line.rstrip()]


@pytest.mark.parametrize("name", sorted(SOURCE_FILES))
def test_script_lines_fit_the_linter(name):
    path = os.path.join(os.path.dirname(payload.__file__), SOURCE_FILES[name])
    with open(path, encoding="utf-8") as handle:
        assert long_or_trailing_lines(handle.read()) == []


def test_line_checker_is_not_vacuous():
    assert long_or_trailing_lines("x" * 161) == ["line 1: 161 characters"]
    assert long_or_trailing_lines("ok\nx = 1 ") == ["line 2: trailing whitespace"]
    assert long_or_trailing_lines("x" * 160) == []
