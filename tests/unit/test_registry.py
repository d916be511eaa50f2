"""Registry value normalisation and comparison, per type."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _registry as reg


@pytest.mark.parametrize("spelling", [
    "HKLM:\\SOFTWARE\\Example", "HKLM\\SOFTWARE\\Example", "HKEY_LOCAL_MACHINE\\SOFTWARE\\Example",
    "Registry::HKEY_LOCAL_MACHINE\\SOFTWARE\\Example\\", "HKLM:\\\\SOFTWARE\\\\Example",
])
def test_hklm_spellings_normalise_to_one_path(spelling):
    assert reg.normalize_key_path(spelling) == "SOFTWARE\\Example"


def test_a_slash_is_part_of_a_key_name_not_a_separator():
    ciphers = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Ciphers\\RC4 128/128"
    assert reg.normalize_key_path(ciphers).endswith("\\Ciphers\\RC4 128/128")
    with pytest.raises(reg.RegistryInputError, match="separates keys with '/'.*write the separators as backslashes"):
        reg.normalize_key_path("hklm:/SOFTWARE/Example")


@pytest.mark.parametrize("bad,words", [
    ("HKCU:\\Software\\Example", "not under HKEY_LOCAL_MACHINE"),
    ("SOFTWARE\\Example", "not under HKEY_LOCAL_MACHINE"),
    ("HKLM:\\", "HKLM root itself"),
    ("HKLM:\\SOFTWARE\\..\\SYSTEM", "relative component"),
    ("", "non-empty string"),
    (42, "non-empty string"),
])
def test_bad_paths_are_rejected_with_the_reason(bad, words):
    with pytest.raises(reg.RegistryInputError, match=words):
        reg.normalize_key_path(bad)


@pytest.mark.parametrize("value_type,given_value,expected", [
    ("dword", 4, 4), ("dword", "4", 4), ("dword", "0x10", 16), ("dword", "0XfFfFfFfF", 0xFFFFFFFF),
    ("qword", 0xFFFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF), ("qword", "0x1", 1),
    ("string", "Per User", "Per User"), ("string", 7, "7"),
    ("expandstring", "%SystemRoot%\\System32", "%SystemRoot%\\System32"),
    ("multistring", ["a", "b"], ["a", "b"]), ("multistring", [], []),
    ("binary", [0, 255, 16], b"\x00\xff\x10"), ("binary", "hex:00,ff,10", b"\x00\xff\x10"),
    ("binary", "hex:", b""), ("none", None, b""), ("none", [1], b"\x01"),
])
def test_accepted_forms_normalise(value_type, given_value, expected):
    assert reg.normalize_data(value_type, given_value) == expected


@pytest.mark.parametrize("value_type,given_value,words", [
    ("dword", 4294967296, "out of range 0..4294967295"),
    ("dword", -1, "out of range"),
    ("dword", True, "not a boolean"),
    ("dword", "four", "not a whole number"),
    ("qword", 2 ** 64, "out of range"),
    ("multistring", ["a", ""], "empty string"),
    ("multistring", "a,b", "list of strings"),
    ("binary", "hex:0g,01", "hex:aa,bb,cc form"),
    ("binary", [256], "integers from 0 to 255"),
    ("string", None, "must be text"),
    ("string", "a\x00b", "NUL"),
    ("word", 1, "unknown registry type"),
])
def test_rejected_forms_say_why(value_type, given_value, words):
    with pytest.raises(reg.RegistryInputError, match=words):
        reg.normalize_data(value_type, given_value)


def test_comparison_is_by_type_and_data():
    assert reg.same_value(("dword", 4), ("dword", 4))
    assert not reg.same_value(("dword", 4), ("qword", 4))
    assert not reg.same_value(("string", "4"), ("dword", 4))
    assert not reg.same_value(("string", "%X%"), ("expandstring", "%X%"))
    assert not reg.same_value(("string", "Server"), ("string", "server"))
    assert not reg.same_value(("multistring", ["a", "b"]), ("multistring", ["b", "a"]))
    assert not reg.same_value(None, ("dword", 0))


_NO_NUL_TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00"))


@settings(deadline=None)
@given(st.sampled_from(reg.VALUE_TYPES), st.data())
def test_wire_round_trip(value_type, data):
    strategies = {
        "dword": st.integers(0, 0xFFFFFFFF), "qword": st.integers(0, 0xFFFFFFFFFFFFFFFF),
        "string": _NO_NUL_TEXT, "expandstring": _NO_NUL_TEXT,
        "multistring": st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00"), min_size=1)),
        "binary": st.binary(), "none": st.binary(),
    }
    value = data.draw(strategies[value_type])
    wire = {"name": "x", "type": value_type, "data": reg.to_wire(value_type, value)}
    assert reg.from_wire(wire) == (value_type, value)


def test_render_shows_type_and_data():
    assert reg.render(("dword", 4)) == "REG_DWORD 4 (0x4)"
    assert reg.render(("binary", b"\x01\xab")) == "REG_BINARY hex:01,ab"
    assert reg.render(("multistring", ["a"])) == "REG_MULTI_SZ ['a']"
    assert reg.render(None) == "(absent)"


def test_value_names_beyond_windows_limits_are_refused():
    assert reg.check_value_name("x" * reg.MAX_VALUE_NAME) == "x" * 16383
    with pytest.raises(reg.RegistryInputError, match="16384 characters is longer than Windows allows \\(16383\\)"):
        reg.check_value_name("x" * 16384)
    with pytest.raises(reg.RegistryInputError, match="NUL character"):
        reg.check_value_name("a\x00b")
    with pytest.raises(reg.RegistryInputError, match="255 characters"):
        reg.normalize_key_path("HKLM:\\SOFTWARE\\" + "k" * 256)
