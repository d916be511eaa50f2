"""One simulator process holds a fleet of 1,000 hosts and answers many of them at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.helpers.fleet import SimFleet

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload


def test_thousand_host_fleet(tmp_path):
    fleet = SimFleet(tmp_path / "big").up(1000, ["fresh", "per_user", "gpo_conflict", "client_cache"])
    try:
        hosts = fleet.hosts()
        assert len(hosts) == 1000
        sample = hosts[::20]  # 50 hosts spread over the fleet, 25 at a time
        request = payload.build_request([{"id": "wmi", "op": "wmi_terminal_service"}])

        def licensing_type(host: str) -> int:
            return fleet.agent_client(host).run(request)["results"][0]["licensing_type"]

        with ThreadPoolExecutor(max_workers=25) as pool:
            answers = dict(zip(sample, pool.map(licensing_type, sample)))
        expected = {"fresh": 5, "per-user": 4, "gpo-conflict": 2, "client-cache": 5}
        for host, mode in answers.items():
            assert mode == expected[host.rsplit("-", 1)[0]], host
        stats = fleet.stats()
        assert sum(item["commands"] for item in stats.values()) == len(sample)
    finally:
        fleet.down()
