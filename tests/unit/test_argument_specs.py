"""Each action plugin's argument spec comes from its module's DOCUMENTATION and is built once, when
the plugin is imported (in ansible-core's main process, before it forks workers), not per task."""

from __future__ import annotations

import glob
import importlib
import os

import pytest

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _action_base
from tests.helpers.paths import ROOT

ACTIONS = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(ROOT, "plugins", "action", "*.py")))


def action_class(name: str) -> type:
    return importlib.import_module(f"ansible_collections.remote_desktop.licensing.plugins.action.{name}").ActionModule


@pytest.mark.parametrize("name", ACTIONS)
def test_the_spec_is_the_documentation_built_at_import(name):
    cls = action_class(name)
    assert issubclass(cls, _action_base.LicensingActionBase)
    assert "ARGUMENT_SPEC" in vars(cls)
    assert cls.ARGUMENT_SPEC == _action_base.argument_spec_from_doc(cls.DOCUMENTATION)
