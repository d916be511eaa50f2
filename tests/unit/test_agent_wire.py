"""The agent as it travels: minified without changing what it does, prebuilt with zopfli, and within the byte budget."""

from __future__ import annotations

import base64
import json
import re
import typing as t
import zlib

import pytest
import tree_sitter
import tree_sitter_pwsh

from ansible_collections.remote_desktop.licensing.plugins.action.licensing_mode import RESTART_SERVICES
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _host_report
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _mode_plan as mode_plan
from tests.helpers import agent_wire

# What one host-task may put on stdin (agent and request), in bytes.
STDIN_BUDGET = 10_000
_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))
# Renamed leaves: variables everywhere, function names where defined and where called.
_RENAMED = {"variable", "function_name", "command_name"}


def _shape(node: t.Any, renamed: list[tuple[str, str]]) -> t.Any:
    """The parse tree as nested tuples; renamable leaves are recorded in order and left out of the shape."""
    if node.type == "command_argument_sep":
        return node.type
    if node.child_count == 0:
        text = node.text.decode("utf-8")
        if node.type in _RENAMED:
            renamed.append((node.type, text))
            return node.type
        return node.type, text
    return node.type, tuple(_shape(child, renamed) for child in node.children)


def _parse(text: str) -> tuple[t.Any, list[tuple[str, str]]]:
    tree = _PARSER.parse(text.encode("utf-8"))
    assert not tree.root_node.has_error
    renamed: list[tuple[str, str]] = []
    return _shape(tree.root_node, renamed), renamed


def test_the_minified_agent_is_the_same_program_with_other_names():
    """Same parse tree, every string, number, member and type untouched, and names renamed one to one
    (case-insensitively, as PowerShell compares them), so no two names merge and no name changes meaning."""
    original_shape, original_names = _parse(payload.agent_text())
    wire_shape, wire_names = _parse(payload.minify_agent(payload.agent_text()))
    assert wire_shape == original_shape
    assert len(wire_names) == len(original_names)
    forward: dict[str, str] = {}
    backward: dict[str, str] = {}
    for (kind, before), (wire_kind, after) in zip(original_names, wire_names):
        assert kind == wire_kind
        before, after = before.lower(), after.lower()
        assert forward.setdefault(before, after) == after, before
        assert backward.setdefault(after, before) == before, after
    kept = {name for name, new in forward.items() if name == new}
    defined = {name.lower() for name in re.findall(r"^function (\S+)", payload.agent_text(), re.M)}
    # Cmdlets and automatic variables keep their names; every function of the agent and every other variable is renamed.
    assert not kept & defined
    assert {name for name in kept if name.startswith("$")} <= {"$" + name for name in payload._KEPT_VARIABLES}
    assert len(payload.wire_agent_text()) < len(payload.agent_text()) * 0.8


def test_the_agent_never_names_a_variable_in_text():
    """Renaming is safe only while no variable is reached by its name as a string."""
    lowered = payload.agent_text().lower()
    for word in ("get-variable", "set-variable", "new-variable", "-variable", "psvariable", "-outvariable",
                 "-errorvariable", "$script:", "$global:", "$using:", "$env:", '"'):
        if word == '"':
            assert all(line.count("'") >= 2 for line in lowered.splitlines() if '"' in line)
        else:
            assert word not in lowered, word


def test_the_agent_calls_its_own_functions_with_positional_arguments_only():
    """Parameters are renamed with their variables, so a call by parameter name (-Name) would no longer bind."""
    defined = {name.lower() for name in re.findall(r"^function (\S+)", payload.agent_text(), re.M)}
    tree = _PARSER.parse(payload.agent_text().encode("utf-8"))
    named_calls = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type == "command":
            name = next((child for child in node.children if child.type == "command_name"), None)
            if name is not None and name.text.decode().lower() in defined and b" -" in node.text:
                parameters = [child for child in _walk(node) if child.type == "command_parameter"]
                named_calls += [node.text.decode() for _ in parameters[:1]]
    assert named_calls == []


def _walk(node: t.Any) -> t.Iterator[t.Any]:
    yield node
    for child in node.children:
        yield from _walk(child)


@pytest.mark.parametrize("script", [
    'Write-Output "$name"',  # interpolation: a renamed variable inside a double-quoted string
    "$script:count = 1",  # a scope-qualified variable
    "${odd name} = 1",
    "$x = 'never closed",
    "$options = @{}; Get-Thing @options",  # splatting names a variable without '$'
])
def test_the_minifier_refuses_what_it_cannot_rename_safely(script):
    with pytest.raises(ValueError):
        payload.minify_agent(script)


def test_the_minifier_renames_one_to_one_and_leaves_strings_alone():
    script = "function Get-Thing {\nparam($Op, $Name = 'x')\nreturn [ordered]@{ name = $name; op = $OP; text = '$Op = $Name' }\n}\n$Op = Get-Thing 1 $null"
    assert payload.minify_agent(script) == (
        "function F-a {\nparam($a,$b='x')\nreturn [ordered]@{name=$b;op=$a;text='$Op = $Name'}\n}\n$a=F-a 1 $null"
    )


def test_the_prebuilt_deflated_agent_is_current():
    """make agent-wire rebuilds it after a change to _agent.ps1; until then tasks send zlib's larger encoding."""
    with open(agent_wire.TARGET, encoding="ascii") as handle:
        prebuilt = handle.read()
    label, source_hash, deflated = prebuilt.split()
    assert label == "source-sha256" and source_hash == payload.source_sha256(), "stale: run make agent-wire"
    assert payload.inflate_agent(deflated) == payload.minify_agent(payload.agent_text())
    assert prebuilt == agent_wire.build()
    assert payload.deflated_agent() == deflated
    assert len(deflated) < len(payload.zlib_deflated(payload.wire_agent_text()))


def test_a_task_checks_the_prebuilt_agent_by_its_hash_without_minifying(monkeypatch):
    """Minifying costs about 0.1 s: too much for every host-task, so a task only hashes the source."""
    def refuse(_script: str) -> str:
        raise AssertionError("minified at run time")

    monkeypatch.setattr(payload, "minify_agent", refuse)
    payload.deflated_agent.cache_clear()
    payload.wire_agent_text.cache_clear()
    try:
        assert payload.inflate_agent(payload.deflated_agent()) == payload.wire_agent_text()
    finally:
        payload.deflated_agent.cache_clear()
        payload.wire_agent_text.cache_clear()


def test_a_stale_prebuilt_agent_is_not_sent(monkeypatch):
    older = payload.prebuilt_file_text("0" * 64, payload.zlib_deflated("an older agent"))
    monkeypatch.setitem(payload._cache, payload.DEFLATED_AGENT_FILE, older)
    payload.deflated_agent.cache_clear()
    payload.wire_agent_text.cache_clear()
    try:
        assert payload.inflate_agent(payload.deflated_agent()) == payload.minify_agent(payload.agent_text())
        assert payload.wire_agent_text() == payload.minify_agent(payload.agent_text())
    finally:
        payload.deflated_agent.cache_clear()
        payload.wire_agent_text.cache_clear()


def _stdin_bytes(ops: list[dict[str, t.Any]], **options: bool) -> int:
    return len(payload.stdin_line(payload.build_request(ops, **options)))


def _licensing_info_ops() -> list[dict[str, t.Any]]:
    return _host_report.plan_operations(_host_report.resolve_subsets(["all"]))


def _licensing_mode_write_ops() -> list[dict[str, t.Any]]:
    """What licensing_mode writes to set Per User and three license servers, then restart TermService."""
    servers = ["rdls01.corp.example.com", "rdls02.corp.example.com", "rdls03.branch.corp.example.com"]
    changes = [
        _changes.Change(mode_plan.LOCAL_MODE._replace(value=("dword", 4)), ("dword", 2), ("dword", 4)),
        _changes.Change(mode_plan.LOCAL_SERVERS._replace(value=("multistring", servers)), ("multistring", servers[:1]),
                        ("multistring", servers)),
    ]
    ops = _changes.write_ops(changes) + [{"id": "restart", "op": "restart_service", "names": RESTART_SERVICES}]
    assert len(ops) == 3 and all("expect" in op for op in ops[:2])
    return ops


def test_a_licensing_info_task_sends_at_most_the_budget():
    assert _stdin_bytes(_licensing_info_ops()) <= STDIN_BUDGET


def test_a_licensing_mode_write_with_a_few_servers_sends_at_most_the_budget():
    assert _stdin_bytes(_licensing_mode_write_ops(), stop_on_error=True, rollback_on_error=True) <= STDIN_BUDGET


def test_the_request_travels_deflated():
    """A licensing_info request is 1.9 KB of JSON; on stdin it is a third of that."""
    request = payload.build_request(_licensing_info_ops())
    line = payload.stdin_line(request)
    agent, body = line.decode("ascii").split(" ")
    assert agent == payload.deflated_agent()
    assert payload.split_stdin_line(line)[1] == request
    assert len(body) < len(json.dumps(request)) // 2


def test_the_wire_agent_is_raw_deflate_that_inflates_exactly():
    raw = base64.a85decode(payload.deflated_agent())
    assert zlib.decompress(raw, -15).decode("utf-8") == payload.wire_agent_text()
