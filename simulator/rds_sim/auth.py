"""HTTP authentication of one client connection, as a Windows WinRM listener does it.

Basic is checked on every request. NTLM (offered as `WWW-Authenticate: Negotiate`, the scheme
Windows advertises) authenticates the TCP connection: negotiate → 401 with the challenge →
authenticate; the established context then identifies the connection's later requests and seals
their bodies (message encryption). pyspnego is the NTLM acceptor; it reads the account from the
file named by NTLM_USER_FILE, which the fleet's server process sets.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import typing as t

import spnego
import spnego.channel_bindings

_NTLM_SIGNATURE = b"NTLMSSP\x00"


@dataclasses.dataclass
class Outcome:
    """user: the authenticated user, or None with the 401 headers to send."""

    user: str | None
    challenge: list[str] = dataclasses.field(default_factory=list)


class ConnectionAuth:
    """What one connection has proved so far."""

    def __init__(self, channel_binding_hash: bytes | None = None):
        self._bindings = (spnego.channel_bindings.GssChannelBindings(
            application_data=b"tls-server-end-point:" + channel_binding_hash) if channel_binding_hash else None)
        self._pending: t.Any = None
        self.context: t.Any = None   # the established NTLM context (seals and unseals bodies)
        self.ntlm_user: str | None = None

    def authenticate(self, header: str, schemes: frozenset[str], username: str, password: str) -> Outcome:
        scheme, _, token = header.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic" and "basic" in schemes:
            return Outcome(username if _basic_matches(token, username, password) else None, _offers(schemes))
        if scheme in ("negotiate", "ntlm") and "negotiate" in schemes:
            return self._ntlm_step(token.strip(), scheme, schemes)
        if not header and self.context is not None and "negotiate" in schemes:
            return Outcome(self.ntlm_user)
        return Outcome(None, _offers(schemes))

    def _ntlm_step(self, token_text: str, scheme: str, schemes: frozenset[str]) -> Outcome:
        try:
            token = base64.b64decode(token_text, validate=True)
        except (binascii.Error, ValueError):
            return self.reject(schemes)
        if not token.startswith(_NTLM_SIGNATURE) or len(token) < 12:
            # Kerberos or SPNEGO-wrapped tokens: a workgroup host (what rds-sim models) has only NTLM.
            return self.reject(schemes)
        message_type = int.from_bytes(token[8:12], "little")
        try:
            if message_type == 1:
                self.context = None
                self._pending = spnego.server(protocol="ntlm", channel_bindings=self._bindings)
                challenge = self._pending.step(token)
                return Outcome(None, [f"{'NTLM' if scheme == 'ntlm' else 'Negotiate'} {base64.b64encode(challenge).decode()}"])
            if message_type == 3 and self._pending is not None:
                self._pending.step(token)
                if self._pending.complete:
                    self.context, self._pending = self._pending, None
                    self.ntlm_user = str(self.context.client_principal or "").split("\\")[-1]
                    return Outcome(self.ntlm_user)
        except spnego.exceptions.SpnegoError:
            pass  # a wrong password, a bad channel binding or a malformed token: 401, as Windows answers
        return self.reject(schemes)

    def reject(self, schemes: frozenset[str]) -> Outcome:
        self._pending = None
        self.context = None
        self.ntlm_user = None
        return Outcome(None, _offers(schemes))


def _offers(schemes: frozenset[str]) -> list[str]:
    offers = []
    if "negotiate" in schemes:
        offers.append("Negotiate")
    if "basic" in schemes:
        offers.append('Basic realm="WSMAN"')
    return offers


def _basic_matches(token: str, username: str, password: str) -> bool:
    try:
        user, _, given = base64.b64decode(token.strip()).decode("utf-8").partition(":")
    except ValueError:
        return False
    return user == username and given == password


def user_file_line(username: str, password: str) -> str:
    """The NTLM_USER_FILE line of the fleet's account (Heimdal format DOMAIN:USER:PASSWORD); an empty
    domain matches a client that sends the bare user name, as a local account on Windows does."""
    return f":{username}:{password}\n"
