# -*- coding: utf-8 -*-
# Copyright: remote_desktop.licensing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Private to the remote_desktop.licensing collection; may change without notice.

Drift: how a host's licensing report (licensing_info's ``licensing``) differs from a declared
baseline, one item per drifted setting, with where the value comes from and whether Group Policy
would undo a local fix. Pure: the same report gives the same answer, with or without --check.
"""

from __future__ import annotations

import typing as t

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing_state as state_reader

BASELINE_KEYS = ("mode", "license_servers", "forbid_policy_conflicts", "min_grace_days")


class BaselineError(ValueError):
    pass


def _names(servers: t.Any) -> list[str]:
    return [str(name).lower() for name in servers or []]


def drift(report: dict[str, t.Any], baseline: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    unknown = set(baseline or {}) - set(BASELINE_KEYS)
    if unknown:
        raise BaselineError(f"unknown baseline setting(s) {sorted(unknown)}; use {', '.join(BASELINE_KEYS)}")
    items: list[dict[str, t.Any]] = []
    role = report.get("role") or {}
    if role.get("rdsh_installed") is False or (report.get("grace_period") or {}).get("state") == "not_applicable":
        return items  # not an RD Session Host: session licensing settings do not apply
    mode = report.get("mode") or {}
    servers = report.get("license_servers") or {}
    wanted_mode = baseline.get("mode")
    if wanted_mode and mode.get("effective_name") != wanted_mode:
        items.append({"setting": "mode", "expected": wanted_mode, "actual": mode.get("effective_name"),
                      "source": mode.get("source"), "gpo_overrides_local_fix": mode.get("policy") is not None})
    wanted_servers = baseline.get("license_servers")
    if wanted_servers is not None and _names(servers.get("effective")) != _names(wanted_servers):
        items.append({"setting": "license_servers", "expected": list(wanted_servers),
                      "actual": list(servers.get("effective") or []), "source": servers.get("source"),
                      "gpo_overrides_local_fix": servers.get("policy") is not None})
    if baseline.get("forbid_policy_conflicts"):
        if mode.get("policy") is not None and mode.get("local") is not None and mode["policy"] != mode["local"]:
            items.append({"setting": "mode_policy_conflict", "expected": "local and policy values agree",
                          "actual": f"policy {mode.get('policy_name')}, local {mode.get('local_name')}",
                          "source": "policy", "gpo_overrides_local_fix": True})
        if servers.get("policy") is not None and servers.get("local") is not None and \
                _names(servers["policy"]) != _names(servers["local"]):
            items.append({"setting": "license_servers_policy_conflict", "expected": "local and policy values agree",
                          "actual": f"policy {servers['policy']}, local {servers['local']}",
                          "source": "policy", "gpo_overrides_local_fix": True})
    minimum = baseline.get("min_grace_days")
    grace = report.get("grace_period") or {}
    configured = state_reader.is_configured(mode, servers)
    if minimum is not None and grace.get("state") not in (None, "not_applicable") and not configured and \
            (grace.get("days_left") is None or grace["days_left"] < int(minimum)):
        items.append({"setting": "grace_days", "expected": f">= {minimum} days while licensing is not configured",
                      "actual": grace.get("days_left"), "source": "wmi", "gpo_overrides_local_fix": False})
    return items


GRACE_CLASSES = ("ok", "warning", "critical", "unknown")


def grace_class(report: dict[str, t.Any], warning_days: int, critical_days: int) -> str:
    """ok / warning / critical / unknown for a host's grace period. Once licensing is configured
    (a licensed mode and a server), 0 days left is the normal state, so the host is ok."""
    grace = report.get("grace_period") or {}
    state = grace.get("state")
    if state == "not_applicable":
        return "ok"
    if state_reader.is_configured(report.get("mode"), report.get("license_servers")):
        return "ok"
    days = grace.get("days_left")
    if state == "unknown" or days is None:
        return "unknown"
    if days <= critical_days:
        return "critical"
    if days <= warning_days:
        return "warning"
    return "ok"
