"""The collection over ansible-core's psrp connection (PowerShell remoting through pypsrp) against
rds-sim: the same playbooks and roles, unmodified, with the inventory `rds-sim up --transport psrp`
writes. Also the PSRP endpoint itself, driven by pypsrp directly: what it refuses, the input shapes
of older ansible-core releases, and output larger than one WSMan envelope."""

from __future__ import annotations

import json
import zlib
import logging
import os

import pytest
import yaml

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile as regfile
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _wmi_reads
from tests.helpers.fleet import SimFleet, module_playbook_runner, run_playbook
from tests.helpers.paths import ROOT

PLAYBOOKS = os.path.join(ROOT, "tests", "integration", "playbooks")
PRESETS = ["fresh", "per_user", "gpo_conflict", "client_cache", "grace_expiring"]
HOSTS = FRESH, PER_USER, GPO, CLIENT, GRACE = "fresh-01", "per-user-02", "gpo-conflict-03", "client-cache-04", "grace-expiring-05"
CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
SERVERS_KEY = "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"
MSLICENSING = "SOFTWARE\\Microsoft\\MSLicensing"
POLICY = "SOFTWARE\\Policies\\Microsoft\\Windows NT\\Terminal Services"
SERVERS = ["ls01.example.test", "ls02.example.test"]
COMPUTER = _wmi_reads.computer_system("c")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("psrp-fleet")).up(len(PRESETS), PRESETS, transport="psrp")
    assert fleet.hosts() == list(HOSTS)
    yield fleet
    fleet.down()


@pytest.fixture
def run(fleet, tmp_path):
    """Run one of the module playbooks on one host; returns (result, the host's counters, output)."""
    return module_playbook_runner(fleet, tmp_path)


def pool(fleet, host, configuration_name="Microsoft.PowerShell", **wsman_options):
    """An open pypsrp runspace pool on one simulated host, as the psrp plugin opens it."""
    from pypsrp.powershell import RunspacePool
    from pypsrp.wsman import WSMan

    meta = fleet.meta()
    wsman = WSMan("127.0.0.1", port=meta["port"], path=f"wsman/{host}", ssl=False, auth="ntlm",
                  username=meta["username"], password=meta["password"], encryption="auto", no_proxy=True, **wsman_options)
    runspace = RunspacePool(wsman, configuration_name=configuration_name)
    runspace.open()
    return runspace


def run_script(runspace, script, input_data):
    from pypsrp.powershell import PowerShell

    shell = PowerShell(runspace)
    shell.add_script(script)
    output = shell.invoke(input=input_data)
    return output, [str(error) for error in shell.streams.error]


def request_line(*ops):
    return payload.stdin_line(payload.build_request(list(ops))).decode("ascii")


def test_the_inventory_connects_with_psrp(fleet):
    with open(fleet.inventory, encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)["all"]
    assert inventory["vars"]["ansible_connection"] == "psrp"
    assert inventory["vars"]["ansible_psrp_protocol"] == "http" and inventory["vars"]["ansible_psrp_auth"] == "ntlm"
    assert inventory["vars"]["ansible_psrp_message_encryption"] == "auto"
    assert inventory["hosts"][FRESH]["ansible_psrp_path"] == f"wsman/{FRESH}"
    assert inventory["vars"]["ansible_port"] == fleet.meta()["port"]


def test_licensing_info_reads_every_host_in_one_pipeline(fleet, tmp_path):
    fleet.reset_stats()
    outcome = run_playbook(os.path.join(PLAYBOOKS, "licensing_info.yml"), fleet.inventory, str(tmp_path / "r"))
    assert outcome.rc == 0, outcome.output
    assert set(outcome.results) == set(HOSTS)
    for host, result in outcome.results.items():
        assert not result.get("failed") and not result.get("unreachable"), (host, result)
        assert result["licensing"]["mode"]["wmi_licensing_type"] == fleet.show(host)["wmi"]["LicensingType"]
    assert outcome.results[PER_USER]["licensing"]["mode"]["effective_name"] == "per_user"
    assert outcome.results[GPO]["licensing"]["mode"]["source"] == "policy"
    assert outcome.results[GRACE]["licensing"]["grace_period"]["state"] == "expiring"
    # One runspace pool and one pipeline per host, as the winrm plugin's one shell and one command,
    # every message sealed with NTLM.
    for counters in fleet.stats().values():
        assert counters["shells"] == 1 and counters["commands"] == 1 and counters["writes"] == 0
        assert counters["sealed_requests"] > 0


def test_licensing_mode_check_mode_then_real_run_then_idempotent(fleet, run):
    fleet.reset_host(FRESH, "fresh")
    before = fleet.show(FRESH)["registry"]

    result, stats, output = run("licensing_mode.yml", FRESH, ["--check", "--diff"], mode="per_user", license_servers=SERVERS)
    assert result["changed"] is True and not result.get("failed"), result
    assert "+LicensingMode: per_user (4)" in output
    assert stats["writes"] == 0 and stats["commands"] == 1
    assert fleet.show(FRESH)["registry"] == before

    fleet.reset_stats()
    result, stats, _output = run("licensing_mode.yml", FRESH, mode="per_user", license_servers=SERVERS)
    assert result["changed"] is True and result["before"]["mode_name"] == "not_configured"
    assert stats["writes"] == 2 and stats["commands"] == 2 and stats["shells"] == 1
    assert fleet.value(FRESH, CORE, "LicensingMode") == {"type": "dword", "data": 4}
    assert fleet.value(FRESH, SERVERS_KEY, "SpecifiedLicenseServers") == {"type": "multistring", "data": SERVERS}

    fleet.reset_stats()
    result, stats, _output = run("licensing_mode.yml", FRESH, mode="per_user", license_servers=SERVERS)
    assert result["changed"] is False and stats["writes"] == 0 and stats["commands"] == 1


def test_mslicensing_backs_up_then_clears(fleet, run, tmp_path):
    fleet.reset_host(CLIENT, "client_cache")
    original = {key: values for key, values in fleet.show(CLIENT)["registry"].items()
                if key.lower().startswith(MSLICENSING.lower())}
    assert original
    result, stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    assert result["changed"] is True and stats["commands"] == 2 and stats["shells"] == 1, result
    with open(result["backup_file"], "rb") as handle:
        backed_up = {key.path: key for key in regfile.parse(regfile.decode(handle.read()))}
    assert {path.lower() for path in backed_up} >= {f"hkey_local_machine\\{key}".lower() for key in original}
    assert not any(key.lower().startswith(MSLICENSING.lower()) for key in fleet.show(CLIENT)["registry"])

    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "b"))
    assert result["changed"] is False


def test_a_connection_dropped_around_the_delete_is_reported_as_the_host_holds_it(fleet, run, tmp_path):
    # ansible-core's psrp plugin turns only read timeouts into "unreachable": a lost answer reaches the
    # module, which reconnects once, reads the host back and reports what it holds, naming the backup.
    fleet.reset_host(CLIENT, "client_cache", faults={"drop_before_write": True})
    original = fleet.show(CLIENT)["registry"]
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "before"))
    assert result["failed"] is True and not result.get("changed") and "Connection aborted" in result["msg"], result
    assert len(list((tmp_path / "before").rglob("*.reg"))) == 1 and fleet.show(CLIENT)["registry"] == original

    fleet.reset_host(CLIENT, "client_cache", faults={"drop_after_write": True})
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "after"))
    assert result["changed"] is True and not result.get("failed"), result
    assert result["lost_answer"]["outcome"] == "done"
    assert any(result["backup_file"] in warning for warning in result["warnings"]), result["warnings"]
    assert len(list((tmp_path / "after").rglob("*.reg"))) == 1
    assert not any(key.lower().startswith(MSLICENSING.lower()) for key in fleet.show(CLIENT)["registry"])
    result, _stats, _output = run("mslicensing.yml", CLIENT, backup_dir=str(tmp_path / "after"))
    assert result["changed"] is False and not result.get("failed")


def test_drift_check_role_answers_the_same_with_check_and_never_writes(fleet, tmp_path):
    fleet.reset_host(FRESH, "fresh")
    baseline = {"drift_check_baseline": {"mode": "per_user", "license_servers": ["ls01.example.test"]}}
    runs = {}
    for name, args in (("normal", []), ("check", ["--check"])):
        runs[name] = run_playbook("remote_desktop.licensing.drift_check", fleet.inventory, str(tmp_path / name),
                                  {**baseline, "drift_check_results_dir": str(tmp_path / name)}, args=args)
        assert runs[name].rc == 0, runs[name].output
    # The same drift either way; what differs is only when each host was read (read_at, run_id).
    def drift(run):
        return {host: (result["drifted"], result["drift"]) for host, result in run.results.items()}
    assert drift(runs["normal"]) == drift(runs["check"])
    assert sorted(item["setting"] for item in runs["normal"].results[FRESH]["drift"]) == ["license_servers", "mode"]
    assert set(runs["normal"].results) == {FRESH, PER_USER, GPO, GRACE}  # the Session Hosts
    assert all(counters["writes"] == 0 for counters in fleet.stats().values())


def test_a_wrong_password_is_unreachable_and_says_authentication_failed(fleet, run):
    fleet.reset_stats()
    result, stats, _output = run("licensing_info.yml", FRESH, ansible_password="not-the-password")
    assert result["unreachable"] is True
    assert "failed to authenticate" in result["msg"] and "ansible" in result["msg"], result["msg"]
    assert stats["shells"] == 0 and stats["commands"] == 0


# Each per-host fault over psrp, in one playbook run: (fault, how licensing_info ends, words in its message).
FAULT_OUTCOMES = {
    "refused": ("unreachable", "Failed to connect to the host via PSRP"),
    "http500": ("unreachable", "Code: 500"),
    "soap_fault": ("unreachable", "WS-Management service cannot process the request"),
    "auth": ("unreachable", "failed to authenticate"),
    f"access_denied:{POLICY}": ("failed", "Access denied on HKLM:\\" + POLICY),
    "noisy_output": ("failed", "profile or logon script"),
    "truncated_output": ("failed", "not JSON"),
    "wmi_grace": ("ok", None),
    "latency_ms:300": ("ok", None),
}


def test_every_host_fault_ends_as_over_winrm(tmp_path_factory):
    faulty = SimFleet(tmp_path_factory.mktemp("psrp-faults"))
    hosts = [f"fresh-{index:02d}" for index in range(1, len(FAULT_OUTCOMES) + 1)]
    faulty.up(len(hosts), ["fresh"], [f"{host}={fault}" for host, fault in zip(hosts, FAULT_OUTCOMES)], transport="psrp")
    try:
        outcome = run_playbook(os.path.join(PLAYBOOKS, "licensing_info.yml"), faulty.inventory,
                               str(tmp_path_factory.mktemp("psrp-fault-results")))
        stats = faulty.stats()
    finally:
        faulty.down()
    assert "Traceback" not in outcome.output and "unexpected exception" not in outcome.output.lower()
    for host, (fault, (ending, words)) in zip(hosts, FAULT_OUTCOMES.items()):
        result = outcome.results[host]
        got = "unreachable" if result.get("unreachable") else "failed" if result.get("failed") else "ok"
        assert got == ending, (fault, result)
        assert words is None or words in result["msg"], (fault, result["msg"])
    wmi = outcome.results[hosts[list(FAULT_OUTCOMES).index("wmi_grace")]]
    assert wmi["licensing"]["grace_period"]["state"] == "unknown"
    # A transport fault stops the pool before it opens; the others ran one pipeline.
    assert [stats[host]["commands"] for host in hosts] == [0, 0, 0, 0, 1, 1, 1, 1, 1]


def test_a_script_that_is_not_the_bootstrap_is_refused_with_an_error_record(fleet):
    fleet.reset_stats()
    runspace = pool(fleet, GRACE)
    try:
        output, errors = run_script(runspace, "Get-Process", None)
        assert output == [] and len(errors) == 1 and "rds-sim refused" in errors[0]
        # The bootstrap with a changed agent is refused too (the SHA-256 check).
        deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
        changed = deflate.compress((payload.agent_text() + "\n#").encode()) + deflate.flush()
        line = payload.ascii85(changed) + " " + payload.zlib_deflated(json.dumps(payload.build_request([])))
        output, errors = run_script(runspace, payload.bootstrap_text(), [line])
        assert output == [] and "is not the shipped agent" in errors[0]
    finally:
        runspace.close()
    assert fleet.stats()[GRACE]["commands"] == 2 and fleet.stats()[GRACE]["reads"] == 0


def test_input_as_one_string_as_ansible_core_2_16_to_2_18_send_it(fleet):
    runspace = pool(fleet, GRACE)
    try:
        # 2.16-2.18 pass in_data whole (one pipeline input object, newline included); 2.19+ one object per line.
        for shape in (request_line(COMPUTER), [request_line(COMPUTER)]):
            output, errors = run_script(runspace, payload.bootstrap_text(), shape)
            assert errors == [] and len(output) == 1
            answer = json.loads(output[0])
            assert answer["ok"] is True and answer["results"][0]["instances"][0]["values"]["Name"] == fleet.show(GRACE)["facts"]["computer_name"]
    finally:
        runspace.close()


def test_output_larger_than_one_envelope_arrives_over_several_receives(fleet, caplog):
    # A small MaxEnvelopeSize makes pypsrp send the agent line (about 12 kB) in many fragments and the host
    # split its answer over several Receive responses, each within the client's limit.
    fleet.reset_host(CLIENT, "client_cache")
    caplog.set_level(logging.DEBUG, logger="pypsrp.wsman")
    runspace = pool(fleet, CLIENT, max_envelope_size=8192)
    tree = {"op": "read_tree", "path": "SOFTWARE\\Microsoft", "view": 64}
    try:
        output, errors = run_script(runspace, payload.bootstrap_text(),
                                    [request_line(*({"id": f"t{index}", **tree} for index in range(8)))])
    finally:
        runspace.close()
    assert errors == [] and len(output) == 1
    answer = json.loads(output[0])
    assert answer["ok"] is True and len(answer["results"]) == 8 and len(output[0]) > 3 * 8192
    received = [record.getMessage()[len("Received message: "):] for record in caplog.records
                if record.getMessage().startswith("Received message: ")]
    answers = [text for text in received if "ReceiveResponse" in text]
    assert len(answers) >= 4 and all(len(text.encode()) <= 8192 for text in received)


def test_only_the_default_session_configuration_exists(fleet):
    from pypsrp.exceptions import WSManFaultError

    with pytest.raises(WSManFaultError) as fault:
        pool(fleet, GRACE, configuration_name="Microsoft.PowerShell32")
    assert fault.value.code == 2150859046 and "Cannot find the Microsoft.PowerShell32 session configuration" in str(fault.value)


def test_a_receive_before_the_input_is_complete_waits_for_the_operation_timeout(fleet, caplog):
    from pypsrp.powershell import PowerShell

    caplog.set_level(logging.DEBUG, logger="pypsrp.wsman")
    runspace = pool(fleet, GRACE)
    shell = PowerShell(runspace)
    shell.add_script(payload.bootstrap_text())

    def input_lines():
        # pypsrp has sent CREATE_PIPELINE but no input yet: the host has nothing to answer.
        shell.poll_invoke(timeout=1)
        assert shell.output == []
        yield [request_line(COMPUTER)]

    try:
        shell.begin_invoke(input_lines())
        output = shell.end_invoke()
    finally:
        runspace.close()
    assert json.loads(output[0])["ok"] is True
    faults = [record.getMessage() for record in caplog.records if "OperationTimeout" in record.getMessage()
              and record.getMessage().startswith("Received message: ")]
    assert len(faults) == 1 and 'Code="2150858793"' in faults[0]


def test_a_receive_resent_after_a_read_timeout_gets_the_same_answer(fleet):
    # The host answers after 3 s, the client gives up reading after 2 s and sends the same Receive again
    # (pypsrp does, up to five times): the output must not be lost with the first, unread answer.
    from pypsrp.powershell import PowerShell, PSInvocationState

    fleet.reset_host(GRACE, "grace_expiring", faults={"hang_s": 3})
    runspace = pool(fleet, GRACE, read_timeout=2, operation_timeout=1, reconnection_backoff=0.5)
    try:
        shell = PowerShell(runspace)
        shell.add_script(payload.bootstrap_text())
        shell.begin_invoke([request_line(COMPUTER)])
        for _attempt in range(5):
            if shell.state != PSInvocationState.RUNNING:
                break
            shell.poll_invoke()
        assert shell.state == PSInvocationState.COMPLETED and len(shell.output) == 1
        assert json.loads(shell.output[0])["ok"] is True
    finally:
        fleet.set_faults(GRACE, {})
        runspace.close()
    assert fleet.stats()[GRACE]["reads"] == 1  # the agent ran once
