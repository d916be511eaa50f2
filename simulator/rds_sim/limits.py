"""WinRM's own quotas, with Windows' defaults ("Installation and configuration for Windows Remote
Management"; [MS-WSMV] 2.2.4.10 and 2.2.4.42), and the faults Windows answers when one is hit.

Per host and per user: MaxEnvelopeSizekb (a larger request is refused), MaxShellsPerUser (the next
Create is refused), MaxConcurrentOperationsPerUser (open shells and commands together) and the
winrs IdleTimeout (a shell unused for longer is closed by the service).
"""

from __future__ import annotations

import dataclasses
import typing as t

# WSManFault codes (winerror.h ERROR_WSMAN_*).
CODE_ENVELOPE_LIMIT = 2150858825      # ERROR_WSMAN_SERVER_ENVELOPE_LIMIT (0x80338049)
CODE_SHELL_QUOTA = 2150859173         # 0x803381A5, MaxShellsPerUser
CODE_OPERATION_QUOTA = 2150859174     # 0x803381A6, MaxConcurrentOperationsPerUser
CODE_SHELL_NOT_FOUND = 2150858843     # 0x8033805B, with the "shell was not found" text
CODE_OPERATION_TIMEOUT = 2150858793   # 0x80338029: Receive found no output in time (clients retry on it)


@dataclasses.dataclass(frozen=True)
class Limits:
    max_envelope_kb: int = 500
    max_shells_per_user: int = 30
    max_operations_per_user: int = 1500
    idle_timeout_ms: int = 7_200_000

    @classmethod
    def from_meta(cls, data: dict[str, t.Any] | None) -> "Limits":
        return cls(**(data or {}))

    def validate(self) -> "Limits":
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"limit {field.name} must be a positive whole number, got {value!r}")
        return self


@dataclasses.dataclass(frozen=True)
class Fault:
    """A WS-Management fault: SOAP subcode, WSManFault code and message."""

    subcode: str
    code: int
    message: str
    sender: bool = False  # s:Sender (the request is wrong) rather than s:Receiver


def envelope_too_large(size: int, limits: Limits) -> Fault:
    return Fault("w:EncodingLimit", CODE_ENVELOPE_LIMIT,
                 f"The WS-Management service cannot process the request because the request packet ({size} bytes) is "
                 f"larger than the maximum envelope size the service accepts (MaxEnvelopeSizekb = "
                 f"{limits.max_envelope_kb}).", sender=True)


def shell_quota(limits: Limits) -> Fault:
    return Fault("w:QuotaLimit", CODE_SHELL_QUOTA,
                 f"The WS-Management service cannot process the request. This user is allowed a maximum number of "
                 f"{limits.max_shells_per_user} concurrent shells, which has been exceeded. Close existing shells or "
                 "raise the quota for this user.")


def operation_quota(limits: Limits) -> Fault:
    return Fault("w:QuotaLimit", CODE_OPERATION_QUOTA,
                 f"The WS-Management service cannot process the request. This user is allowed a maximum number of "
                 f"{limits.max_operations_per_user} concurrent operations, which has been exceeded. Close existing "
                 "operations for this user, or raise the quota for this user.")


def shell_not_found(shell_id: str) -> Fault:
    return Fault("w:InvalidSelectors", CODE_SHELL_NOT_FOUND,
                 f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell was not "
                 "found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer "
                 "exists on the server. Provide the correct ShellId or create a new shell and execute the command again.",
                 sender=True)


def operation_timeout() -> Fault:
    return Fault("w:TimedOut", CODE_OPERATION_TIMEOUT,
                 "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.")


def parse_duration(text: str, default: float) -> float:
    """Seconds of an xs:duration such as PT20S or PT60.000S (the forms WinRM clients send)."""
    text = (text or "").strip().upper()
    if not text.startswith("PT") or not text.endswith("S"):
        return default
    try:
        return float(text[2:-1])
    except ValueError:
        return default
