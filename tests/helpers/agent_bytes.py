"""Where the deflated agent's bytes are: what leaving out each function, or every string literal, saves.

`python -m tests.helpers.agent_bytes` prints the table. DEFLATE encodes a repeat in a few bytes, so only content
that is sent nowhere else counts: a function's share is the whole agent deflated minus the agent deflated without
that function (both minified, zlib's best; zopfli is a few % smaller on both sides).
"""

from __future__ import annotations

import importlib.util
import os
import re
import typing as t
import zlib

import tree_sitter
import tree_sitter_pwsh

from tests.helpers.paths import ROOT

_SPEC = importlib.util.spec_from_file_location("agent_bytes_payload", os.path.join(ROOT, "plugins", "plugin_utils", "_agent_payload.py"))
payload = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(payload)
_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))
_STRING = re.compile(r"'(?:[^']|'')*'")


def deflated_size(text: str) -> int:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    return len(compressor.compress(text.encode("utf-8")) + compressor.flush())


def _functions(source: str) -> list[tuple[str, int, int]]:
    """(name, start, end) of each top-level function definition, as character offsets (the agent is ASCII)."""
    found = []
    pending = [_PARSER.parse(source.encode("utf-8")).root_node]
    while pending:
        node = pending.pop()
        if node.type == "function_statement":
            name = next(child for child in node.children if child.type == "function_name")
            found.append((name.text.decode(), node.start_byte, node.end_byte))
        else:
            pending.extend(node.children)
    return sorted(found, key=lambda function: function[1])


def shares(source: str) -> dict[str, int]:
    """Bytes each function costs in the minified, deflated agent, and what all string literals cost ('strings')."""
    whole = deflated_size(payload.minify_agent(source))
    table = {}
    for name, start, end in _functions(source):
        table[name] = whole - deflated_size(payload.minify_agent(source[:start] + source[end:]))
    table["strings"] = whole - deflated_size(_STRING.sub("''", payload.minify_agent(source)))
    return table


def main() -> None:
    source = payload.agent_text()
    if not source.isascii():
        raise SystemExit("the agent is not ASCII: offsets would not be characters")
    print(f"whole agent: {deflated_size(payload.minify_agent(source))} bytes deflated (zlib 9)")
    for name, size in sorted(shares(source).items(), key=lambda item: -item[1]):
        print(f"{size:6d}  {name}", flush=True)


if __name__ == "__main__":
    main()
