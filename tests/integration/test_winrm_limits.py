"""WinRM's own limits as rds-sim enforces them (Windows' defaults unless a fleet sets others), at the
protocol level with pywinrm: envelope size, shells and operations per user, the idle timeout, and
stdin that must be complete before the agent runs."""

from __future__ import annotations

import json
import random
import string
import subprocess
import time

import pytest
import winrm
from winrm.exceptions import WinRMOperationTimeoutError, WSManFaultError

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from tests.contract.agent_client import command_words
from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT, tool

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
PLAYBOOK = f"{ROOT}/tests/integration/playbooks/licensing_info.yml"
CHUNK = 200_000  # what ansible-core's winrm plugin sends per Send


@pytest.fixture(scope="module")
def default_fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("limits-default")).up(1, ["fresh"])
    yield fleet
    fleet.down()


@pytest.fixture(scope="module")
def small_fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("limits-small")).up(
        2, ["fresh"], limits={"max_shells_per_user": 2, "max_operations_per_user": 3, "idle_timeout_ms": 1500})
    yield fleet
    fleet.down()


def protocol(fleet, host="fresh-01", **options) -> winrm.Protocol:
    return winrm.Protocol(**{**fleet.protocol_options(host), **options})


def start_agent(client: winrm.Protocol) -> tuple[str, str]:
    words = command_words()
    shell_id = client.open_shell(codepage=65001)
    return shell_id, client.run_command(shell_id, words[0], words[1:], console_mode_stdin=False)


def read_requests(count: int) -> dict:
    # Random ids keep the request large on stdin, where it travels deflated (4,000 ops are about 600 KB of base64).
    rng = random.Random(count)
    alphabet = string.ascii_letters + string.digits
    return {"version": 2, "ops": [{"id": f"k{index}-" + "".join(rng.choices(alphabet, k=150)), "op": "read_key", "path": CORE,
                                   "view": 64} for index in range(count)]}


def test_the_31st_shell_of_a_user_is_refused_with_the_quota_fault(default_fleet):
    client = protocol(default_fleet)
    shells = [client.open_shell() for _ in range(30)]
    try:
        with pytest.raises(WSManFaultError) as refused:
            client.open_shell()
        assert refused.value.wsman_fault_code == 2150859173 and refused.value.fault_subcode == "w:QuotaLimit"
        assert "This user is allowed a maximum number of 30 concurrent shells, which has been exceeded" in refused.value.reason
        client.close_shell(shells.pop())
        shells.append(client.open_shell())  # a closed shell frees its place
    finally:
        for shell_id in shells:
            client.close_shell(shell_id)


def test_a_request_over_max_envelope_size_is_refused(default_fleet):
    client = protocol(default_fleet)
    shell_id, command_id = start_agent(client)
    try:
        # 400,000 bytes are 533,336 in base64: over 500 KB with the envelope around them.
        with pytest.raises(WSManFaultError) as refused:
            client.send_command_input(shell_id, command_id, b"x" * 400_000)
        assert refused.value.wsman_fault_code == 2150858825 and refused.value.fault_subcode == "w:EncodingLimit"
        assert "MaxEnvelopeSizekb = 500" in refused.value.reason
    finally:
        client.close_shell(shell_id)


def test_a_request_sent_in_200000_byte_chunks_runs_whole(default_fleet):
    line = payload.stdin_line(read_requests(4000))
    assert len(line) > 2 * CHUNK
    client = protocol(default_fleet)
    shell_id, command_id = start_agent(client)
    try:
        for offset in range(0, len(line), CHUNK):
            client.send_command_input(shell_id, command_id, line[offset:offset + CHUNK], end=offset + CHUNK >= len(line))
        stdout, stderr, code = client.get_command_output(shell_id, command_id)
    finally:
        client.close_shell(shell_id)
    answer = json.loads(stdout)
    assert code == 0 and not stderr and answer["ok"] is True
    assert len(answer["results"]) == 4000 and all(result["ok"] for result in answer["results"])


def test_the_agent_runs_only_once_stdin_has_ended(default_fleet):
    line = payload.stdin_line(read_requests(1))
    client = protocol(default_fleet, operation_timeout_sec=1, read_timeout_sec=10)
    default_fleet.reset_stats()
    shell_id, command_id = start_agent(client)
    try:
        client.send_command_input(shell_id, command_id, line[:100])
        # Receive before the last Send: no output, the OperationTimeout fault clients retry on.
        with pytest.raises(WinRMOperationTimeoutError):
            client.get_command_output_raw(shell_id, command_id)
        assert default_fleet.stats()["fresh-01"]["reads"] == 0
        client.send_command_input(shell_id, command_id, line[100:], end=True)
        stdout, _stderr, code = client.get_command_output(shell_id, command_id)
    finally:
        client.close_shell(shell_id)
    assert code == 0 and b'"ok": true' in stdout
    assert default_fleet.stats()["fresh-01"]["reads"] == 1


def test_operations_per_user_count_shells_and_commands(small_fleet):
    client = protocol(small_fleet)
    shell_id = client.open_shell()
    try:
        first = client.run_command(shell_id, "whoami")
        client.run_command(shell_id, "whoami")
        with pytest.raises(WSManFaultError) as refused:
            client.run_command(shell_id, "whoami")
        assert refused.value.wsman_fault_code == 2150859174
        assert "maximum number of 3 concurrent operations, which has been exceeded" in refused.value.reason
        client.cleanup_command(shell_id, first)  # Signal ends the command and frees its place
        client.run_command(shell_id, "whoami")
    finally:
        client.close_shell(shell_id)


def test_shell_quota_is_per_host(small_fleet):
    first, second = protocol(small_fleet, "fresh-01"), protocol(small_fleet, "fresh-02")
    shells = [first.open_shell(), first.open_shell()]
    try:
        with pytest.raises(WSManFaultError, match="maximum number of 2 concurrent shells"):
            first.open_shell()
        second.close_shell(second.open_shell())
    finally:
        for shell_id in shells:
            first.close_shell(shell_id)


def test_an_idle_shell_is_closed_by_the_service(small_fleet):
    client = protocol(small_fleet)
    idle = [client.open_shell(), client.open_shell()]
    time.sleep(2.5)  # past the fleet's 1,500 ms IdleTimeout
    with pytest.raises(WSManFaultError) as gone:
        client.run_command(idle[0], "whoami")
    assert gone.value.wsman_fault_code == 2150858843
    assert f"ShellId {idle[0]} failed because the shell was not found on the server" in gone.value.reason
    # Expired shells no longer count against the quota.
    fresh = [client.open_shell(), client.open_shell()]
    for shell_id in fresh:
        client.close_shell(shell_id)


def test_limits_are_written_to_fleet_json_and_checked(small_fleet, tmp_path):
    assert small_fleet.meta()["limits"] == {"max_envelope_kb": 500, "max_shells_per_user": 2,
                                            "max_operations_per_user": 3, "idle_timeout_ms": 1500}
    bad = subprocess.run([tool("rds-sim"), "up", "--dir", str(tmp_path), "--max-shells-per-user", "0"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert "limit max_shells_per_user must be a positive whole number, got 0" in bad.stderr


def test_a_playbook_over_the_shell_quota_tells_the_user(default_fleet, tmp_path):
    client = protocol(default_fleet)
    leaked = [client.open_shell() for _ in range(30)]  # shells other tools left open
    try:
        run = run_playbook(PLAYBOOK, default_fleet.inventory, str(tmp_path), {}, args=["--limit", "fresh-01"])
    finally:
        for shell_id in leaked:
            client.close_shell(shell_id)
    result = run.results["fresh-01"]
    assert result.get("unreachable") is True
    assert "This user is allowed a maximum number of 30 concurrent shells, which has been exceeded" in result["msg"]
