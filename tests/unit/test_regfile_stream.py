"""Reading .reg files in chunks (registry_restore): the same keys as parsing the whole decoded text,
whatever the chunk size and encoding, no read of the whole file at once, and the DACL comment lines."""

from __future__ import annotations

import io
import os
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile as regfile
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegFileError, RegKey

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
HKLM = "HKEY_LOCAL_MACHINE"
MS = HKLM + "\\SOFTWARE\\Microsoft\\MSLicensing"


class ReadSizes(io.BytesIO):
    """A file that remembers how much each read asked for."""

    def __init__(self, raw: bytes):
        super().__init__(raw)
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.sizes.append(-1 if size is None else size)
        return super().read(size)


def sample_keys() -> list[RegKey]:
    return [RegKey(MS, delete=True),
            RegKey(MS, dacl="D:(A;CI;KA;;;BU)"),
            RegKey(MS + "\\Store", values={"x": ("string", "a\u00e9\U0001f600"), "y": ("binary", bytes(range(200)))},
                   dacl="D:P(A;CI;KA;;;SY)(A;CI;KA;;;BU)"),
            RegKey(MS + "\\HardwareID", values={"ClientHWID": ("binary", b"\x01\x02"), "m": ("multistring", ["a", "b"])})]


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 16])
@pytest.mark.parametrize("encoding", ["utf-16-bom", "utf-8-bom", "utf-8", "cp1252"])
def test_chunked_reading_gives_what_whole_parsing_gives(monkeypatch, chunk, encoding):
    text = regfile.render(sample_keys(), [regfile.source_host_comment("host-1")])
    if encoding == "cp1252":
        text = text.replace("\u00e9", "").replace("\U0001f600", "")
        text = text.replace("Store]", "St\u00f6re]")  # not UTF-8 once encoded: read again as ANSI
    raw = {"utf-16-bom": regfile.encode, "utf-8-bom": lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
           "utf-8": lambda text: text.encode("utf-8"), "cp1252": lambda text: text.encode("cp1252")}[encoding](text)
    monkeypatch.setattr(regfile, "_CHUNK", chunk)
    handle = ReadSizes(raw)
    keys, host = regfile.read(handle)
    assert keys == regfile.parse(regfile.decode(raw)) and host == "host-1"
    # Never the whole file in one read (a read of -1 or of its full size).
    assert max(handle.sizes) <= max(chunk, 3) and -1 not in handle.sizes


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(["a", "\r", "\n", "b", "\u2028", "\x0b"]), max_size=30), st.integers(1, 5))
def test_lines_split_in_pieces_as_a_whole_split_would(text, size):
    pieces = [text[index:index + size] for index in range(0, len(text), size)]
    assert list(regfile.split_lines(pieces)) == re.split(r"\r\n|\r|\n", text)


def test_damaged_files_read_in_chunks_name_the_same_byte_as_decode(monkeypatch):
    monkeypatch.setattr(regfile, "_CHUNK", 5)
    raw = b"\xff\xfe" + "Windows Registry Editor Version 5.00\r\n".encode("utf-16-le") + b"\x00\xd8\x41\x00"
    with pytest.raises(RegFileError) as whole:
        regfile.decode(raw)
    with pytest.raises(RegFileError) as streamed:
        regfile.read(io.BytesIO(raw))
    assert str(streamed.value) == str(whole.value)
    with pytest.raises(RegFileError, match="not valid UTF-16 from byte 78 .*truncated"):
        regfile.read(io.BytesIO(b"\xff\xfe" + "Windows Registry Editor Version 5.00\r\n".encode("utf-16-le") + b"A"))
    with pytest.raises(RegFileError, match="neither UTF-8 nor Windows-1252"):
        regfile.read(io.BytesIO(b"REGEDIT4\r\n\x81"))


def test_the_regedit_fixture_reads_the_same_in_chunks(monkeypatch):
    monkeypatch.setattr(regfile, "_CHUNK", 7)
    for name in os.listdir(FIXTURES):
        with open(os.path.join(FIXTURES, name), "rb") as handle:
            raw = handle.read()
            handle.seek(0)
            assert regfile.read(handle)[0] == regfile.parse(regfile.decode(raw)), name


def test_dacl_comment_follows_its_key_line_and_imports_as_a_comment():
    text = regfile.render([RegKey(MS, values={"a": ("dword", 1)}, dacl="D:(A;CI;KA;;;BU)")])
    lines = text.split("\r\n")
    at = lines.index(f"[{MS}]")
    assert lines[at + 1] == "; remote_desktop.licensing dacl: D:(A;CI;KA;;;BU)"
    # regedit and reg import skip lines that start with ';': without it the file holds the same keys and values.
    plain = regfile.parse("\r\n".join(line for line in lines if not line.startswith(";")))
    assert [(key.path, key.values, key.dacl) for key in plain] == [(MS, {"a": ("dword", 1)}, None)]
    assert regfile.parse(text) == [RegKey(MS, values={"a": ("dword", 1)}, dacl="D:(A;CI;KA;;;BU)")]


@pytest.mark.parametrize("body,message", [
    ("; remote_desktop.licensing dacl: D:(A;;KA;;;WD)\r\n[{ms}]\r\n", "line 3: .* must follow a \\[key\\] line"),
    ("[-{ms}]\r\n; remote_desktop.licensing dacl: D:(A;;KA;;;WD)\r\n", "line 4: .* must follow a \\[key\\] line"),
    ("[{ms}]\r\n; remote_desktop.licensing dacl: D:\r\n; remote_desktop.licensing dacl: D:P\r\n", "line 5: a second DACL"),
    ("[{ms}]\r\n; remote_desktop.licensing dacl:\r\n", "line 4: an empty DACL"),
])
def test_misplaced_dacl_comments_name_the_line(body, message):
    text = "Windows Registry Editor Version 5.00\r\n\r\n" + body.format(ms=MS)
    with pytest.raises(RegFileError, match=message):
        regfile.parse(text)
