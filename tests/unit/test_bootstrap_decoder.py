"""The bootstrap's Ascii85 decoder, as rds-sim runs it: a statement-by-statement transliteration of the PowerShell
loop (_agent_payload.bootstrap_ascii85_bytes), checked against Python's own Ascii85 decoder on random data."""

from __future__ import annotations

import base64
import inspect
import random
import re
import zlib

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload


def _transliterated_statements() -> list[str]:
    """The PowerShell statements the Python function names in its comments, in order."""
    source = inspect.getsource(payload.bootstrap_ascii85_bytes)
    return [line.strip()[2:] for line in source.splitlines() if re.match(r"\s*# (\$rl|if |foreach )", line)]


def test_the_transliteration_follows_the_bootstrap_statement_by_statement():
    statements = _transliterated_statements()
    lines = payload.bootstrap_text().splitlines()
    assert len(statements) == 7
    positions = [lines.index(statement) for statement in statements]
    assert positions == sorted(positions) and positions[-1] - positions[0] == len(statements) + 1  # two closing braces
    assert lines[positions[0] - 1].startswith("$rlText = foreach ($rlPart in ")


@pytest.mark.parametrize("seed", range(20))
def test_it_decodes_what_python_decodes_on_random_data(seed):
    rng = random.Random(seed)
    for size in list(range(1, 12)) + [rng.randrange(12, 20_000) for _ in range(5)]:
        data = bytes(rng.randrange(256) for _ in range(size))
        text = payload.ascii85(data)
        assert base64.a85decode(text) == data
        assert payload.bootstrap_ascii85_bytes(text) == data


def test_zero_groups_are_spelt_out_for_the_bootstrap():
    data = b"\0\0\0\0abc\0\0\0\0\0\0"
    text = payload.ascii85(data)
    assert "z" not in text and text == base64.a85encode(data).decode().replace("z", "!!!!!")
    assert payload.bootstrap_ascii85_bytes(text) == data == base64.a85decode(text)
    assert set(payload.ascii85(bytes(range(256)) * 3)) <= set(chr(code) for code in range(33, 118))


def test_every_length_a_partial_group_can_have():
    for size in range(1, 9):
        data = bytes(range(200, 200 + size))
        assert len(payload.ascii85(data)) == size + (size + 3) // 4
        assert payload.bootstrap_ascii85_bytes(payload.ascii85(data)) == data


def test_an_empty_part_fails_as_the_bootstrap_does():
    """No digits: the loop outputs nothing, and MemoryStream refuses the null buffer (New-Object throws)."""
    with pytest.raises(payload.BootstrapFailure) as failed:
        payload.bootstrap_inflate("")
    assert failed.value.exception_type == "System.Management.Automation.MethodInvocationException"


def test_a_part_that_is_not_deflate_fails_in_deflate_stream():
    garbage = payload.ascii85(b"\xff" * 40)
    with pytest.raises(payload.BootstrapFailure) as failed:
        payload.bootstrap_inflate(garbage)
    assert failed.value.exception_type == "System.Management.Automation.MethodInvocationException"
    assert payload.BOOTSTRAP_FAILURE % failed.value.exception_type == (
        '{"ok":false,"error":{"kind":"internal","message":"the agent stopped with '
        'System.Management.Automation.MethodInvocationException"}}')


def test_digits_outside_ascii85_are_not_checked_but_decoded_as_the_loop_does():
    """'~' (126) is digit 93: the loop takes it as is; what follows is DeflateStream's to refuse."""
    assert payload.bootstrap_ascii85_bytes("~~~~~") == bytes(((93 * (85 ** 5 - 1) // 84) >> shift) & 255
                                                          for shift in (24, 16, 8, 0))


def test_the_agent_and_the_request_round_trip_through_the_decoder():
    request = payload.build_request([{"id": "c", "op": "service_status", "names": ["TermService"]}])
    agent, sent = payload.split_stdin_line(payload.stdin_line(request))
    assert agent == payload.wire_agent_text() and sent == request
    raw = payload.bootstrap_ascii85_bytes(payload.deflated_agent())
    assert zlib.decompress(raw, -15).decode() == payload.wire_agent_text()
