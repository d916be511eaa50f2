"""The agent protocol's facts as _agent.ps1 itself states them, read with the tree-sitter PowerShell
grammar: what Invoke-Operation dispatches, which request fields each operation reads, which error
kinds and value kinds it can answer, and its allow-lists, timebomb pattern and backup directory."""

from __future__ import annotations

import typing as t

import tree_sitter
import tree_sitter_pwsh

from tests.helpers.pslint import walk

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))
# .NET methods that change the host; an operation whose code calls one is a write.
MUTATING_METHODS = {"setvalue", "deletevalue", "deletesubkeytree", "createsubkey", "setaccesscontrol", "start", "stop",
                    "writeallbytes", "createdirectory"}


class AgentFacts(t.NamedTuple):
    protocol_version: int | None
    operations: dict[str, str]  # operation -> handler function
    op_args: dict[str, set[str]]
    writes: set[str]
    op_fields: set[str]
    request_fields: set[str]
    error_kinds: set[str]
    writable_value_types: set[str]
    reported_value_types: set[str]
    destructive_roots: tuple[str, ...]
    dacl_roots: tuple[str, ...]
    grace_period_path: str | None
    timebomb_pattern: str | None
    backup_directory: str | None
    cim_calls: dict[str, tuple[str, ...]]  # what cim_read may read ("namespace:Class") and the methods it may call on each


def _text(node: t.Any) -> str:
    return node.text.decode("utf-8") if node is not None and node.text is not None else ""


def _string(node: t.Any) -> str | None:
    """The value of a single-quoted string literal somewhere directly under node, or None."""
    for child in walk(node):
        if child.type == "string_literal":
            raw = _text(child)
            return raw[1:-1].replace("''", "'") if raw.startswith("'") else None
        if child.type not in ("unary_expression", "string_literal", "pipeline", "pipeline_chain", "assignment_value",
                              "argument_expression", "parenthesized_expression"):
            if child is not node:
                return None
    return None


def _command_args(command: t.Any) -> list[t.Any]:
    elements = next((child for child in command.children if child.type == "command_elements"), None)
    return [child for child in (elements.children if elements else []) if child.type != "command_argument_sep"]


def _commands(node: t.Any, name: str | None = None) -> t.Iterator[t.Any]:
    for child in walk(node):
        if child.type == "command":
            command_name = _text(next((c for c in child.children if c.type == "command_name"), None))
            if name is None or command_name.lower() == name.lower():
                yield child


def _field_reads(node: t.Any, variable: str) -> set[str]:
    """Keys read with Get-Field $variable 'key' (PowerShell variable names are case-insensitive)."""
    keys = set()
    for command in _commands(node, "Get-Field"):
        args = _command_args(command)
        if len(args) >= 2 and _text(args[0]).lower() == variable.lower():
            key = _string(args[1])
            if key is not None:
                keys.add(key)
    return keys


def _top_level_assignments(root: t.Any) -> dict[str, t.Any]:
    values = {}
    statements = next(child for child in root.children if child.type == "statement_list")
    for statement in statements.children:
        for node in statement.children:
            if node.type == "assignment_expression":
                name = _text(node.children[0]).lower()
                values[name] = node.children[-1]
    return values


def _functions(root: t.Any) -> dict[str, t.Any]:
    return {_text(next(c for c in node.children if c.type == "function_name")).lower(): node
            for node in walk(root) if node.type == "function_statement"}


def _reachable(functions: dict[str, t.Any], start: str) -> set[str]:
    """start and every agent function it calls, directly or not."""
    seen = set()
    pending = [start.lower()]
    while pending:
        name = pending.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        pending += [_text(next(c for c in cmd.children if c.type == "command_name")).lower()
                    for cmd in _commands(functions[name])]
    return seen


def _dispatch(function: t.Any) -> dict[str, str]:
    """{operation: handler} from Invoke-Operation's `if ($name -eq 'op') { return Handler ... }` lines."""
    table = {}
    for node in walk(function):
        if node.type != "if_statement":
            continue
        comparison = next((c for c in walk(node.children[2]) if c.type == "comparison_expression"), None)
        block = next((c for c in node.children if c.type == "statement_block"), None)
        if comparison is None or block is None or _text(comparison.children[1]).lower() != "-eq":
            continue
        name = _string(comparison.children[2])
        handler = next(_commands(block), None)
        if name is not None and handler is not None:
            table[name] = _text(next(c for c in handler.children if c.type == "command_name"))
    return table


def _error_kinds(root: t.Any, functions: dict[str, t.Any]) -> set[str]:
    """First arguments of New-OpError, plus what Get-ErrorKind returns and the $kind New-CimOpError picks."""
    kinds = set()
    for command in _commands(root, "New-OpError"):
        args = _command_args(command)
        if args and _string(args[0]) is not None:
            kinds.add(_string(args[0]))
    for name in ("get-errorkind", "new-cimoperror"):
        for node in walk(functions[name]) if name in functions else ():
            if node.type == "flow_control_statement" and _text(node.children[0]).lower() == "return":
                value = _string(node.children[1]) if len(node.children) > 1 else None
                if value is not None:
                    kinds.add(value)
            if node.type == "assignment_expression" and _text(node.children[0]).lower() == "$kind":
                value = _string(node.children[-1])
                if value is not None:
                    kinds.add(value)
    return kinds


def _reported_types(root: t.Any) -> set[str]:
    """Value types the agent puts on the wire: `type = '...'` entries and `$entry.type = '...'` assignments."""
    types = set()
    for node in walk(root):
        if node.type == "hash_entry" and _text(node.children[0]) == "type":
            value = _string(next(child for child in node.children if child.type == "pipeline"))
            if value is not None:
                types.add(value)
        if node.type == "assignment_expression" and _text(node.children[0]).lower().endswith(".type"):
            value = _string(node.children[-1])
            if value is not None:
                types.add(value)
    return types


def _strings(node: t.Any) -> tuple[str, ...]:
    return tuple(_text(child)[1:-1] for child in walk(node) if child.type == "string_literal")


def _string_map(node: t.Any) -> dict[str, tuple[str, ...]]:
    """A hashtable literal of string keys, each holding one string, a list of them or @()."""
    entries = [child for child in walk(node) if child.type == "hash_entry"]
    return {_strings(entry.children[0])[0]: _strings(next(child for child in entry.children if child.type == "pipeline"))
            for entry in entries}


def read(source: str) -> AgentFacts:
    root = _PARSER.parse(source.encode("utf-8")).root_node
    assignments = _top_level_assignments(root)
    functions = _functions(root)
    dispatcher = functions.get("invoke-operation")
    operations = _dispatch(dispatcher) if dispatcher is not None else {}
    op_args, writes = {}, set()
    for operation, handler in operations.items():
        reachable = _reachable(functions, handler) - {"invoke-operation"}
        op_args[operation] = set().union(*(_field_reads(functions[name], "$Op") for name in reachable)) if reachable else set()
        methods = {_text(child).lower() for name in reachable for child in walk(functions[name]) if child.type == "member_name"}
        if methods & MUTATING_METHODS:
            writes.add(operation)
    statements = next(child for child in root.children if child.type == "statement_list")
    top_level = [child for child in statements.children if child.type != "function_statement"]
    version = assignments.get("$agentprotocolversion")
    value_kinds = assignments.get("$valuekinds")
    return AgentFacts(
        protocol_version=int(_text(version)) if version is not None and _text(version).isdigit() else None,
        operations=operations,
        op_args=op_args,
        writes=writes,
        op_fields=(_field_reads(dispatcher, "$Op") if dispatcher is not None else set())
        | set().union(*(_field_reads(node, "$op") for node in top_level)),
        request_fields=set().union(*(_field_reads(node, "$Request") for node in top_level)),
        error_kinds=_error_kinds(root, functions),
        writable_value_types={_text(node.children[0]) for node in walk(value_kinds) if node.type == "hash_entry"}
        if value_kinds is not None else set(),
        reported_value_types=_reported_types(root),
        destructive_roots=_strings(assignments["$destructiveroots"]) if "$destructiveroots" in assignments else (),
        dacl_roots=_strings(assignments["$daclroots"]) if "$daclroots" in assignments else (),
        grace_period_path=_string(assignments["$graceperiodpath"]) if "$graceperiodpath" in assignments else None,
        timebomb_pattern=_string(assignments["$timebombpattern"]) if "$timebombpattern" in assignments else None,
        backup_directory=_string(assignments["$backupdirectory"]) if "$backupdirectory" in assignments else None,
        cim_calls=_string_map(assignments["$cimcalls"]) if "$cimcalls" in assignments else {},
    )
