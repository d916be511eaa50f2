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

from ansible.module_utils.common.validation import check_type_int
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing as lic
from ansible_collections.remote_desktop.licensing.plugins.plugin_utils import _licensing_state as state_reader

BASELINE_KEYS = ("mode", "license_servers", "forbid_policy_conflicts", "min_grace_days")
GRACE_PERIOD_DAYS = 120


class BaselineError(ValueError):
    pass


def _names(servers: t.Any) -> list[str]:
    return [str(name).lower() for name in servers or []]


def text(value: t.Any) -> str:
    """A value as an administrator reads it: lists joined with commas, never a Python repr."""
    if value is None:
        return "(none)"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value) or "(none)"
    return str(value)


def normalise_baseline(baseline: dict[str, t.Any] | None) -> dict[str, t.Any]:
    """Refuse unknown settings, drop the ones left empty, and make license_servers a list."""
    unknown = set(baseline or {}) - set(BASELINE_KEYS)
    if unknown:
        raise BaselineError(f"unknown baseline setting(s) {', '.join(sorted(unknown))}; use {', '.join(BASELINE_KEYS)}")
    result = {key: value for key, value in (baseline or {}).items() if value is not None and value != ""}
    if "license_servers" in result:
        try:
            result["license_servers"] = lic.server_list(result["license_servers"])
        except ValueError as exc:
            raise BaselineError(f"baseline license_servers {exc}") from None
        for name in result["license_servers"]:
            problem = lic.server_name_problem(name)
            if problem:
                raise BaselineError(f"baseline license_servers {name!r} is not a valid license server name: {problem}")
    try:  # text from surveys and extra vars ("false", "14"), with ansible-core's own conversions
        if "forbid_policy_conflicts" in result:
            result["forbid_policy_conflicts"] = boolean(result["forbid_policy_conflicts"], strict=True)
        if "min_grace_days" in result:
            result["min_grace_days"] = check_type_int(result["min_grace_days"])
    except (TypeError, ValueError) as exc:
        raise BaselineError(f"baseline: {exc}") from None
    days = result.get("min_grace_days")
    if days is not None and not 0 <= days <= GRACE_PERIOD_DAYS:
        raise BaselineError(f"baseline min_grace_days is {days}; give a number of days from 0 to {GRACE_PERIOD_DAYS} "
                            f"(the grace period is {GRACE_PERIOD_DAYS} days), for example 14")
    return result


def drift(report: dict[str, t.Any], baseline: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    baseline = normalise_baseline(baseline)
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
                          "actual": f"policy {text(servers['policy'])}; local {text(servers['local'])}",
                          "source": "policy", "gpo_overrides_local_fix": True})
    minimum = baseline.get("min_grace_days")
    grace = report.get("grace_period") or {}
    configured = licensing_configured(report)
    if minimum is not None and grace.get("state") not in (None, "not_applicable") and not configured and \
            (grace.get("days_left") is None or grace["days_left"] < int(minimum)):
        items.append({"setting": "grace_days", "expected": f">= {minimum} days while licensing is not configured",
                      "actual": grace.get("days_left"), "source": "wmi", "gpo_overrides_local_fix": False})
    return items


GRACE_CLASSES = ("ok", "warning", "critical", "unknown", "unlicensed", "not_applicable")

# What each class means, for legends and notes a manager reads.
GRACE_MEANINGS = {
    "ok": "licensing configured (mode and license server) and grace days still left",
    "warning": "licensing not configured; the grace period ends within the warning threshold",
    "critical": "licensing not configured; the grace period ends within the critical threshold, or has ended",
    "unknown": "not verified: the grace period could not be read, or it has ended on a host whose licensing is "
               "configured and nobody checked that its license server issues CALs",
    "unlicensed": "licensing not configured; still in the grace period (new sessions stop when it ends)",
    "not_applicable": "not an RD Session Host; session licensing does not apply",
}


def licensing_configured(report: dict[str, t.Any]) -> bool:
    return state_reader.is_configured(report.get("mode"), report.get("license_servers"))


def threshold_problem(warning_days: int, critical_days: int) -> str | None:
    """Why a pair of grace thresholds cannot classify hosts, or None: critical is the band below warning."""
    if critical_days > warning_days:
        return (f"critical_days ({critical_days}) must not be more than warning_days ({warning_days}): hosts with at most "
                "critical_days grace days left are critical, those with at most warning_days are warned about; "
                "for example warning_days 30 and critical_days 7")
    return None


def grace_class(report: dict[str, t.Any], warning_days: int, critical_days: int) -> str:
    """The grace class of a host (GRACE_MEANINGS). Configuration alone never proves a host licensed:
    a configured host whose grace period has ended is "unknown" until its license server is checked."""
    grace = report.get("grace_period") or {}
    state = grace.get("state")
    if state == "not_applicable":
        return "not_applicable"
    days = grace.get("days_left")
    if state == "unknown" or days is None:
        return "unknown"
    if licensing_configured(report):
        return "ok" if days > 0 else "unknown"
    if days <= critical_days:
        return "critical"
    if days <= warning_days:
        return "warning"
    return "unlicensed"


def drift_line(host: str, items: list[dict[str, t.Any]]) -> str:
    """One line per host for the play's output: what drifted, expected and actual, or "no drift"."""
    if not items:
        return f"{host}: no drift"
    parts = [f"{item['setting']} is {text(item['actual'])}, expected {text(item['expected'])} ({item['source']}"
             f"{', Group Policy overrides a local fix' if item['gpo_overrides_local_fix'] else ''})" for item in items]
    return f"{host}: DRIFT {'; '.join(parts)}"


def drift_diff(host: str, items: list[dict[str, t.Any]]) -> dict[str, str]:
    """Expected versus actual as an Ansible diff (shown with --diff)."""
    return {"before_header": f"{host} (actual)", "after_header": "baseline (expected)",
            "before": "".join(f"{item['setting']}: {text(item['actual'])}\n" for item in items),
            "after": "".join(f"{item['setting']}: {text(item['expected'])}\n" for item in items)}
