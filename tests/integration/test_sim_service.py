"""rds-sim as a service: its control API needs the fleet's token, `down` signals only its own server, faults are
validated as the CLI validates them, and write_denied on a subkey stops deleting its parent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from tests.helpers.fleet import SimFleet
from tests.helpers.paths import tool

MSLICENSING = "SOFTWARE\\Microsoft\\MSLicensing"


def _raw(fleet: SimFleet, method: str, path: str, body: bytes | None = None, token: str | None = None) -> tuple[int, bytes]:
    headers = {"X-RDS-Sim-Token": token} if token is not None else {}
    request = urllib.request.Request(f"http://127.0.0.1:{fleet.meta()['port']}/_sim/{path}", data=body, method=method,
                                     headers=headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("service")).up(2, ["client_cache"])
    yield fleet
    fleet.down()


def test_the_control_api_needs_the_fleet_token(fleet):
    assert _raw(fleet, "GET", "stats")[0] == 401
    assert _raw(fleet, "GET", "stats", token="not-the-token")[0] == 401
    assert _raw(fleet, "POST", "hosts/client-cache-01/faults", b'{"auth": true}')[0] == 401
    assert fleet.show("client-cache-01")["faults"] == {}
    assert _raw(fleet, "GET", "stats", token=fleet.meta()["control_token"])[0] == 200
    assert oct(os.stat(os.path.join(fleet.dir, "fleet.json")).st_mode & 0o777) == "0o600"


def test_a_fault_that_is_not_an_object_of_known_kinds_is_refused_and_the_host_keeps_working(fleet):
    token = fleet.meta()["control_token"]
    for body in (b'["auth"]', b'{"no_such_fault": true}', b'{"write_denied": "SOFTWARE"}', b'{"hang_s": "x"}'):
        status, answer = _raw(fleet, "POST", "hosts/client-cache-01/faults", body, token=token)
        assert status == 400, (body, answer)
    assert fleet.show("client-cache-01")["faults"] == {}
    cleared = subprocess.run([tool("rds-sim"), "fault", "--dir", fleet.dir, "client-cache-01", "--clear"],
                             capture_output=True, text=True, timeout=60)
    assert cleared.returncode == 0, cleared.stderr


def test_write_denied_on_a_subkey_stops_deleting_its_parent(fleet):
    subkey = MSLICENSING + "\\Store"
    fleet.set_faults("client-cache-02", {"write_denied": [subkey]})
    before = fleet.show("client-cache-02")["registry"]
    answer = fleet.agent_client("client-cache-02").run(payload.build_request(
        [{"id": "tree", "op": "delete_tree", "path": MSLICENSING, "view": 64}], rollback_on_error=True))
    assert answer["results"][0]["ok"] is False and answer["results"][0]["error"]["kind"] == "access_denied", answer
    assert fleet.show("client-cache-02")["registry"] == before
    fleet.set_faults("client-cache-02", {})


def test_down_on_a_stale_directory_signals_nothing(tmp_path):
    first = SimFleet(tmp_path / "first").up(1, ["fresh"])
    stale = tmp_path / "stale"
    shutil.copytree(first.dir, stale)
    second = SimFleet(tmp_path / "second").up(1, ["fresh"])
    try:
        # The stale directory now names the second fleet's port and PID, as after a restart.
        meta = json.loads((stale / "fleet.json").read_text())
        live = second.meta()
        meta.update(port=live["port"], pid=live["pid"])
        (stale / "fleet.json").write_text(json.dumps(meta))
        down = subprocess.run([tool("rds-sim"), "down", "--dir", str(stale)], capture_output=True, text=True, timeout=60)
        assert down.returncode == 1 and "nothing was signalled" in down.stderr, down
        assert second.stats() == {"fresh-01": second.stats()["fresh-01"]}  # still answering
        os.kill(live["pid"], 0)
    finally:
        first.down()
        second.down()
