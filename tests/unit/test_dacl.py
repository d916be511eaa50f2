"""Key DACLs reduced to what a key holds itself, as backups record them and registry_restore compares them."""

from __future__ import annotations

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _dacl

INHERITED = "(A;CIID;KA;;;SY)(A;CIID;KA;;;BA)(A;CIID;KR;;;BU)"


@pytest.mark.parametrize("sddl,own", [
    ("D:AI" + INHERITED, _dacl.INHERITED_ONLY),
    ("D:AI(A;CI;KA;;;BU)" + INHERITED, "D:(A;CI;KA;;;BU)"),
    ("D:PAI(A;CI;KA;;;SY)(A;CI;KR;;;BA)", "D:P(A;CI;KA;;;SY)(A;CI;KR;;;BA)"),
    ("D:P", "D:P"),
    ("D:(D;;KA;;;WD)(A;OICIID;KA;;;SY)", "D:(D;;KA;;;WD)"),
])
def test_only_the_keys_own_part_is_kept(sddl, own):
    assert _dacl.explicit(sddl) == own


@pytest.mark.parametrize("sddl,problem", [
    ("O:BAD:(A;;KA;;;WD)", "not a DACL"),
    ("D:(A;;KA;;;WD)S:(AU;FA;KA;;;WD)", "not a DACL"),
    ("D:NO_ACCESS_CONTROL", "not a DACL"),  # a NULL DACL: everyone, everything
    ("D:(XA;;KA;;;WD;(@User.x == 1))", "not a DACL"),  # conditional ACE
    ("D:(OA;;KA;00000000-0000-0000-0000-000000000000;;;WD)", "plain allow"),
    ("D:(A;;KA;;WD)", "plain allow"),
])
def test_anything_but_a_plain_dacl_is_refused(sddl, problem):
    with pytest.raises(_dacl.DaclError, match=problem):
        _dacl.explicit(sddl)


def test_a_diff_says_inherited_only_in_words():
    assert _dacl.shown(_dacl.INHERITED_ONLY) == "D: (inherited ACEs only)"
    assert _dacl.shown("D:(A;CI;KA;;;BU)") == "D:(A;CI;KA;;;BU)" and _dacl.shown(None) == "(unknown)"


@pytest.mark.parametrize("path,allowed", [
    ("SOFTWARE\\Microsoft\\MSLicensing", True), ("software\\microsoft\\mslicensing\\Store\\LICENSE000", True),
    ("SOFTWARE\\WOW6432Node\\Microsoft\\MSLicensing\\HardwareID", True),
    ("SOFTWARE\\Microsoft\\MSLicensingX", False), ("SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run", False),
    ("SYSTEM\\CurrentControlSet\\Control\\Terminal Server\\RCM\\GracePeriod", False), ("SOFTWARE", False),
])
def test_dacl_allow_list(path, allowed):
    assert _dacl.allowed(path) is allowed


def test_a_protected_dacl_that_locks_out_system_and_administrators_is_not_restorable():
    with pytest.raises(_dacl.DaclError, match="lock both out"):
        _dacl.restorable("D:P(A;CI;KR;;;BU)")
    assert _dacl.restorable("D:P(A;CI;KR;;;BU)(A;CI;KA;;;SY)") == "D:P(A;CI;KR;;;BU)(A;CI;KA;;;SY)"
    assert _dacl.restorable("D:(A;CI;KR;;;BU)") == "D:(A;CI;KR;;;BU)"  # inherits SYSTEM and Administrators

