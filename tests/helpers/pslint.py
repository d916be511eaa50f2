"""PSScriptAnalyzer rules that can be checked from a tree-sitter parse, without pwsh.

ansible-test's pslint runs PSScriptAnalyzer with the settings in its pslint/settings.psd1; pwsh is
not available here, so these checks stand in for the rules below (docs/powershell-lint.md lists
which rules are checked here and which still need pwsh).
"""

from __future__ import annotations

import typing as t

import tree_sitter
import tree_sitter_pwsh

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_pwsh.language()))

# Get-Verb on Windows PowerShell 5.1 (Build and Deploy came later).
APPROVED_VERBS = frozenset(verb.lower() for verb in """
Add Clear Close Copy Enter Exit Find Format Get Hide Join Lock Move New Open Optimize Pop Push Redo Remove Rename
Reset Resize Search Select Set Show Skip Split Step Switch Undo Unlock Watch Connect Disconnect Read Receive Send
Write Backup Checkpoint Compare Compress Convert ConvertFrom ConvertTo Dismount Edit Expand Export Group Import
Initialize Limit Merge Mount Out Publish Restore Save Sync Unpublish Update Approve Assert Complete Confirm Deny
Disable Enable Install Invoke Register Request Restart Resume Start Stop Submit Suspend Uninstall Unregister Wait
Debug Measure Ping Repair Resolve Test Trace Block Grant Protect Revoke Unblock Unprotect Use
""".split())

# The aliases Windows PowerShell 5.1 defines (Get-Alias), which PSAvoidUsingCmdletAliases flags.
ALIASES = frozenset("""
% ? ac asnp cat cd chdir clc clear clhy cli clp cls clv cnsn compare copy cp cpi cpp curl cvpa dbp del diff dir dnsn
ebp echo epal epcsv epsn erase etsn exsn fc fhx fl foreach ft fw gal gbp gc gcb gci gcm gcs gdr ghy gi gjb gl gm gmo
gp gps gpv group gsn gsnp gsv gu gv gwmi h history icm iex ihy ii ipal ipcsv ipmo ipsn irm ise iwmi iwr kill lp ls man
md measure mi mount move mp mv nal ndr ni nmo npssc nsn nv ogv oh popd ps pushd pwd r rbp rcjb rcsn rd rdr ren ri rjb
rm rmdir rmo rni rnp rp rsn rsnp rujb rv rvpa rwmi sajb sal saps sasv sbp sc select set shcm si sl sleep sls sort sp
spjb spps spsv start sujb sv swmi tee trcm type wget where wjb write
""".split())

# PSAvoidUsingWMICmdlet: the WMI cmdlets are gone from PowerShell 7; CIM cmdlets replace them.
WMI_CMDLETS = frozenset({"get-wmiobject", "remove-wmiobject", "invoke-wmimethod", "register-wmievent",
                         "set-wmiinstance"})

_BRANCH_KEYWORDS = frozenset({"else", "elseif", "catch", "finally"})


class Finding(t.NamedTuple):
    rule: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.rule} at line {self.line}: {self.text}"


def walk(node: t.Any) -> t.Iterator[t.Any]:
    """Every node of a tree-sitter tree, parents first, in source order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _text(node: t.Any) -> str:
    return node.text.decode("utf-8", "replace") if node.text is not None else ""


def _leaves(root: t.Any) -> list[t.Any]:
    """Every token in source order, comments included."""
    return [node for node in walk(root) if node.child_count == 0 and node.end_byte > node.start_byte]


def lint(source: str) -> list[Finding]:
    root = _PARSER.parse(source.encode("utf-8")).root_node
    lines = source.split("\n")
    leaves = _leaves(root)
    found: list[Finding] = []

    def add(rule: str, node: t.Any) -> None:
        row = node.start_point[0]
        found.append(Finding(rule, row + 1, lines[row].strip()[:80]))

    for index, leaf in enumerate(leaves):
        row = leaf.start_point[0]
        before = leaves[index - 1] if index else None
        after = leaves[index + 1] if index + 1 < len(leaves) else None
        first_on_line = before is None or before.end_point[0] < row
        last_on_line = after is None or after.start_point[0] > leaf.end_point[0] or after.type == "comment"
        if leaf.type == ";" and last_on_line:
            add("PSAvoidSemicolonsAsLineTerminators", leaf)
        if leaf.type == "{" and first_on_line and leaf.parent is not None and leaf.parent.type != "hash_literal_expression":
            add("PSPlaceOpenBrace (open brace on the line before)", leaf)
        if leaf.type == "}":
            opener = leaf.parent.children[0] if leaf.parent is not None else None
            one_line = opener is not None and opener.start_point[0] == row
            if not one_line and after is not None and after.start_point[0] == row and \
                    _text(after).lower() in _BRANCH_KEYWORDS:
                add("PSPlaceCloseBrace (new line after a close brace)", leaf)
            if not one_line and not first_on_line:
                add("PSPlaceCloseBrace (close brace on its own line)", leaf)
    for number, line in enumerate(lines, 1):
        indent = line[:len(line) - len(line.lstrip())]
        if "\t" in indent or len(indent) % 4:
            found.append(Finding("PSUseConsistentIndentation (4 spaces)", number, line.strip()[:80]))
        if line.rstrip().endswith("`") and line != line.rstrip():
            found.append(Finding("PSMisleadingBacktick", number, line.strip()[:80]))
    for node in walk(root):
        if node.type == "command_name":
            name = _text(node).lower()
            if name in ALIASES:
                add("PSAvoidUsingCmdletAliases", node)
            if name == "write-host":
                add("PSAvoidUsingWriteHost", node)
            if name in WMI_CMDLETS:
                add("PSAvoidUsingWMICmdlet", node)
        elif node.type == "function_name":
            name = _text(node)
            if "-" in name and name.split("-", 1)[0].lower() not in APPROVED_VERBS:
                add("PSUseApprovedVerbs", node)
        elif node.type == "catch_clause":
            block = next((child for child in node.children if child.type == "statement_block"), None)
            if block is not None and not any(child.type == "statement_list" for child in block.children):
                add("PSAvoidUsingEmptyCatchBlock", node)
        elif node.type == "comparison_expression" and len(node.children) == 3:
            operator = _text(node.children[1]).lower()
            if operator in ("-eq", "-ne", "-ceq", "-cne", "-ieq", "-ine") and _text(node.children[2]).lower() == "$null":
                add("PSPossibleIncorrectComparisonWithNull", node)
        elif node.type == "variable" and _text(node).lower().startswith("$global:"):
            add("PSAvoidGlobalVars", node)
    return sorted(found, key=lambda item: item.line)
