"""_secrets: which values a task marks, how a diff and a .reg text hide them, and that scrubbing a result leaves
the controller paths it names intact."""

from __future__ import annotations

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _changes, _regfile, _secrets
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._regfile import RegKey

WINLOGON = "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon"


def test_values_are_marked_by_name_without_case_or_all_at_once():
    by_name = _secrets.Marked.from_options({"sensitive_values": ["DefaultPassword"], "hide_values": False})
    assert by_name and by_name("defaultpassword") and not by_name("DefaultUserName")
    every = _secrets.Marked.from_options({"sensitive_values": [], "hide_values": True})
    assert every and every("anything")
    assert not _secrets.Marked.from_options({})


def test_a_diff_hides_only_the_marked_changes():
    secret = _changes.Change(_changes.Wanted(WINLOGON, "DefaultPassword", 64, ("string", "n3w-secret")), ("string", "0ld-secret"),
                             ("string", "n3w-secret"))
    plain = _changes.Change(_changes.Wanted(WINLOGON, "DefaultUserName", 64, ("string", "kiosk2")), ("string", "kiosk"),
                            ("string", "kiosk2"))
    diff = _changes.diff([secret, plain], "registry")
    shown = _secrets.masked_diff(diff, [secret])
    assert "secret" not in shown["before"] + shown["after"]
    assert "(sensitive string value hidden)" in shown["before"] and "kiosk2" in shown["after"]


def test_a_reg_text_shows_the_marked_data_as_hidden_and_keeps_the_keys_for_writing():
    keys = [RegKey(f"HKEY_LOCAL_MACHINE\\{WINLOGON}", values={"DefaultPassword": ("binary", b"\x01\x02"), "Shell": ("string", "x")})]
    text = _regfile.render(_secrets.masked_keys(keys, _secrets.Marked(frozenset({"defaultpassword"}))))
    assert f'"DefaultPassword"="{_secrets.HIDDEN}"' in text and '"Shell"="x"' in text and "01,02" not in text
    assert keys[0].values["DefaultPassword"] == ("binary", b"\x01\x02")


def test_scrubbing_a_result_keeps_the_backup_path_that_spells_a_secret():
    result = {"msg": "Conflict: the host holds rdsh-07 now. The backup is /b/rdsh-07/x.reg.", "backup_file": "/b/rdsh-07/x.reg"}
    scrubbed = _secrets.scrub_result(result, ["rdsh-07"])
    assert scrubbed["backup_file"] == "/b/rdsh-07/x.reg" and "rdsh-07" not in scrubbed["msg"]
