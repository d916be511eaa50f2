"""Fleets for the integration tests: real ansible-playbook runs over winrm against rds-sim."""

from __future__ import annotations

import pytest

from tests.helpers.fleet import SimFleet

ALL_PRESETS = ["fresh", "per_device", "per_user", "gpo_conflict", "grace_expiring", "grace_expired", "client_cache",
               "ws2012r2", "ws2016", "ws2019", "ws2022", "ws2025"]


@pytest.fixture(scope="session")
def preset_fleet(tmp_path_factory):
    """One host per preset: fresh-01, per-device-02, ..., ws2025-12."""
    fleet = SimFleet(tmp_path_factory.mktemp("preset-fleet")).up(len(ALL_PRESETS), ALL_PRESETS)
    yield fleet
    fleet.down()
