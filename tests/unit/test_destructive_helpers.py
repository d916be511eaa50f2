"""What mslicensing reports and when it has nothing to do; which values grace_period deletes."""

from __future__ import annotations

import pytest

from ansible_collections.remote_desktop.licensing.plugins.action.grace_period import is_timebomb
from ansible_collections.remote_desktop.licensing.plugins.action.mslicensing import left_for_users, removal

MS = "SOFTWARE\\Microsoft\\MSLicensing"


def test_removal_counts_the_hardware_id_and_the_stored_licenses():
    tree = [(MS, {}), (MS + "\\HardwareID", {"ClientHWID": ("binary", b"\x01")}), (MS + "\\Store", {}),
            (MS + "\\Store\\LICENSE000", {"ClientLicense": ("binary", b"\x02")}),
            (MS + "\\Store\\LICENSE001", {"ClientLicense": ("binary", b"\x03")})]
    assert removal(tree) == {"hardware_id": True, "store_entries": 2, "keys": 5, "values": 3}
    assert removal(None) == {"hardware_id": False, "store_entries": 0, "keys": 0, "values": 0}


def test_only_the_empty_key_counts_as_left_for_users():
    assert left_for_users([(MS, {})])
    assert not left_for_users([(MS, {}), (MS + "\\Store", {})])
    assert not left_for_users([(MS, {"x": ("dword", 1)})])
    assert not left_for_users(None)


@pytest.mark.parametrize("name,match", [
    ("L$RTMTIMEBOMB_1320153D-8DA3-4e8e-B27B-0D888223A588", True), ("L$GracePeriodTimeBomb_1320153D", True),
    ("l$rtmtimebomb_x", True), ("TIMEBOMB", False), ("L$Other", False), ("XL$TIMEBOMB", False),
])
def test_only_timebomb_values_are_deleted(name, match):
    assert is_timebomb(name) is match
