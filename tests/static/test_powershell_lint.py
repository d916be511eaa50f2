"""The agent and bootstrap pass the PSScriptAnalyzer rules of ansible-test's pslint that can be
checked without pwsh (tests/helpers/pslint.py; the list is in docs/powershell-lint.md)."""

from __future__ import annotations

import os

import pytest

from tests.helpers import pslint
from tests.helpers.paths import ROOT

# The files as they are in the tree (comments included), which is what pslint reads.
SCRIPTS = ("_agent.ps1", "_bootstrap.ps1")


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_passes_the_static_pslint_rules(name):
    with open(os.path.join(ROOT, "plugins", "plugin_utils", name), encoding="utf-8-sig") as handle:
        source = handle.read()
    assert [str(finding) for finding in pslint.lint(source)] == []


BAD = {
    "PSAvoidSemicolonsAsLineTerminators": "$a = 1;\n",
    "PSPlaceOpenBrace (open brace on the line before)": "if ($a)\n{\n    $b = 1\n}\n",
    "PSPlaceCloseBrace (new line after a close brace)": "if ($a) {\n    $b = 1\n} else {\n    $b = 2\n}\n",
    "PSPlaceCloseBrace (close brace on its own line)": "if ($a) {\n    $b = 1 }\n",
    "PSUseConsistentIndentation (4 spaces)": "if ($a) {\n  $b = 1\n}\n",
    "PSAvoidUsingCmdletAliases": "gci C:\\\n",
    "PSAvoidUsingWriteHost": "Write-Host 'x'\n",
    "PSAvoidUsingWMICmdlet": "Get-WmiObject Win32_OperatingSystem\n",
    "PSUseApprovedVerbs": "function Fetch-Thing {\n    1\n}\n",
    "PSAvoidUsingEmptyCatchBlock": "try {\n    $a = 1\n}\ncatch {\n}\n",
    "PSPossibleIncorrectComparisonWithNull": "if ($a -eq $null) {\n    $b = 1\n}\n",
    "PSAvoidGlobalVars": "$global:a = 1\n",
    "PSMisleadingBacktick": "Get-Item x ` \n    -Force\n",
}


@pytest.mark.parametrize("rule", sorted(BAD))
def test_each_rule_catches_its_bad_example(rule):
    assert rule in [finding.rule for finding in pslint.lint(BAD[rule])]


GOOD = (
    "if ($a) {\n    $b = 1\n}\nelse {\n    $b = 2\n}\n"
    "try {\n    $c = @{ x = 1; y = 2 }\n}\ncatch {\n    $c = $null\n}\n"
    "if ($null -eq $a) { $d = 1 }\n"
    "function Get-Thing {\n    Get-ChildItem -LiteralPath C:\\ | Where-Object { $_.Name }\n}\n"
)


def test_compliant_code_has_no_findings():
    assert [str(finding) for finding in pslint.lint(GOOD)] == []
