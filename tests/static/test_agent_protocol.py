"""The agent, the controller and rds-sim state the agent protocol once each; these tests parse the
facts out of _agent.ps1 and fail when any Python copy differs, so no side can change alone (rds-sim
answers from its own model and would otherwise keep passing whatever the agent says)."""

from __future__ import annotations

import ast
import glob
import json
import os
import typing as t

import pytest
from rds_sim import agent as sim_agent
from rds_sim import scenarios as sim_scenarios
from rds_sim import wmi as sim_wmi
from rds_sim import writes as sim_writes

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing, _protocol, _registry, _transport, _trees
from tests.helpers.paths import ROOT
from tests.static import agent_facts

SIMULATOR_SOURCES = glob.glob(os.path.join(ROOT, "simulator", "rds_sim", "*.py"))
VECTORS = glob.glob(os.path.join(ROOT, "tests", "contract", "vectors", "*.json"))


def protocol_problems(agent_source: str) -> list[str]:
    """Every difference between the agent text and the Python statements of the protocol."""
    facts = agent_facts.read(agent_source)
    problems = []

    def same(what: str, agent_side: t.Any, *others: tuple[str, t.Any]) -> None:
        for where, value in others:
            if value != agent_side:
                problems.append(f"{what}: the agent says {agent_side!r}, {where} says {value!r}")

    same("protocol version", facts.protocol_version, ("_agent_payload", payload.AGENT_PROTOCOL_VERSION),
         ("rds_sim.agent", sim_agent.PROTOCOL_VERSION))
    operations = set(facts.operations)
    same("operations", operations, ("_protocol", set(_protocol.OPERATIONS)),
         ("rds_sim.agent", set(sim_agent._READS) | set(sim_agent._WRITES)))
    same("write operations", facts.writes, ("_protocol", {name for name, op in _protocol.OPERATIONS.items() if op.writes}),
         ("rds_sim.agent", set(sim_agent.WRITE_OPS)))
    for name in sorted(operations & set(_protocol.OPERATIONS)):
        same(f"arguments of {name}", facts.op_args[name], ("_protocol", set(_protocol.OPERATIONS[name].args)))
    same("request fields", facts.request_fields, ("_protocol", set(_protocol.REQUEST_FIELDS)))
    if not set(_protocol.OP_FIELDS) <= facts.op_fields:
        problems.append(f"operation fields: the agent reads {sorted(facts.op_fields)}, not {_protocol.OP_FIELDS}")
    same("error kinds", facts.error_kinds, ("_protocol", set(_protocol.ERROR_KINDS)), ("_transport remedies", set(_transport.REMEDIES)))
    same("writable value types", facts.writable_value_types, ("_protocol", set(_protocol.VALUE_TYPES)),
         ("rds_sim.writes", set(sim_writes.VALUE_TYPES)))
    same("reported value types", facts.reported_value_types, ("_protocol", {*_protocol.VALUE_TYPES, _protocol.UNKNOWN_TYPE}))
    same("destructive allow-list", facts.destructive_roots, ("_protocol", _protocol.DESTRUCTIVE_ROOTS))
    same("destructive allow-list (lower case)", tuple(root.lower() for root in facts.destructive_roots),
         ("rds_sim.writes", sim_writes.DESTRUCTIVE_ROOTS))
    same("DACL allow-list", facts.dacl_roots, ("_protocol", _protocol.DACL_ROOTS))
    same("DACL allow-list (lower case)", tuple(root.lower() for root in facts.dacl_roots), ("rds_sim.writes", sim_writes.DACL_ROOTS))
    same("GracePeriod key", facts.grace_period_path, ("_protocol", _protocol.GRACE_PERIOD_PATH),
         ("_licensing", _licensing.GRACE_PERIOD_KEY), ("rds_sim.writes", sim_writes.GRACE_PATH),
         ("rds_sim.scenarios", sim_scenarios.GRACE_KEY))
    same("timebomb pattern", facts.timebomb_pattern, ("_protocol", _protocol.TIMEBOMB_PATTERN),
         ("rds_sim.writes", sim_writes.TIMEBOMB_PATTERN))
    same("cim_read's allow-list", facts.cim_calls, ("_protocol", _protocol.CIM_CALLS), ("rds_sim.wmi", sim_wmi.CIM_CALLS))
    same("write_file directory", facts.backup_directory, ("_protocol", _protocol.BACKUP_DIRECTORY),
         ("rds_sim.writes", sim_writes.BACKUP_DIRECTORY))
    return problems


def test_agent_and_every_python_copy_agree():
    assert protocol_problems(payload.agent_text()) == []


def test_controller_modules_use_the_protocol_module():
    assert _transport.ERROR_KINDS is _protocol.ERROR_KINDS
    assert _trees.DESTRUCTIVE_ROOTS is _protocol.DESTRUCTIVE_ROOTS
    assert _registry.VALUE_TYPES is _protocol.VALUE_TYPES
    assert set(payload.build_request([], stop_on_error=True, rollback_on_error=True)) <= set(_protocol.REQUEST_FIELDS)


def _sim_literals() -> tuple[set[str], set[str]]:
    """Operation fields the simulator reads (op.get("x"), op["x"]) and error kinds it answers."""
    fields, kinds = set(), set()
    for path in SIMULATOR_SOURCES:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "op" and node.args \
                    and isinstance(node.args[0], ast.Constant):
                fields.add(node.args[0].value)
            if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "op" \
                    and isinstance(node.slice, ast.Constant):
                fields.add(node.slice.value)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "SimulatedFailure" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                kinds.add(node.args[0].value)
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "kind" and isinstance(value, ast.Constant):
                        kinds.add(value.value)
    return fields, kinds


def test_simulator_reads_only_protocol_fields_and_answers_only_protocol_error_kinds():
    fields, kinds = _sim_literals()
    known = set(_protocol.OP_FIELDS).union(*(operation.args for operation in _protocol.OPERATIONS.values()))
    assert fields - known == set()
    assert kinds - set(_protocol.ERROR_KINDS) == set()


def test_every_dispatched_operation_has_a_contract_vector():
    covered = set()
    for path in VECTORS:
        with open(path, encoding="utf-8") as handle:
            covered |= {op["op"] for op in json.load(handle)["request"]["ops"]}
    assert set(agent_facts.read(payload.agent_text()).operations) - covered == set()


@pytest.mark.parametrize("change,before,after", [
    ("a root added to the allow-list", "$DestructiveRoots = @(\n", "$DestructiveRoots = @(\n'SYSTEM',\n"),
    ("a root removed from the allow-list", "'SOFTWARE\\Wow6432Node\\Microsoft\\MSLicensing',\n", ""),
    ("a root added to the DACL allow-list", "$DaclRoots = @(\n", "$DaclRoots = @(\n'SOFTWARE',\n"),
    ("an operation renamed", "if ($name -eq 'delete_value')", "if ($name -eq 'remove_value')"),
    ("an operation dropped", "if ($name -eq 'write_file') { return Invoke-WriteFile $Op }\n", ""),
    ("an argument renamed", "(Get-Field $Op 'grant_users' $false)", "(Get-Field $Op 'grant' $false)"),
    ("a new error kind", "New-OpError 'service_error'", "New-OpError 'service_failed'"),
    ("a value type renamed", "expandstring = 'ExpandString'",
     "expand_string = 'ExpandString'"),
    ("the timebomb pattern widened", "$TimebombPattern = 'L$*TIMEBOMB*'", "$TimebombPattern = 'L$*'"),
    ("the protocol version raised", "$AgentProtocolVersion = 2", "$AgentProtocolVersion = 3"),
    ("the backup directory moved", "$BackupDirectory = 'RemoteDesktopLicensing\\Backups'", "$BackupDirectory = 'Temp'"),
    ("a read turned into a write", "function Invoke-ServiceStatus {\nparam($Op)\n",
     "function Invoke-ServiceStatus {\nparam($Op)\n[System.IO.File]::WriteAllBytes('x', @())\n"),
    ("a class added to cim_read's allow-list", "$CimCalls = @{\n", "$CimCalls = @{\n'root/cimv2:Win32_Product' = @()\n"),
    ("a method added to cim_read's allow-list", "= 'FetchReportSummaryEntries'", "= 'FetchReportSummaryEntries', 'Delete'"),
    ("a method dropped from cim_read's allow-list", "'IsLSonDC', ", ""),
    ("a class's namespace changed", "'root/cimv2:Win32_TSIssuedLicense'", "'root/default:Win32_TSIssuedLicense'"),
])
def test_a_change_to_the_agent_alone_is_caught(change, before, after):
    source = payload.agent_text()
    assert before in source, change
    assert protocol_problems(source.replace(before, after, 1)), change
