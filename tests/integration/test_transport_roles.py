"""The fleet playbooks and their roles end to end over NTLM with message encryption and over HTTPS
(self-signed and CA-signed certificates), through ansible-core's unmodified winrm connection:
check mode writes nothing, a real run changes each host once, a second run changes nothing."""

from __future__ import annotations

import os
import re

import pytest

from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT

CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
MSLICENSING = "SOFTWARE\\Microsoft\\MSLicensing"
SESSION_HOSTS = {"fresh-01": "ntlm", "fresh-03": "https", "fresh-05": "https-ca"}
CLIENTS = {"client-cache-02": "ntlm", "client-cache-04": "https", "client-cache-06": "https-ca"}
SERVERS = ["ls01.example.test"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    overrides = [f"{host}={name}" for host, name in {**SESSION_HOSTS, **CLIENTS}.items() if name != "ntlm"]
    fleet = SimFleet(tmp_path_factory.mktemp("transport-roles")).up(6, ["fresh", "client_cache"], transport="ntlm",
                                                                    host_transports=overrides)
    yield fleet
    fleet.down()


def changed_per_host(output: str, hosts: list[str]) -> dict[str, int]:
    """changed=N of each of `hosts` from the PLAY RECAP; any other host in the recap (the playbooks'
    target check runs a play of its own) must not have changed."""
    recap = {host: int(count) for host, count in re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)", output, re.MULTILINE)}
    assert all(count == 0 for host, count in recap.items() if host not in hosts), recap
    return {host: count for host, count in recap.items() if host in hosts}


def has_cache(fleet, host) -> bool:
    return any(key.lower().startswith(MSLICENSING.lower()) for key in fleet.show(host)["registry"])


def play(fleet, name, tmp_path, *args, **extra):
    return run_playbook(f"remote_desktop.licensing.{name}", fleet.inventory, str(tmp_path / "results"), extra, args=args)


def test_every_host_is_reached_over_its_transport(fleet):
    assert {host: fleet.transport_of(host) for host in {**SESSION_HOSTS, **CLIENTS}} == {**SESSION_HOSTS, **CLIENTS}


def test_configure_licensing_check_then_apply_then_nothing_to_do(fleet, tmp_path):
    fleet.reset_stats()
    checked = play(fleet, "configure_licensing", tmp_path, "--check", "--diff", configure_licensing_license_servers=SERVERS)
    assert checked.rc == 0, checked.output
    assert changed_per_host(checked.output, SESSION_HOSTS) == {host: 1 for host in SESSION_HOSTS}
    assert all(counters["writes"] == 0 for counters in fleet.stats().values())
    assert all(fleet.value(host, CORE, "LicensingMode") == {"type": "dword", "data": 5} for host in SESSION_HOSTS)

    applied = play(fleet, "configure_licensing", tmp_path, configure_licensing_license_servers=SERVERS)
    assert applied.rc == 0, applied.output
    assert changed_per_host(applied.output, SESSION_HOSTS) == {host: 1 for host in SESSION_HOSTS}
    for host in SESSION_HOSTS:
        assert fleet.value(host, CORE, "LicensingMode") == {"type": "dword", "data": 4}

    fleet.reset_stats()
    again = play(fleet, "configure_licensing", tmp_path, configure_licensing_license_servers=SERVERS)
    assert again.rc == 0, again.output
    assert changed_per_host(again.output, SESSION_HOSTS) == {host: 0 for host in SESSION_HOSTS}
    stats = fleet.stats()
    assert all(stats[host]["writes"] == 0 and stats[host]["commands"] == 1 for host in SESSION_HOSTS)
    assert stats["fresh-01"]["sealed_requests"] > 0  # the NTLM host's messages were encrypted

    report = run_playbook(os.path.join(ROOT, "tests", "integration", "playbooks", "licensing_info.yml"), fleet.inventory,
                          str(tmp_path / "info"), {}, args=["--limit", ",".join(SESSION_HOSTS)])
    assert report.rc == 0, report.output
    for host in SESSION_HOSTS:
        assert report.results[host]["licensing"]["mode"]["effective"] == 4
        assert report.results[host]["licensing"]["license_servers"]["effective"] == SERVERS


def test_mslicensing_reset_check_then_apply_then_nothing_to_do(fleet, tmp_path):
    backups = tmp_path / "backups"
    fleet.reset_stats()
    checked = play(fleet, "mslicensing_reset", tmp_path, "--check", mslicensing_reset_backup_dir=str(backups))
    assert checked.rc == 0, checked.output
    assert changed_per_host(checked.output, CLIENTS) == {host: 1 for host in CLIENTS}
    assert all(counters["writes"] == 0 for counters in fleet.stats().values())
    assert all(has_cache(fleet, host) for host in CLIENTS)

    applied = play(fleet, "mslicensing_reset", tmp_path, mslicensing_reset_backup_dir=str(backups))
    assert applied.rc == 0, applied.output
    assert changed_per_host(applied.output, CLIENTS) == {host: 1 for host in CLIENTS}
    assert sorted(os.listdir(backups)) == sorted(CLIENTS)
    assert not any(has_cache(fleet, host) for host in CLIENTS)

    again = play(fleet, "mslicensing_reset", tmp_path, mslicensing_reset_backup_dir=str(backups))
    assert again.rc == 0, again.output
    assert changed_per_host(again.output, CLIENTS) == {host: 0 for host in CLIENTS}
