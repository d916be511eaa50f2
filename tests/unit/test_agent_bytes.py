"""The measuring helper behind the agent's byte budget finds every function and attributes bytes correctly."""

from __future__ import annotations

import re

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _agent_payload as payload
from tests.helpers import agent_bytes


def test_every_function_of_the_agent_is_measured():
    source = payload.agent_text()
    table = agent_bytes.shares(source)
    assert set(table) - {"strings"} == set(re.findall(r"^function (\S+) \{", source, re.M))
    assert all(size > 0 for size in table.values())


def test_a_function_that_repeats_another_costs_almost_nothing():
    unique = "function Get-One {\nparam($Op)\nreturn 'a message only this function has, and it is long enough'\n}\n"
    twin = unique.replace("Get-One", "Get-Two")
    alone = agent_bytes.shares(payload.agent_text() + "\n" + unique)
    twins = agent_bytes.shares(payload.agent_text() + "\n" + unique + twin)
    # Alone, its message is new content; next to a copy, either one goes with almost no saving.
    assert alone["Get-One"] > 30
    assert twins["Get-One"] < 15 and twins["Get-Two"] < 15
