"""The .reg writer and parser: regedit's layout byte for byte, every type, and write -> parse
round trips for arbitrary names and data."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile as regfile
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegFileError, RegKey

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
HKLM = "HKEY_LOCAL_MACHINE"


def fixture(name: str) -> bytes:
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def test_regedit_export_parses_every_type():
    keys = regfile.parse(regfile.decode(fixture("regedit_export_v5.reg")))
    by_path = {key.path: key.values for key in keys}
    core = by_path[f"{HKLM}\\SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"]
    assert core[""] == ("string", 'Licensing "core" C:\\')
    assert core["LicensingMode"] == ("dword", 4)
    assert core["PolicyAcOn"] == ("qword", 4096)
    assert core["Path"] == ("expandstring", "%SystemRoot%\\System32")
    assert core["Empty"] == ("none", b"")
    servers = by_path[f"{HKLM}\\SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"]
    assert servers["SpecifiedLicenseServers"] == ("multistring", ["ls01.example.test", "10.0.0.5"])
    assert servers["ResourceList"] == ("type8", b"\x01\x02\x03")
    hwid = by_path[f"{HKLM}\\SOFTWARE\\Microsoft\\MSLicensing\\HardwareID"]["ClientHWID"]
    assert hwid[0] == "binary" and len(hwid[1]) == 24 and hwid[1][-4:] == bytes.fromhex("18d0eac4")
    assert by_path[f"{HKLM}\\SOFTWARE\\Microsoft\\MSLicensing"] == {}


def test_writer_reproduces_a_regedit_export_byte_for_byte():
    original = fixture("regedit_export_v5.reg")
    assert regfile.encode(regfile.render(regfile.parse(regfile.decode(original)))) == original


def test_hex_lines_fold_at_regedit_width():
    # regedit's own export of a 94-character REG_EXPAND_SZ default value: 23 bytes on the first
    # line after '@=hex(2):', then 25 a line.
    lines = regfile.value_line("", ("expandstring", "%SystemRoot%\\System32\\rundll32.exe \"%ProgramFiles%\\x\"")).split("\r\n")
    assert lines[0].startswith("@=hex(2):25,00,53,00") and lines[0].count(",") == 23 and lines[0].endswith(",\\")
    assert all(line.startswith("  ") and len(line) == 78 for line in lines[1:-1])
    assert len(lines[1].strip().rstrip("\\").split(",")) - 1 == 25


def test_regedit4_ansi_file_with_deletions_and_comments():
    keys = regfile.parse(regfile.decode(fixture("regedit4_ansi.reg")))
    assert keys[0] == RegKey(f"{HKLM}\\SOFTWARE\\Microsoft\\MSLicensing", delete=True)
    policy = keys[1].values
    assert policy["LicensingMode"] == ("dword", 2)
    assert policy["LicenseServers"] == ("string", "ls01,ls02")
    assert policy["Obsolete"] is None
    # REGEDIT4 hex(2)/hex(7) data is single-byte text.
    assert policy["Expand"] == ("expandstring", "%TEMP%")
    assert policy["Multi"] == ("multistring", ["a", "bc"])


def test_utf8_file_is_read():
    text = f'Windows Registry Editor Version 5.00\r\n\r\n[{HKLM}\\SOFTWARE\\Zürich]\r\n"Café"="naïve ☃"\r\n'
    keys = regfile.parse(regfile.decode(b"\xef\xbb\xbf" + text.encode("utf-8")))
    assert keys == [RegKey(f"{HKLM}\\SOFTWARE\\Zürich", values={"Café": ("string", "naïve ☃")})]


def test_strings_with_line_breaks_are_written_as_hex1():
    line = regfile.value_line("Note", ("string", "two\r\nlines"))
    assert line.startswith('"Note"=hex(1):74,00')
    assert regfile.parse_value(line.split("=", 1)[1].replace("\\\r\n  ", ""), True, "t") == ("string", "two\r\nlines")


def test_deletion_entries_are_written():
    text = regfile.render([RegKey(f"{HKLM}\\SOFTWARE\\A", delete=True), RegKey(f"{HKLM}\\SOFTWARE\\B", values={"x": None})])
    assert f"[-{HKLM}\\SOFTWARE\\A]\r\n" in text and '"x"=-\r\n' in text


@pytest.mark.parametrize("text,message", [
    ("hello", "not a .reg file"),
    ("REGEDIT4\r\n\"a\"=\"b\"", "before any [key]"),
    ("REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\X]\r\n\"a\"=dword:123456789", "up to 8 hex digits"),
    ("REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\X]\r\n\"a\"=hex:zz", "comma-separated bytes"),
    ("REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\X]\r\n\"a=\"b\"", "'='"),
    ("REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\X]\r\n\"a\"=\"b", "unterminated"),
    ("REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\X]\r\n\"a\"=hex(b):01", "8 bytes"),
    ("REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\X]\r\nvalue", "expected a [key] line"),
    ("REGEDIT4\r\n[HKEY_LOCAL_MACHINE\\X]\r\n\"a\"=word:1", "unknown value format"),
])
def test_malformed_files_name_the_line_and_the_problem(text, message):
    with pytest.raises(RegFileError, match="line|not a .reg") as caught:
        regfile.parse(text)
    assert message in str(caught.value)


def test_names_with_line_breaks_cannot_be_written():
    with pytest.raises(RegFileError, match="line break"):
        regfile.value_line("a\nb", ("dword", 1))


def test_only_hklm_paths_are_accepted():
    assert regfile.split_path(f"{HKLM}\\SOFTWARE\\X") == "SOFTWARE\\X"
    with pytest.raises(RegFileError, match="only HKLM"):
        regfile.split_path("HKEY_CURRENT_USER\\Software\\X")


# Property: whatever we write, we read back identically. ---------------------------------------
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
_name = _text.filter(lambda name: "\r" not in name and "\n" not in name)
_key_part = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\\\r\n"), min_size=1, max_size=20)
_values = st.one_of(
    st.tuples(st.just("string"), _text),
    st.tuples(st.just("expandstring"), _text),
    st.tuples(st.just("multistring"), st.lists(_text.filter(bool), max_size=4)),
    st.tuples(st.just("dword"), st.integers(0, 0xFFFFFFFF)),
    st.tuples(st.just("qword"), st.integers(0, 0xFFFFFFFFFFFFFFFF)),
    st.tuples(st.just("binary"), st.binary(max_size=300)),
    st.tuples(st.just("none"), st.binary(max_size=20)),
    st.tuples(st.just("type8"), st.binary(max_size=20)),
)
_keys = st.lists(
    st.builds(
        lambda parts, delete, values: RegKey(HKLM + "\\" + "\\".join(parts), delete, {} if delete else values),
        st.lists(_key_part, min_size=1, max_size=3), st.booleans(),
        st.dictionaries(_name, st.one_of(st.none(), _values), max_size=5),
    ),
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(_keys)
def test_write_then_parse_returns_the_same_keys(keys):
    assert regfile.parse(regfile.decode(regfile.encode(regfile.render(keys)))) == keys


def test_source_host_is_read_only_from_comments_before_the_first_key():
    from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile as reg

    text = "Windows Registry Editor Version 5.00\r\n\r\n; Source host: a\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n"
    assert reg.source_host(text) == "a"
    assert reg.source_host(text.replace("; Source host: a\r\n", "")) is None
    late = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n; Source host: b\r\n"
    assert reg.source_host(late) is None
    assert reg.source_host(text.replace("Source host: a", "Source host:   ")) is None


@pytest.mark.parametrize("raw", [
    b"\xff\xfe" + "Windows Registry Editor Version 5.00\r\n".encode("utf-16-le") + b"\x41",  # odd length
    b"\xff\xfe" + "Windows Registry Editor Version 5.00\r\n".encode("utf-16-le") + b"\x00\xd8\x41\x00",  # lone surrogate
    b"\xef\xbb\xbfREGEDIT4\r\n\xff",
])
def test_malformed_encodings_are_a_clear_reg_file_error(raw):
    with pytest.raises(regfile.RegFileError, match="not valid UTF-(16|8) from byte [0-9]+ .*export or copy it again"):
        regfile.decode(raw)


def test_odd_length_utf16_text_data_is_refused():
    text = 'Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\r\n"m"=hex(7):61,00,62\r\n'
    with pytest.raises(RegFileError, match="line 4: multistring data of 3 bytes is not UTF-16 text"):
        regfile.parse(text)
