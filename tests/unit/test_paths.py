from __future__ import annotations

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _paths


@pytest.mark.parametrize("name, file_name", [
    ("rdsh01.example.test", "rdsh01.example.test"), ("..", "%2E."), (".", "%2E"), ("../escape", "%2E.%2Fescape"),
    ("a/b", "a%2Fb"), ("a\\b", "a%5Cb"), ("a_b", "a_b"), ("CON", "%43ON"), ("lpt1.json", "%6Cpt1.json"),
    ("50%", "50%25"), ("host name", "host%20name"), ("hôte", "h%C3%B4te"), ("", "%"),
])
def test_host_names_become_one_safe_unique_path_component(name, file_name):
    assert _paths.host_file_name(name) == file_name
    assert "/" not in file_name and "\\" not in file_name and file_name not in (".", "..")
    if name:
        assert _paths.host_from_file_name(file_name) == name
