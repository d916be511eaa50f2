"""rds-sim's transport security pieces against the client libraries Ansible uses: NTLM message
sealing in WinRM's MIME layout, channel binding hashes, certificates and inventory variables."""

from __future__ import annotations

import ssl

import pytest
import spnego
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from requests_ntlm.requests_ntlm import _get_certificate_hash

from rds_sim import message_encryption, tls, transports
from rds_sim.auth import ConnectionAuth, user_file_line


@pytest.fixture()
def user_file(tmp_path, monkeypatch):
    path = tmp_path / "ntlm-users"
    path.write_text(user_file_line("ansible", "S3cret-pass"))
    monkeypatch.setenv("NTLM_USER_FILE", str(path))
    return path


def handshake(auth: ConnectionAuth, password: str, schemes=frozenset({"negotiate"})):
    """An NTLM client (as requests_ntlm builds it) against the connection's acceptor."""
    import base64

    client = spnego.client("ansible", password, protocol="ntlm", hostname="127.0.0.1", service="http",
                           options=spnego.NegotiateOptions.use_ntlm)
    first = auth.authenticate("Negotiate " + base64.b64encode(client.step()).decode(), schemes, "ansible", "S3cret-pass")
    assert first.user is None and first.challenge[0].startswith("Negotiate ")
    challenge = base64.b64decode(first.challenge[0].split(" ", 1)[1])
    final = auth.authenticate("Negotiate " + base64.b64encode(client.step(challenge)).decode(), schemes, "ansible",
                              "S3cret-pass")
    return client, final


def test_ntlm_handshake_authenticates_the_connection_and_seals_both_ways(user_file):
    auth = ConnectionAuth()
    client, outcome = handshake(auth, "S3cret-pass")
    assert outcome.user == "ansible"
    # Later requests on the connection carry no Authorization header: the connection is known.
    assert auth.authenticate("", frozenset({"negotiate"}), "ansible", "S3cret-pass").user == "ansible"
    envelope = b"<s:Envelope>" + b"x" * 5000 + b"</s:Envelope>"
    sealed_by_client = client.wrap_winrm(envelope)
    body = (message_encryption.BOUNDARY + b"\r\n\tContent-Type: " + message_encryption.PROTOCOL.encode()
            + b"\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=" + str(len(envelope)).encode()
            + b"\r\n" + message_encryption.BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n"
            + len(sealed_by_client.header).to_bytes(4, "little") + sealed_by_client.header + sealed_by_client.data
            + message_encryption.BOUNDARY + b"--\r\n")
    assert envelope not in body
    assert message_encryption.unwrap(auth.context, body) == envelope
    answer = message_encryption.wrap(auth.context, b"<answer/>")
    assert b"<answer/>" not in answer
    part = answer.split(b"application/octet-stream\r\n", 1)[1]
    length = int.from_bytes(part[:4], "little")
    assert client.unwrap_winrm(part[4:4 + length], part[4 + length:4 + length + 9]) == b"<answer/>"


def test_a_tampered_message_is_refused(user_file):
    auth = ConnectionAuth()
    client, _ = handshake(auth, "S3cret-pass")
    sealed = client.wrap_winrm(b"<s:Envelope/>")
    body = (message_encryption.BOUNDARY + b"\r\n\tOriginalContent: type=application/soap+xml;Length=13\r\n"
            + message_encryption.BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n"
            + (16).to_bytes(4, "little") + sealed.header + bytes([sealed.data[0] ^ 1]) + sealed.data[1:])
    with pytest.raises(message_encryption.EncryptionError, match="could not be unsealed"):
        message_encryption.unwrap(auth.context, body)


def test_a_wrong_password_is_refused_with_a_new_challenge_offer(user_file):
    auth = ConnectionAuth()
    _client, outcome = handshake(auth, "wrong")
    assert outcome.user is None and outcome.challenge == ["Negotiate"]
    assert auth.context is None


def test_basic_is_only_accepted_where_the_transport_allows_it():
    import base64

    header = "Basic " + base64.b64encode(b"ansible:pw").decode()
    assert ConnectionAuth().authenticate(header, frozenset({"basic"}), "ansible", "pw").user == "ansible"
    refused = ConnectionAuth().authenticate(header, frozenset({"negotiate"}), "ansible", "pw")
    assert refused.user is None and refused.challenge == ["Negotiate"]


def test_channel_binding_hash_matches_what_the_ntlm_client_computes(tmp_path):
    paths = tls.self_signed(str(tmp_path))
    der = x509.load_pem_x509_certificate(open(paths["cert"], "rb").read()).public_bytes(serialization.Encoding.DER)
    assert tls.channel_binding_hash(paths["cert"]) == _get_certificate_hash(der)


def test_ca_signed_certificate_verifies_against_the_ca_for_127_0_0_1(tmp_path):
    paths = tls.ca_signed(str(tmp_path))
    client = ssl.create_default_context(cafile=paths["ca"])
    server = tls.server_context(paths["cert"], paths["key"])
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    client_in, client_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_side = server.wrap_bio(incoming, outgoing, server_side=True)
    client_side = client.wrap_bio(client_in, client_out, server_hostname="127.0.0.1")
    for _ in range(10):  # pump the handshake between the two ends until both are done
        for side in (client_side, server_side):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
        incoming.write(client_out.read())
        client_in.write(outgoing.read())
    assert client_side.getpeercert()["subjectAltName"] == (("DNS", "localhost"), ("IP Address", "127.0.0.1"))


def test_inventory_variables_of_each_transport():
    meta = {"listeners": {"http": 1, "https": 2, "https-ca": 3}, "tls": {"https-ca": {"ca": "/f/tls/ca.pem"}}}
    assert transports.inventory_vars("ntlm", meta) == {
        "ansible_port": 1, "ansible_winrm_scheme": "http", "ansible_winrm_transport": "ntlm",
        "ansible_winrm_message_encryption": "auto"}
    assert transports.inventory_vars("https", meta)["ansible_winrm_server_cert_validation"] == "ignore"
    assert transports.inventory_vars("https-ca", meta) == {
        "ansible_port": 3, "ansible_winrm_scheme": "https", "ansible_winrm_transport": "ntlm",
        "ansible_winrm_server_cert_validation": "validate", "ansible_winrm_ca_trust_path": "/f/tls/ca.pem"}
    with pytest.raises(ValueError, match="unknown transport 'kerberos': use one of basic, ntlm, https, https-ca"):
        transports.parse_host_transport("fresh-01=kerberos")
