"""rds-sim's fault arguments on the command line (HOST=KIND[:ARG])."""

from __future__ import annotations

import pytest
from rds_sim.fleet import parse_fault


def test_wmi_grace_no_days_takes_the_return_value_it_answers():
    assert parse_fault("fresh-01=wmi_grace_no_days") == ("fresh-01", "wmi_grace_no_days", True)
    assert parse_fault("fresh-01=wmi_grace_no_days:0x80041001") == ("fresh-01", "wmi_grace_no_days", 0x80041001)
    assert parse_fault("fresh-01=wmi_grace_no_days:5") == ("fresh-01", "wmi_grace_no_days", 5)


def test_a_return_value_that_is_not_a_number_is_refused():
    with pytest.raises(ValueError):
        parse_fault("fresh-01=wmi_grace_no_days:many")
