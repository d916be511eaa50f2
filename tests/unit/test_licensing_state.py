"""The one licensing-state reader: licensing_info and licensing_mode read the same values the same way."""

from __future__ import annotations

import time

import pytest
from rds_sim import scenarios
from rds_sim.agent import serve_request
from rds_sim.host import Host

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _drift
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _host_report as report
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing_state as reader
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _mode_plan as plan
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _transport as transport


def both_readers(state):
    """(licensing_info's blocks, licensing_mode's before) for one simulated host, each read as its module reads."""
    host = Host(state)
    chosen = ["mode", "license_servers", "role"]
    answer = serve_request(host, payload.build_request(report.plan_operations(chosen)))
    info = report.build_report(chosen, transport.results_by_id(answer), transport.agent_failure, 30)
    reads = _changes.KeyReads(list(plan.STATE_VALUES))
    key_values = reads.values(transport.results_by_id(serve_request(host, payload.build_request(reads.ops()))))
    return info, plan.state(plan.lookup_in(key_values))


def string_servers_host(data):
    state = scenarios.build("unit-01", "per_device", time.time())
    state["registry"][scenarios.LICENSE_SERVERS_KEY]["SpecifiedLicenseServers"] = {"type": "string", "data": data}
    return state


def test_reg_sz_server_list_reads_the_same_in_licensing_info_and_licensing_mode():
    info, before = both_readers(string_servers_host("ls01"))
    servers = info["license_servers"]
    assert servers["local"] == before["local_license_servers"] == ["ls01"]
    assert servers["effective"] == before["license_servers"] == ["ls01"]
    assert servers["source"] == before["license_servers_source"] == "local"
    assert servers["local_type"] == "string"
    assert not any("No license server" in note for note in info["warnings"])
    assert any("REG_MULTI_SZ" in note and "string" in note for note in info["warnings"])


@pytest.mark.parametrize("scenario", ["fresh", "per_device", "per_user", "gpo_conflict"])
def test_every_preset_reads_the_same_in_both_modules(scenario):
    info, before = both_readers(scenarios.build("unit-01", scenario, time.time()))
    mode, servers = info["mode"], info["license_servers"]
    assert (mode["effective"], mode["source"], mode["policy"], mode["local"]) == \
        (before["mode"], before["mode_source"], before["policy_mode"], before["local_mode"])
    assert (servers["effective"], servers["source"], servers["policy"], servers["local"]) == \
        (before["license_servers"], before["license_servers_source"], before["policy_license_servers"],
         before["local_license_servers"])


def test_empty_lists_mean_present_but_naming_no_server():
    assert reader.local_servers(None) is None
    assert reader.local_servers(("multistring", [])) == []
    assert reader.local_servers(("string", "")) == []
    assert reader.local_servers(("dword", 1)) is None
    assert reader.policy_servers(("string", " a , ,b ")) == ["a", "b"]
    block = reader.servers_block(None, ("multistring", []))
    assert (block["effective"], block["source"], block["local"]) == ([], "local", [])
    assert reader.servers_block(None, None) == {"effective": [], "source": "unset", "policy": None, "local": None,
                                                "local_type": None}


def test_configured_needs_a_licensed_mode_and_a_server():
    licensed = reader.mode_block(None, ("dword", 2))
    assert reader.is_configured(licensed, reader.servers_block(None, ("string", "ls01")))
    assert not reader.is_configured(licensed, reader.servers_block(None, None))
    assert not reader.is_configured(reader.mode_block(None, ("dword", 5)), reader.servers_block(None, ("string", "ls01")))


def test_the_grace_class_filter_sees_a_reg_sz_server_as_configured():
    info, _before = both_readers(string_servers_host("ls01"))
    info["grace_period"] = {"state": "active", "days_left": 50}
    assert _drift.grace_class(info, 30, 7) == "ok"  # a host without servers in effect would be "unlicensed"
    assert _drift.licensing_configured(info)
