# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of remote_desktop.licensing.license_server_info: one round trip, read only."""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.modules.license_server_info import DOCUMENTATION
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _license_server, _transport
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils._action_base import LicensingActionBase


class ActionModule(LicensingActionBase):
    DOCUMENTATION = DOCUMENTATION
    IGNORED_GROUP_OPTIONS = ("backup_dir",)

    def run_module(self, args: dict[str, t.Any], task_vars: dict[str, t.Any]) -> dict[str, t.Any]:
        results = _license_server.with_server(_transport.results_by_id(_transport.run_agent(self, _license_server.operations())))
        for op_id, what in (("server", "Win32_TSLicenseServer"), ("parameters", _license_server.PARAMETERS_KEY),
                            ("service", _license_server.SERVICE)):
            if not (results.get(op_id) or {}).get("ok"):
                raise _transport.agent_failure((results.get(op_id) or {}).get("error") or {}, what)
        service = results["service"]["services"].get(_license_server.SERVICE) or {}
        report = _license_server.build(results["server"], results["parameters"].get("values") or [], service)
        return {"changed": False, "license_server": report}
