"""registry_values: every entry is validated before anything is sent, and the message names it."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.remote_desktop.licensing.plugins.action.registry_values import wanted_values


def entry(**overrides):
    return {"path": "HKLM:\\SOFTWARE\\X", "name": "V", "type": "string", "data": "x", "state": "present", "view": 64,
            **overrides}


@pytest.mark.parametrize("entries,message", [
    ([], "values is empty"),
    ([entry(), entry(type="dword", data="99999999999")], "values[1]: dword data '99999999999' is out of range"),
    ([entry(path="HKCU:\\Software\\X")], "values[0]: registry path 'HKCU:\\\\Software\\\\X' is not under HKEY_LOCAL_MACHINE"),
    ([entry(data=None)], "values[0] (HKLM:\\SOFTWARE\\X 'V'): data is required to set a string value"),
    ([entry(state="absent")], "state is absent, so data must not be given"),
    ([entry(type="binary", data="hex:1,2,300")], "hex:aa,bb,cc form"),
    ([entry(type="multistring", data="a,b")], "multistring data must be a list of strings"),
    ([entry(), entry(path="HKEY_LOCAL_MACHINE\\software\\x", name="v")], "is listed twice"),
    ([entry(name="n" * 16384)], "values[0]: value name of 16384 characters is longer than Windows allows (16383)"),
])
def test_bad_entries_name_the_entry_and_the_problem(entries, message):
    with pytest.raises(AnsibleActionFail) as caught:
        wanted_values(entries)
    assert message in str(caught.value)


def test_good_entries_become_canonical_values():
    wanted = wanted_values([
        entry(type="dword", data="0x10"), entry(name="", data=5),
        entry(name="B", type="binary", data=[1, 2]), entry(name="N", type="none", data=None),
        entry(name="Gone", state="absent", data=None, view=32),
    ])
    assert [(item.path, item.name, item.view, item.value) for item in wanted] == [
        ("SOFTWARE\\X", "V", 64, ("dword", 16)), ("SOFTWARE\\X", "", 64, ("string", "5")),
        ("SOFTWARE\\X", "B", 64, ("binary", b"\x01\x02")), ("SOFTWARE\\X", "N", 64, ("none", b"")),
        ("SOFTWARE\\X", "Gone", 32, None),
    ]
