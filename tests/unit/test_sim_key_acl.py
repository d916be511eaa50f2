"""rds-sim's model of key DACLs: each key keeps its own ACEs, the rest is derived from its parents as
Windows' inheritance does, and the agent operations that touch DACLs keep that model consistent."""

from __future__ import annotations

import time

from rds_sim import acl, scenarios, writes
from rds_sim.agent import serve_request
from rds_sim.host import Host

MS = "SOFTWARE\\Microsoft\\MSLicensing"
DEFAULT = "".join(acl.DEFAULT_INHERITED)


def test_container_inheritable_aces_reach_subkeys_marked_inherited():
    stored = {MS: "D:(A;CI;KA;;;BU)(A;;KR;;;WD)(A;CINP;KR;;;IU)"}
    assert acl.effective(stored, MS) == "D:AI(A;CI;KA;;;BU)(A;;KR;;;WD)(A;CINP;KR;;;IU)" + DEFAULT
    # Not CI: stays on the key; NP: one level down, no further.
    assert acl.effective(stored, MS + "\\Store") == "D:AI(A;CIID;KA;;;BU)(A;ID;KR;;;IU)" + DEFAULT
    assert acl.effective(stored, MS + "\\Store\\LICENSE000") == "D:AI(A;CIID;KA;;;BU)" + DEFAULT


def test_a_protected_dacl_stops_inheritance():
    stored = {MS: "D:(A;CI;KA;;;BU)", MS + "\\Store": "D:P(A;CI;KA;;;SY)"}
    assert acl.effective(stored, MS + "\\Store\\X") == "D:AI(A;CIID;KA;;;SY)"


def test_storing_keeps_only_the_keys_own_aces():
    stored: dict[str, str] = {}
    acl.store(stored, MS, acl.parse("D:AI(A;CI;KA;;;BU)" + DEFAULT))
    assert stored == {MS: "D:(A;CI;KA;;;BU)"}
    acl.store(stored, MS.lower(), acl.parse("D:AI" + DEFAULT))
    assert stored == {}


def host(scenario: str) -> Host:
    return Host(scenarios.build("h", scenario, time.time()))


def test_a_rolled_back_create_key_takes_its_grant_with_it():
    simulated = host("fresh")
    answer = serve_request(simulated, {"version": 2, "rollback_on_error": True, "ops": [
        {"id": "c", "op": "create_key", "path": MS, "view": 64, "grant_users": True},
        {"id": "bad", "op": "set_value", "path": "SOFTWARE\\X", "view": 64, "name": "Y", "type": "dword", "data": "x"}]})
    assert answer["rollback"]["performed"] is True
    assert not simulated.registry.key_exists(MS) and not simulated.facts.get("key_acl")


def test_set_key_dacl_honours_write_denied_and_refuses_other_keys():
    simulated = host("client_cache")
    simulated.faults["write_denied"] = [MS]
    denied = serve_request(simulated, {"version": 2, "ops": [
        {"id": "s", "op": "set_key_dacl", "path": MS, "view": 64, "sddl": "D:(A;CI;KA;;;BU)"}]})
    assert denied["results"][0]["error"]["kind"] == "access_denied" and not simulated.facts.get("key_acl")
    outside = writes.set_key_dacl(simulated, {"path": "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run", "view": 64,
                                              "sddl": "D:(A;CI;KA;;;WD)"}, writes.Journal())
    assert outside["error"]["kind"] == "invalid_argument" and outside["error"]["reason"] == "outside_dacl"


def test_a_filtered_token_reads_by_the_users_ace_and_writes_only_where_a_dacl_lets_users_write():
    from rds_sim import filtered_token

    assert filtered_token.allows("D:AI" + DEFAULT, write=False)
    assert not filtered_token.allows("D:AI" + DEFAULT, write=True)
    # The GracePeriod key: Administrators may read, the filtered token holds Administrators deny-only.
    assert not filtered_token.allows("O:NSG:SYD:PAI(A;CI;KA;;;NS)(A;CI;KA;;;SY)(A;CI;KR;;;BA)", write=False)
    # MSLicensing re-created for users (create_key grant_users): Users full control, so a filtered token may write.
    assert filtered_token.allows(acl.effective({MS: "D:(A;CI;KA;;;BU)"}, MS + "\\Store"), write=True)
    # Inherit-only ACEs do not apply to the key itself; a deny ACE wins.
    assert not filtered_token.allows("D:(A;CIIO;KA;;;BU)", write=True)
    assert not filtered_token.allows("D:(D;;KW;;;BU)(A;;KA;;;BU)", write=True)
