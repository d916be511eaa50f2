"""Every WinRM transport users configure, through Ansible's unmodified winrm connection and pywinrm:
NTLM with message encryption over HTTP, HTTPS with a self-signed and with a CA-signed certificate,
and Basic; and what a user sees when credentials, certificate trust or encryption are wrong."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import winrm
from winrm.exceptions import InvalidCredentialsError

from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT, tool

PLAYBOOK = os.path.join(ROOT, "tests", "integration", "playbooks", "licensing_info.yml")
# fresh-01 ntlm (the fleet's transport), fresh-02 https, fresh-03 https-ca, fresh-04 basic.
HOSTS = {"fresh-01": "ntlm", "fresh-02": "https", "fresh-03": "https-ca", "fresh-04": "basic"}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("transports")).up(
        4, ["fresh"], transport="ntlm", host_transports=["fresh-02=https", "fresh-03=https-ca", "fresh-04=basic"])
    yield fleet
    fleet.down()


def host_vars(fleet, host):
    """The connection variables Ansible resolves for a host from the inventory rds-sim wrote."""
    output = subprocess.run([tool("ansible-inventory"), "-i", fleet.inventory, "--host", host],
                            check=True, capture_output=True, text=True, timeout=120).stdout
    return json.loads(output)


def test_inventory_gives_each_host_its_transport(fleet):
    meta = fleet.meta()
    ntlm, https, https_ca, basic = (host_vars(fleet, host) for host in HOSTS)
    assert (ntlm["ansible_winrm_transport"], ntlm["ansible_winrm_scheme"], ntlm["ansible_winrm_message_encryption"],
            ntlm["ansible_port"]) == ("ntlm", "http", "auto", meta["listeners"]["http"])
    assert (https["ansible_winrm_scheme"], https["ansible_winrm_server_cert_validation"], https["ansible_port"]) == (
        "https", "ignore", meta["listeners"]["https"])
    assert (https_ca["ansible_winrm_server_cert_validation"], https_ca["ansible_winrm_ca_trust_path"]) == (
        "validate", meta["tls"]["https-ca"]["ca"])
    assert os.path.isfile(https_ca["ansible_winrm_ca_trust_path"])
    assert basic["ansible_winrm_transport"] == "basic" and basic["ansible_port"] == meta["listeners"]["http"]


def test_licensing_info_over_every_transport(fleet, tmp_path):
    fleet.reset_stats()
    run = run_playbook(PLAYBOOK, fleet.inventory, str(tmp_path))
    assert run.rc == 0, run.output
    for host in HOSTS:
        result = run.results[host]
        assert not result.get("failed") and not result.get("unreachable"), result
        assert result["licensing"]["mode"]["effective"] == 5
    stats = fleet.stats()
    assert all(stats[host]["commands"] == 1 for host in HOSTS)
    # NTLM over HTTP sealed every message; TLS carries the others (auto does not seal over HTTPS).
    assert stats["fresh-01"]["sealed_requests"] >= 5
    assert all(stats[host]["sealed_requests"] == 0 for host in ("fresh-02", "fresh-03", "fresh-04"))


def test_pywinrm_message_encryption_always_over_https_is_accepted(fleet):
    answer = fleet.agent_client("fresh-03", message_encryption="always").run({"version": 2, "ops": []})
    assert answer["ok"] is True
    assert fleet.stats()["fresh-03"]["sealed_requests"] > 0


def test_unencrypted_ntlm_over_http_is_refused_like_allow_unencrypted_false(fleet):
    with pytest.raises(InvalidCredentialsError):
        fleet.agent_client("fresh-01", message_encryption="never").run({"version": 2, "ops": []})


def test_basic_against_an_ntlm_host_is_refused(fleet):
    with pytest.raises(InvalidCredentialsError):
        fleet.agent_client("fresh-01", transport="basic").run({"version": 2, "ops": []})


def test_a_host_is_not_served_on_another_listener(fleet):
    meta = fleet.meta()
    protocol = winrm.Protocol(f"http://127.0.0.1:{meta['listeners']['http']}/wsman/fresh-02", transport="basic",
                              username=meta["username"], password=meta["password"])
    with pytest.raises(winrm.exceptions.WinRMTransportError, match="404"):
        protocol.open_shell()


def failure(fleet, tmp_path, host, **variables):
    """licensing_info on one host with connection variables overridden; the message the user sees."""
    run = run_playbook(PLAYBOOK, fleet.inventory, str(tmp_path), variables, args=["--limit", host])
    result = run.results[host]
    assert result.get("unreachable") is True, result
    assert "Traceback" not in run.output
    return result["msg"]


def test_wrong_password_over_ntlm(fleet, tmp_path):
    message = failure(fleet, tmp_path, "fresh-01", ansible_password="not-the-password")
    assert message.endswith("ntlm: the specified credentials were rejected by the server")


def test_message_encryption_never_against_ntlm_over_http(fleet, tmp_path):
    # Windows answers 401 to an unsealed message when AllowUnencrypted is false: the user sees the same
    # words as for a wrong password (docs/troubleshooting.md explains the difference).
    message = failure(fleet, tmp_path, "fresh-01", ansible_winrm_message_encryption="never")
    assert message.endswith("ntlm: the specified credentials were rejected by the server")


def test_self_signed_certificate_with_validation_on(fleet, tmp_path):
    message = failure(fleet, tmp_path, "fresh-02", ansible_winrm_server_cert_validation="validate")
    assert "CERTIFICATE_VERIFY_FAILED" in message and "self-signed certificate" in message


def test_ca_signed_certificate_with_the_wrong_ca(fleet, tmp_path):
    wrong_ca = fleet.meta()["tls"]["https"]["cert"]  # some other certificate as trust anchor
    message = failure(fleet, tmp_path, "fresh-03", ansible_winrm_ca_trust_path=wrong_ca)
    assert "CERTIFICATE_VERIFY_FAILED" in message and "unable to get local issuer certificate" in message


def test_https_client_against_the_plain_http_listener(fleet, tmp_path):
    message = failure(fleet, tmp_path, "fresh-01", ansible_winrm_scheme="https")
    assert "SSL" in message and "wrong version number" in message.lower()


def test_the_auth_fault_refuses_ntlm_with_the_right_password(fleet, tmp_path):
    fleet.set_faults("fresh-01", {"auth": True})
    try:
        message = failure(fleet, tmp_path, "fresh-01")
    finally:
        fleet.set_faults("fresh-01", {})
    assert message.endswith("ntlm: the specified credentials were rejected by the server")
