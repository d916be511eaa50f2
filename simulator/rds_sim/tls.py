"""Certificates for the HTTPS listeners: a self-signed one, and a CA with a server certificate it
signed (what an internal PKI gives a Windows host), both valid for 127.0.0.1 and localhost."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=30)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rds-sim"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> rsa.RSAPrivateKey:
    # RSA 2048 is what New-SelfSignedCertificate and most internal CAs issue for WinRM listeners.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _write(path: str, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _server_certificate(key: rsa.RSAPrivateKey, issuer: x509.Name, issuer_key: rsa.RSAPrivateKey,
                        subject: x509.Name) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def self_signed(directory: str) -> dict[str, str]:
    """A self-signed server certificate (as `New-SelfSignedCertificate` makes): cert and key paths."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    key = _key()
    subject = _name("127.0.0.1")
    certificate = _server_certificate(key, subject, key, subject)
    paths = {"cert": os.path.join(directory, "self-signed.pem"), "key": os.path.join(directory, "self-signed.key")}
    _write(paths["cert"], certificate.public_bytes(serialization.Encoding.PEM))
    _write(paths["key"], _pem_key(key))
    return paths


def ca_signed(directory: str) -> dict[str, str]:
    """A CA certificate and a server certificate it signed: ca, cert and key paths."""
    os.makedirs(directory, mode=0o700, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = _key()
    ca_name = _name("rds-sim test CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = _key()
    certificate = _server_certificate(key, ca_name, ca_key, _name("127.0.0.1"))
    paths = {"ca": os.path.join(directory, "ca.pem"), "cert": os.path.join(directory, "ca-signed.pem"),
             "key": os.path.join(directory, "ca-signed.key")}
    _write(paths["ca"], ca.public_bytes(serialization.Encoding.PEM))
    _write(paths["cert"], certificate.public_bytes(serialization.Encoding.PEM))
    _write(paths["key"], _pem_key(key))
    os.chmod(paths["ca"], 0o644)  # the CA certificate is public: clients read it as their trust anchor
    return paths


def server_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def channel_binding_hash(cert_path: str) -> bytes:
    """RFC 5929 tls-server-end-point: the certificate hashed with its signature hash (MD5/SHA-1 → SHA-256).

    NTLM clients over HTTPS put this in their authenticate message (channel binding token); a
    Windows listener checks it when the client sends one (CbtHardeningLevel Relaxed)."""
    with open(cert_path, "rb") as handle:
        certificate = x509.load_pem_x509_certificate(handle.read())
    algorithm = certificate.signature_hash_algorithm
    if algorithm is None or isinstance(algorithm, (hashes.MD5, hashes.SHA1)):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(certificate.public_bytes(serialization.Encoding.DER))
    return digest.finalize()
