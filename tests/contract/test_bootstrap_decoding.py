"""The bootstrap's own Ascii85 decoder, on rds-sim over both connections and, in the lab kit, on a real host (the
same RDS_CONTRACT_* settings as test_contract_vectors.py): .NET has no Ascii85 decoder, so this loop is the
collection's code, and a real Windows PowerShell 5.1 must agree with the transliteration rds-sim runs."""

from __future__ import annotations

import base64
import json
import os
import typing as t

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from tests.contract.agent_client import AgentClient
from tests.contract.psrp_agent_client import PsrpAgentClient
from tests.contract.test_contract_vectors import REAL, sim, sim_fleet  # noqa: F401 (fixtures)

READ = {"id": "product", "op": "read_key", "path": "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion", "view": 64}
NOT_DEFLATE = {"ok": False, "error": {"kind": "internal",
                                      "message": "the agent stopped with System.Management.Automation.MethodInvocationException"}}


def requests_of_every_group_length() -> list[dict[str, t.Any]]:
    """Requests whose deflated bytes end in a partial Ascii85 group of each length (4 bytes: no partial group)."""
    found: dict[int, dict[str, t.Any]] = {}
    for size in range(64):
        request = payload.build_request([{**READ, "id": "p" + "x" * size}])
        body = payload.stdin_line(request).decode("ascii").split(" ")[1]
        found.setdefault(len(base64.a85decode(body)) % 4, request)
        if len(found) == 4:
            return [found[remainder] for remainder in sorted(found)]
    raise AssertionError(f"only remainders {sorted(found)}")


def not_deflate_line() -> bytes:
    """The shipped agent, then a request part that is valid Ascii85 of bytes DeflateStream refuses."""
    agent = payload.stdin_line(payload.build_request([])).decode("ascii").split(" ")[0]
    return f"{agent} {payload.ascii85(bytes([255]) * 37)}\n".encode("ascii")


def check(client: t.Any) -> None:
    for request in requests_of_every_group_length():
        answer = client.run(request)
        assert answer["ok"] is True and answer["results"][0]["id"] == request["ops"][0]["id"], json.dumps(answer)
        assert answer["results"][0]["exists"] is True
    assert client.run_line(not_deflate_line()) == NOT_DEFLATE


def test_every_partial_group_and_a_broken_stream_on_the_simulator(sim):  # noqa: F811
    _fleet, client, _host = sim
    check(client)


@pytest.mark.skipif(not REAL, reason="no real Windows host configured (RDS_CONTRACT_ENDPOINT)")
def test_every_partial_group_and_a_broken_stream_on_a_real_host():
    client_class = PsrpAgentClient if os.environ.get("RDS_CONTRACT_CONNECTION") == "psrp" else AgentClient
    check(client_class(REAL, os.environ["RDS_CONTRACT_USER"], os.environ["RDS_CONTRACT_PASSWORD"],
                       os.environ.get("RDS_CONTRACT_TRANSPORT", "ntlm")))
