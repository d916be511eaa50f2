"""registry_values end to end: ansible-playbook over winrm against an rds-sim host."""

from __future__ import annotations

import base64
import os

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _regfile as regfile
from tests.helpers.fleet import SimFleet, run_playbook
from tests.helpers.paths import ROOT

PLAYBOOK = os.path.join(ROOT, "tests", "integration", "playbooks", "registry_values.yml")
KEY = "SOFTWARE\\Example\\Licensing"
CORE = "SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\Licensing Core"
SERVERS_KEY = "SYSTEM\\CurrentControlSet\\Services\\TermService\\Parameters\\LicenseServers"
HOSTILE = [
    'double "quotes" and \'single\'',
    "$(Remove-Item -Recurse C:\\) and ${env:PATH}",
    "`backticks` `n `$x",
    "semi; colon & pipe | redirect > nul",
    "line one\r\nline two\nline three",
    "non-ASCII: Zürich, Ærø, 東京, ☃, 😀",
    "x" * 5000,
]


def twenty_values() -> list[dict]:
    """Twenty values: every type, the three path spellings, the default value, the 32-bit view."""
    values = [
        {"path": f"HKLM:\\{KEY}", "name": "Dword", "type": "dword", "data": 4},
        {"path": f"HKLM\\{KEY}", "name": "DwordHex", "type": "dword", "data": "0xFFFFFFFF"},
        {"path": f"HKEY_LOCAL_MACHINE\\{KEY}", "name": "DwordText", "type": "dword", "data": "120"},
        {"path": f"HKLM:\\{KEY}", "name": "Qword", "type": "qword", "data": 18446744073709551615},
        {"path": f"HKLM:\\{KEY}", "name": "Expand", "type": "expandstring", "data": "%SystemRoot%\\System32"},
        {"path": f"HKLM:\\{KEY}", "name": "Multi", "type": "multistring", "data": ["ls01.example.test", "ls02", "ü"]},
        {"path": f"HKLM:\\{KEY}", "name": "Binary", "type": "binary", "data": "hex:de,ad,be,ef"},
        {"path": f"HKLM:\\{KEY}", "name": "BinaryList", "type": "binary", "data": [0, 1, 255]},
        {"path": f"HKLM:\\{KEY}", "name": "None", "type": "none"},
        {"path": f"HKLM:\\{KEY}", "name": "", "type": "string", "data": "the default value"},
        {"path": f"HKLM:\\{KEY}\\Deeper\\Still", "name": "Created", "type": "dword", "data": 1},
        {"path": f"HKLM:\\{KEY}", "name": "Wow", "type": "string", "data": "32-bit", "view": 32},
        {"path": f"HKLM:\\{KEY}", "name": 'Name with "quotes" $(x) `y`', "type": "string", "data": "named"},
    ]
    values += [{"path": f"HKLM:\\{KEY}\\Hostile", "name": f"Hostile{index}", "type": "string", "data": text}
               for index, text in enumerate(HOSTILE)]
    assert len(values) == 20
    return values


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    fleet = SimFleet(tmp_path_factory.mktemp("values-fleet")).up(1, ["per_device"])
    yield fleet
    fleet.down()


@pytest.fixture
def run(fleet, tmp_path):
    def _run(reg_values, args=(), **options):
        results = tmp_path / f"run{len(list(tmp_path.iterdir()))}"
        outcome = run_playbook(PLAYBOOK, fleet.inventory, str(results), {"reg_values": reg_values, **options}, args=list(args))
        host = fleet.hosts()[0]
        assert host in outcome.results, outcome.output
        return outcome.output, outcome.results[host], fleet.stats()[host]
    return _run


@pytest.fixture
def host(fleet):
    name = fleet.hosts()[0]
    fleet.reset_host(name, "per_device")
    return name


def test_twenty_values_in_one_task_stored_literally_and_idempotent(fleet, run, host):
    values = twenty_values()
    _output, result, stats = run(values, ["--check"])
    assert result["changed"] is True and stats["writes"] == 0 and stats["commands"] == 1

    fleet.reset_stats()
    _output, result, stats = run(values)
    assert result["changed"] is True and all(item["changed"] for item in result["entries"])
    # One read, one write: two WinRM commands in one shell, whatever the number of values.
    assert stats["commands"] == 2 and stats["shells"] == 1 and stats["writes"] == 20

    registry = fleet.show(host)["registry"]
    stored = registry[KEY]
    assert stored["Dword"] == {"type": "dword", "data": 4}
    assert stored["DwordHex"] == {"type": "dword", "data": 4294967295}
    assert stored["DwordText"] == {"type": "dword", "data": 120}
    assert stored["Qword"] == {"type": "qword", "data": 18446744073709551615}
    assert stored["Expand"] == {"type": "expandstring", "data": "%SystemRoot%\\System32"}
    assert stored["Multi"] == {"type": "multistring", "data": ["ls01.example.test", "ls02", "ü"]}
    assert base64.b64decode(stored["Binary"]["data"]) == bytes.fromhex("deadbeef")
    assert base64.b64decode(stored["BinaryList"]["data"]) == bytes([0, 1, 255])
    assert stored["None"] == {"type": "none", "data": ""}
    assert stored[""] == {"type": "string", "data": "the default value"}
    assert stored['Name with "quotes" $(x) `y`']["data"] == "named"
    assert registry[f"{KEY}\\Deeper\\Still"]["Created"]["data"] == 1
    assert registry["SOFTWARE\\Wow6432Node\\Example\\Licensing"]["Wow"]["data"] == "32-bit"
    hostile = registry[f"{KEY}\\Hostile"]
    for index, text in enumerate(HOSTILE):
        assert hostile[f"Hostile{index}"] == {"type": "string", "data": text}

    fleet.reset_stats()
    _output, result, stats = run(values)
    assert result["changed"] is False and stats["commands"] == 1 and stats["writes"] == 0


def test_check_mode_diff_shows_old_and_new_with_types(fleet, run, host):
    before = fleet.show(host)["registry"]
    values = [
        {"path": f"HKLM:\\{CORE}", "name": "LicensingMode", "type": "dword", "data": 4},
        {"path": f"HKLM:\\{SERVERS_KEY}", "name": "SpecifiedLicenseServers", "type": "string", "data": "ls01.example.test"},
        {"path": f"HKLM:\\{KEY}", "name": "Absent", "state": "absent"},
    ]
    output, result, stats = run(values, ["--check", "--diff"])
    assert result["changed"] is True and stats["writes"] == 0
    assert fleet.show(host)["registry"] == before
    assert f'-HKLM:\\{CORE} "LicensingMode": REG_DWORD 2 (0x2)' in output
    assert f'+HKLM:\\{CORE} "LicensingMode": REG_DWORD 4 (0x4)' in output
    # The same servers as another type: reported, and rewritten with the requested type.
    assert "REG_MULTI_SZ ['ls01.example.test']" in output and "REG_SZ 'ls01.example.test'" in output
    assert [item["changed"] for item in result["entries"]] == [True, True, False]


def test_write_denied_on_the_third_of_five_values_leaves_nothing_half_written(fleet, run, host):
    fleet.set_faults(host, {"write_denied": [SERVERS_KEY]})
    before = fleet.show(host)["registry"]
    values = [
        {"path": f"HKLM:\\{CORE}", "name": "LicensingMode", "type": "dword", "data": 4},
        {"path": f"HKLM:\\{KEY}", "name": "New", "type": "string", "data": "x"},
        {"path": f"HKLM:\\{SERVERS_KEY}", "name": "SpecifiedLicenseServers", "type": "multistring", "data": ["ls09"]},
        {"path": f"HKLM:\\{KEY}", "name": "Later", "type": "dword", "data": 1},
        {"path": f"HKLM:\\{CORE}", "name": "Other", "type": "dword", "data": 1},
    ]
    _output, result, stats = run(values)
    assert result["failed"] is True
    assert f'HKLM:\\{SERVERS_KEY} "SpecifiedLicenseServers"' in result["msg"]
    assert "elevated local administrator" in result["msg"]
    assert "the 2 earlier write(s) of this task were undone" in result["msg"]
    assert result["rollback"] == {"performed": True, "undone": 2, "errors": []}
    assert stats["writes"] == 2
    assert fleet.show(host)["registry"] == before


def test_unreadable_key_fails_in_the_read_and_writes_nothing(fleet, run, host):
    fleet.set_faults(host, {"access_denied": [KEY]})
    _output, result, stats = run([{"path": f"HKLM:\\{KEY}", "name": "X", "type": "dword", "data": 1}])
    assert result["failed"] is True and f"HKLM:\\{KEY}" in result["msg"] and "elevated" in result["msg"]
    assert stats["writes"] == 0 and stats["commands"] == 1


def test_backup_holds_the_old_values_and_deletion_entries_for_new_ones(fleet, run, host, tmp_path):
    values = [
        {"path": f"HKLM:\\{CORE}", "name": "LicensingMode", "type": "dword", "data": 4},
        {"path": f"HKLM:\\{CORE}", "name": "Added", "type": "string", "data": "new"},
    ]
    _output, result, _stats = run(values, backup=True, backup_dir=str(tmp_path / "b"))
    assert result["changed"] is True
    with open(result["backup_file"], "rb") as handle:
        keys = regfile.parse(regfile.decode(handle.read()))
    assert [key.path for key in keys] == [f"HKEY_LOCAL_MACHINE\\{CORE}"]
    assert keys[0].values == {"LicensingMode": ("dword", 2), "Added": None}


@pytest.mark.parametrize("entry,message", [
    ({"path": f"HKLM:\\{KEY}", "name": "X", "type": "dword", "data": 4294967296}, "out of range 0..4294967295"),
    ({"path": f"HKLM:\\{KEY}", "name": "X", "type": "dword", "data": "four"}, "is not a whole number"),
    ({"path": f"HKLM:\\{KEY}", "name": "X", "type": "binary", "data": "hex:zz,01"}, "hex:aa,bb,cc form"),
    ({"path": f"HKLM:\\{KEY}", "name": "X", "type": "multistring", "data": ["a", ""]}, "contains an empty string"),
    ({"path": "SOFTWARE\\Relative", "name": "X", "type": "dword", "data": 1}, "is not under HKEY_LOCAL_MACHINE"),
    ({"path": "HKCU:\\Software\\X", "name": "X", "type": "dword", "data": 1}, "is not under HKEY_LOCAL_MACHINE"),
    ({"path": "HKLM:\\SOFTWARE\\..\\SYSTEM", "name": "X", "type": "dword", "data": 1}, "relative component"),
    ({"path": f"HKLM:\\{KEY}", "name": "X", "type": "string"}, "data is required"),
    ({"path": f"HKLM:\\{KEY}", "name": "X", "type": "reg_sz", "data": "x"}, "value of type must be one of"),
    ({"path": f"HKLM:\\{KEY}", "type": "string", "data": "x"}, "data is given without a name"),
])
def test_bad_input_fails_before_anything_is_sent(fleet, run, host, entry, message):
    _output, result, stats = run([entry])
    assert result["failed"] is True and message in result["msg"], result["msg"]
    assert stats["commands"] == 0


def test_a_slash_in_a_key_name_is_part_of_the_name_in_the_write_and_the_backup(fleet, run, host, tmp_path):
    ciphers = "SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Ciphers"
    fleet.reset_host(host, "per_device", registry={f"{ciphers}\\RC4 128/128": {"Enabled": {"type": "dword", "data": 1}}})
    _output, result, _stats = run([{"path": f"HKLM:\\{ciphers}\\RC4 128/128", "name": "Enabled", "type": "dword", "data": 0}],
                                  backup=True, backup_dir=str(tmp_path / "backups"))
    assert result["changed"] is True and not result.get("failed"), result
    assert fleet.value(host, f"{ciphers}\\RC4 128/128", "Enabled") == {"type": "dword", "data": 0}
    assert not any(key.lower().endswith("\\rc4 128\\128") or key.lower().endswith("\\rc4 128")
                   for key in fleet.show(host)["registry"]), "a '/' became a key separator"
    with open(result["backup_file"], "rb") as handle:
        saved = regfile.parse(regfile.decode(handle.read()))
    assert [(key.path.rsplit("\\", 1)[-1], key.values) for key in saved] == [("RC4 128/128", {"Enabled": ("dword", 1)})]


def test_win_regedit_spellings_and_a_bare_key(fleet, run, host, tmp_path):
    """key / entry / datatype mean path / name / type; a path alone makes sure the key exists."""
    bare = f"{KEY}\\Empty\\Deeper"
    values = [{"key": f"HKLM:\\{KEY}", "entry": "Level", "data": 3, "datatype": "dword"},
              {"path": f"HKLM:\\{bare}"}]
    _output, result, stats = run(values, ["--check", "--diff"])
    assert result["changed"] is True and not result.get("failed"), result
    assert result["keys"] == [{"path": f"HKLM:\\{bare}", "view": 64, "created": True}]
    assert stats["writes"] == 0
    assert not any(key.lower() == bare.lower() for key in fleet.show(host)["registry"])

    _output, result, _stats = run(values, backup=True, backup_dir=str(tmp_path / "b"))
    assert result["changed"] is True and result["keys"][0]["created"] is True, result
    registry = fleet.show(host)["registry"]
    assert any(key.lower() == bare.lower() for key in registry)
    assert fleet.value(host, KEY, "Level") == {"type": "dword", "data": 3}
    with open(result["backup_file"], "rb") as handle:
        blocks = regfile.parse(regfile.decode(handle.read()))
    assert [block.path for block in blocks if block.delete] == [f"HKEY_LOCAL_MACHINE\\{bare}"]

    fleet.reset_stats()
    _output, again, stats = run(values)
    assert again["changed"] is False and again["keys"][0]["created"] is False, again
    assert stats["commands"] == 1 and stats["writes"] == 0


def test_a_bare_key_cannot_be_absent(run, host):
    _output, result, stats = run([{"path": f"HKLM:\\{KEY}", "state": "absent"}])
    assert result.get("failed") and "never deletes keys" in result["msg"], result
    assert stats["commands"] == 0


def test_group_backup_dir_default_serves_read_only_and_writing_modules(fleet, host, tmp_path):
    playbook = os.path.join(ROOT, "tests", "integration", "playbooks", "group_defaults.yml")
    backups = tmp_path / "group-backups"
    outcome = run_playbook(playbook, fleet.inventory, str(tmp_path / "results"), {"group_backup_dir": str(backups)})
    assert outcome.rc == 0, outcome.output
    result = outcome.results[host]
    assert not result["info"].get("failed") and result["info"]["licensing"]["mode"]["effective"] == 2, result["info"]
    assert not result["server"].get("failed"), result["server"]
    assert result["values"]["changed"] is True
    assert result["values"]["backup_file"].startswith(str(backups / host) + os.sep)
