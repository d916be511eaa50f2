"""What license_server_info makes of the WMI answers."""

from __future__ import annotations

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _license_server as ls

PACKS = [
    {"key_pack_id": 1, "key_pack_type": 4, "product_type": 0, "product_version": "Windows Server 2022", "total": 0, "issued": 2, "available": 0},
    {"key_pack_id": 2, "key_pack_type": 2, "product_type": 1, "product_version": "Windows Server 2022", "total": 50, "issued": 5, "available": 45},
    {"key_pack_id": 3, "key_pack_type": 1, "product_type": 1, "product_version": "Windows Server 2022", "total": 10, "issued": 10, "available": 0},
    {"key_pack_id": 4, "key_pack_type": 2, "product_type": 0, "product_version": "Windows Server 2019", "total": 5, "issued": 5, "available": 0},
]


def build(**server):
    return ls.build({"exists": True, "activation_status": 0, "server_role": 1, "key_packs": PACKS,
                     "issued_by_status": {"1": 2, "2": 15, "4": 1}, **server},
                    [{"name": "Role", "type": "dword", "data": 0}], {"exists": True, "status": "Running"})


def test_capacity_groups_by_version_and_cal_type_without_temporary_packs():
    assert build()["capacity"] == [
        {"product_version": "Windows Server 2019", "cal_type": "per_device", "total": 5, "issued": 5, "available": 0, "key_packs": 1},
        {"product_version": "Windows Server 2022", "cal_type": "per_user", "total": 60, "issued": 15, "available": 45, "key_packs": 2},
    ]


def test_names_and_counts():
    report = build()
    assert report["activation"]["name"] == "activated" and report["role"]["name"] == "domain"
    assert report["issued_licenses"] == {"unknown": 0, "temporary": 2, "active": 15, "upgrade": 0, "revoked": 1,
                                         "pending": 0, "concurrent": 0}
    assert [pack["key_pack_type_name"] for pack in report["key_packs"]] == ["temporary", "volume", "retail", "volume"]
    assert report["parameters"] == {"Role": 0}


def test_warnings_name_what_needs_attention():
    notes = build(activation_status=1)["warnings"]
    assert any("not activated" in note for note in notes)
    assert any("No per device CALs left for Windows Server 2019" in note for note in notes)
    assert any("2 temporary license(s)" in note for note in notes)


def test_a_host_without_the_role_is_not_an_error():
    assert ls.build({"exists": False, "reason": "Invalid class"}, [], {"exists": False})["is_license_server"] is False
