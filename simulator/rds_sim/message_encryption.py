"""WinRM message encryption over HTTP ([MS-WSMV] 2.2.9.1.1, Negotiate/NTLM): each SOAP envelope
travels sealed with the connection's NTLM session key inside a two-part MIME body.

    --Encrypted Boundary
    	Content-Type: application/HTTP-SPNEGO-session-encrypted
    	OriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plain length>
    --Encrypted Boundary
    	Content-Type: application/octet-stream
    <signature length, 4 bytes LE><signature><sealed envelope>--Encrypted Boundary--

The sealing itself (RC4 + HMAC-MD5 signature with sequence numbers) is pyspnego's
`wrap_winrm`/`unwrap_winrm` on the acceptor context.
"""

from __future__ import annotations

import re
import struct
import typing as t

PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
BOUNDARY = b"--Encrypted Boundary"
CONTENT_TYPE = f'multipart/encrypted;protocol="{PROTOCOL}";boundary="Encrypted Boundary"'
_OCTET_HEADER = b"\tContent-Type: application/octet-stream\r\n"
_LENGTH = re.compile(rb"OriginalContent:\s*type=[^\r\n]*?Length=(\d+)", re.IGNORECASE)


class EncryptionError(Exception):
    """The body claims to be encrypted but cannot be read with this connection's context."""


class SealingContext(t.Protocol):
    def wrap_winrm(self, data: bytes) -> t.Any: ...

    def unwrap_winrm(self, header: bytes, data: bytes) -> bytes: ...


def is_encrypted(content_type: str) -> bool:
    return content_type.lower().startswith("multipart/encrypted") and PROTOCOL.lower() in content_type.lower()


def unwrap(context: SealingContext, body: bytes) -> bytes:
    """The SOAP envelope inside an encrypted body (signature checked, length checked)."""
    match = _LENGTH.search(body)
    start = body.find(_OCTET_HEADER)
    if not body.startswith(BOUNDARY) or match is None or start < 0:
        raise EncryptionError("the multipart/encrypted body is not in the WinRM layout")
    length = int(match.group(1))
    start += len(_OCTET_HEADER)
    if len(body) < start + 4:
        raise EncryptionError("the encrypted part is empty")
    (signature_length,) = struct.unpack("<I", body[start:start + 4])
    signature = body[start + 4:start + 4 + signature_length]
    sealed = body[start + 4 + signature_length:start + 4 + signature_length + length]
    if len(sealed) != length:
        raise EncryptionError(f"the encrypted part holds {len(sealed)} bytes, OriginalContent says {length}")
    try:
        plain = context.unwrap_winrm(signature, sealed)
    except Exception as exc:  # pyspnego raises its own error types for a bad signature or sequence number
        raise EncryptionError(f"the message could not be unsealed: {exc}") from exc
    if len(plain) != length:
        raise EncryptionError("the unsealed message length differs from OriginalContent")
    return plain


def wrap(context: SealingContext, envelope: bytes) -> bytes:
    """An encrypted body carrying envelope, sealed with the connection's context."""
    sealed = context.wrap_winrm(envelope)
    return (
        BOUNDARY + b"\r\n"
        + f"\tContent-Type: {PROTOCOL}\r\n".encode()
        + f"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={len(envelope)}\r\n".encode()
        + BOUNDARY + b"\r\n" + _OCTET_HEADER
        + struct.pack("<I", len(sealed.header)) + sealed.header + sealed.data
        + BOUNDARY + b"--\r\n"
    )
