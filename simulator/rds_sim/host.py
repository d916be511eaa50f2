"""One simulated Windows host: its registry, the facts WMI and services report, its faults and
its operation counters. WMI answers are derived from the registry, as on a real host."""

from __future__ import annotations

import base64
import hashlib
import math
import threading
import time
import typing as t

from rds_sim import acl, filtered_token, scenarios
from rds_sim.registry import Registry, real_path

COUNTERS = ("shells", "commands", "reads", "writes", "restarts", "held_writes", "bytes_in", "bytes_out", "sealed_requests",
            "longest_command_line")
# Services that Windows stops with TermService because they depend on it.
DEPENDENTS = {"termservice": ["UmRdpService"]}
LICENSING_NAMES = {2: "Per device", 4: "Per user", 5: "Not configured", 6: "AAD Per User"}


class SimulatedFailure(Exception):
    """An agent operation failure with one of the protocol's error kinds. WMI failures also carry what
    Windows puts in the CimException: MSFT_WmiError.error_Code (hresult) and the MI result (native_error)."""

    def __init__(self, kind: str, message: str | None, hresult: str | None = None, native_error: str | None = None,
                 extra: dict[str, t.Any] | None = None, reason: str | None = None, detail: t.Any = None):
        super().__init__(message or reason)
        self.kind = kind
        self.message = message
        self.hresult = hresult
        self.native_error = native_error
        self.extra = extra or {}
        self.reason = reason
        self.detail = detail

    def error(self, path: str | None) -> dict[str, t.Any]:
        """The agent's error object for this failure: what .NET said (message), or a reason and its detail."""
        error: dict[str, t.Any] = {"kind": self.kind, "message": self.message, "path": path, "reason": self.reason, "detail": self.detail}
        if self.native_error is not None:
            error.update(hresult=self.hresult, native_error=self.native_error)
        return error


def refusal(kind: str, reason: str, path: str | None = None, detail: t.Any = None) -> dict[str, t.Any]:
    """A failed operation the agent detects itself: a reason and its values, which the controller words."""
    return {"ok": False, "error": {"kind": kind, "message": None, "path": path, "reason": reason, "detail": detail}}


# What Windows answers when a CIM call is refused, or the class is not registered (WBEM_E_ACCESS_DENIED,
# WBEM_E_INVALID_CLASS); the agent reports the first as access_denied and the second as "not installed".
WMI_DENIED = SimulatedFailure("access_denied", "Access denied ", "0x80041003", "AccessDenied")
GRACE_KEY_LOCKED_SDDL = "O:NSG:SYD:PAI(A;CI;KA;;;NS)(A;CI;KA;;;SY)"


class Host:
    def __init__(self, state: dict[str, t.Any]):
        self.name: str = state["name"]
        self.scenario: str = state.get("scenario", "")
        self.registry = Registry(state.get("registry"))
        self.facts: dict[str, t.Any] = state.get("facts", {})
        self.faults: dict[str, t.Any] = state.get("faults", {})
        self.counters = {name: 0 for name in COUNTERS}
        self.lock = threading.Lock()
        # Set by writes so the fleet persists the state once the command ends.
        self.dirty = False

    def to_state(self) -> dict[str, t.Any]:
        return {"name": self.name, "scenario": self.scenario, "registry": self.registry.to_tree(),
                "facts": self.facts, "faults": self.faults}

    def count(self, counter: str, amount: int = 1) -> None:
        self.counters[counter] += amount

    def count_max(self, counter: str, value: int) -> None:
        self.counters[counter] = max(self.counters[counter], value)

    # Faults -----------------------------------------------------------------------------------
    def grace_key_locked(self) -> bool:
        """The GracePeriod ACL variant without any Administrators ACE (reported for 2022/2025): an
        elevated administrator cannot read the key, its values or its owner and DACL."""
        return self.facts.get("grace_acl") == "no_admin_ace"

    def not_elevated(self) -> bool:
        """The not_elevated fault: the agent runs with a UAC-filtered (or a standard user's) token."""
        return bool(self.faults.get("not_elevated"))

    def key_dacl(self, path: str, view: int) -> str:
        """The DACL a key has (or would inherit, if it does not exist yet): the GracePeriod key's own, or the
        modelled registry ACLs (acl.py)."""
        target = real_path(path, view).lower()
        grace = scenarios.GRACE_KEY.lower()
        if target == grace or target.startswith(grace + "\\"):
            return self.grace_sddl()
        return acl.effective(self.facts.get("key_acl") or {}, self.registry.display(path, view))

    def check_access(self, path: str, view: int) -> None:
        """The access_denied fault: every key at or below one of the listed paths is unreadable; so is
        the GracePeriod key in its locked ACL variant, and any key whose DACL a filtered token cannot read."""
        target = real_path(path, view).lower()
        grace = scenarios.GRACE_KEY.lower()
        if self.grace_key_locked() and (target == grace or target.startswith(grace + "\\")):
            raise SimulatedFailure("access_denied", "Requested registry access is not allowed.")
        if self.not_elevated() and not filtered_token.allows(self.key_dacl(path, view), write=False):
            raise SimulatedFailure("access_denied", "Requested registry access is not allowed.")
        for denied in self.faults.get("access_denied", []):
            prefix = real_path(denied, 64).lower()
            if target == prefix or target.startswith(prefix + "\\"):
                raise SimulatedFailure("access_denied", "Requested registry access is not allowed.")

    def check_write_access(self, path: str, view: int, opened: bool = False) -> None:
        """Read access first, then the write_denied fault: readable keys that refuse writes. The
        GracePeriod key refuses writes too, as on a real host, until ownership is taken."""
        self.check_access(path, view)
        target = real_path(path, view).lower()
        grace = scenarios.GRACE_KEY.lower()
        # HKLM\SYSTEM and HKLM\SOFTWARE\Policies grant write to Administrators and SYSTEM only; a filtered token
        # holds Administrators as deny-only. CreateSubKey says UnauthorizedAccessException naming the key; opening an
        # existing key for writing (OpenSubKey, DeleteSubKeyTree: opened) a SecurityException.
        if self.not_elevated() and not filtered_token.allows(self.key_dacl(path, view), write=True):
            raise SimulatedFailure("access_denied", "Requested registry access is not allowed." if opened else
                                   f"Access to the registry key 'HKEY_LOCAL_MACHINE\\{real_path(path, view)}' is denied.")
        if target == grace or target.startswith(grace + "\\"):
            raise SimulatedFailure(
                "access_denied", f"Access to the registry key 'HKEY_LOCAL_MACHINE\\{real_path(path, view)}' is denied.")
        for denied in self.faults.get("write_denied", []):
            prefix = real_path(denied, 64).lower()
            if target == prefix or target.startswith(prefix + "\\"):
                raise SimulatedFailure(
                    "access_denied", f"Access to the registry key 'HKEY_LOCAL_MACHINE\\{real_path(path, view)}' is denied.")

    def _rearm_grace_period(self) -> None:
        """TermService writes a new timebomb (a new 120 days) when it starts and finds none."""
        if self.is_rdsh() and self.registry.key_exists(scenarios.GRACE_KEY) and \
                self.registry.get_value(scenarios.GRACE_KEY, scenarios.TIMEBOMB_VALUE) is None:
            blob = base64.b64encode(hashlib.sha256(f"{self.name}{time.time()}".encode()).digest() * 7).decode()
            self.registry.set_value(scenarios.GRACE_KEY, scenarios.TIMEBOMB_VALUE, "binary", blob)
            self.facts["grace_expiry"] = time.time() + 120 * scenarios.DAY

    def start_term_service(self) -> None:
        """What TermService does when it starts (restarted, or at boot)."""
        self._rearm_grace_period()

    def grace_sddl(self) -> str:
        """The GracePeriod key's owner and DACL: NETWORK SERVICE owns it, Administrators may only read
        (or, in the locked variant, have no ACE at all)."""
        default = GRACE_KEY_LOCKED_SDDL if self.grace_key_locked() else "O:NSG:SYD:PAI(A;CI;KA;;;NS)(A;CI;KA;;;SY)(A;CI;KR;;;BA)"
        return self.facts.get("grace_sddl", default)

    # Services -----------------------------------------------------------------------------------
    def restart_service(self, name: str) -> dict[str, t.Any]:
        services = self.facts.setdefault("services", {})
        actual = next((svc for svc in services if svc.lower() == name.lower()), None)
        if actual is None:
            raise SimulatedFailure("not_found", f"Cannot open {name} service on computer '.'.")
        if self.not_elevated():
            # A filtered token may query the service but not stop it: ServiceController.Stop cannot open it with
            # SERVICE_STOP (Win32 error 5); the agent's one more start finds it as it was, nothing restarted.
            cause = f"Cannot open {actual} service on computer '.'. (Access is denied)"
            raise SimulatedFailure("service_error", None, reason="restart", detail=[actual, cause, services[actual]],
                                   extra={"services": {actual: {"status": services[actual], "restarted_dependents": []}}})
        dependents = [svc for svc in DEPENDENTS.get(actual.lower(), []) if services.get(svc) == "Running"]
        if self.faults.get("start_fails"):
            # ServiceController.Stop stops the running dependents too; then Start fails (ERROR_SERVICE_DISABLED
            # or a crashing service), and so does the agent's second attempt: everything is left stopped.
            for svc in [actual, *dependents]:
                services[svc] = "Stopped"
            self.dirty = True
            cause = (f"Cannot start service {actual} on computer '.'. (The service cannot be started, "
                     "either because it is disabled or because it has no enabled devices associated with it)")
            raise SimulatedFailure("service_error", None, reason="restart", detail=[actual, cause, "Stopped"],
                                   extra={"services": {actual: {"status": "Stopped", "restarted_dependents": []}}})
        if actual.lower() == "termservice":
            self.start_term_service()
        restarts = self.facts.setdefault("service_restarts", {})
        for svc in [actual, *dependents]:
            services[svc] = "Running"
            restarts[svc] = restarts.get(svc, 0) + 1
        self.count("restarts")
        self.dirty = True
        return {"status": "Running", "restarted_dependents": dependents}

    # WMI, derived from the registry --------------------------------------------------------------
    def _dword(self, path: str, name: str) -> int | None:
        value = self.registry.get_value(path, name)
        return value["data"] if value and value["type"] == "dword" else None

    def effective_mode(self) -> tuple[int, bool]:
        policy = self._dword(scenarios.POLICY_KEY, "LicensingMode")
        if policy is not None:
            return policy, True
        local = self._dword(scenarios.LICENSING_CORE_KEY, "LicensingMode")
        return (local if local is not None else 5), False

    def effective_servers(self) -> tuple[list[str], bool]:
        policy = self.registry.get_value(scenarios.POLICY_KEY, "LicenseServers")
        if policy and policy["type"] in ("string", "expandstring"):
            return [item.strip() for item in policy["data"].split(",") if item.strip()], True
        local = self.registry.get_value(scenarios.LICENSE_SERVERS_KEY, "SpecifiedLicenseServers")
        return (list(local["data"]) if local and local["type"] == "multistring" else []), False

    def is_rdsh(self) -> bool:
        return self._dword(scenarios.RDSH_COMPONENT_KEY, "InstallState") == 1

    def grace_days_left(self, now: float | None = None) -> int:
        """GetGracePeriodDays; its failures are CIM errors whose code is in MSFT_WmiError.error_Code."""
        if self.faults.get("wmi_grace"):
            raise SimulatedFailure("wmi_error", "The system cannot find the file specified. ", "0x80070002", "Failed")
        if not self.is_rdsh():
            raise SimulatedFailure("wmi_error", "Not supported ", "0x8004100C", "NotSupported")
        timebomb = self.registry.get_value(scenarios.GRACE_KEY, scenarios.TIMEBOMB_VALUE)
        expiry = self.facts.get("grace_expiry")
        if timebomb is None or expiry is None:
            raise SimulatedFailure("wmi_error", "The system cannot find the file specified. ", "0x80070002", "Failed")
        return max(0, math.ceil((expiry - (now or time.time())) / scenarios.DAY))


def _cim_answer(failure: SimulatedFailure, what: str) -> dict[str, t.Any]:
    """The agent's answer to a failed Get-CimInstance: only a missing namespace or class means "not installed"."""
    if failure.native_error in ("InvalidNamespace", "InvalidClass"):
        return {"ok": True, "exists": False, "reason": str(failure), "hresult": failure.hresult, "native_error": failure.native_error}
    return {"ok": False, "error": failure.error(what)}
