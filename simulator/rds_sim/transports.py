"""The WinRM transports a simulated host can be reached over, and what each means for the listener,
the authentication it accepts and the inventory variables of Ansible's unmodified winrm connection.

Hosts are told apart by URL path, so all hosts of one listener share its port: one plain HTTP
listener (basic and ntlm hosts, and the control API), one HTTPS listener with a self-signed
certificate, one HTTPS listener with a certificate signed by the fleet's CA.
"""

from __future__ import annotations

import dataclasses
import typing as t


@dataclasses.dataclass(frozen=True)
class Transport:
    name: str
    listener: str            # "http", "https" or "https-ca"
    schemes: frozenset[str]  # HTTP authentication schemes the host accepts ("basic", "negotiate")
    requires_encryption: bool  # AllowUnencrypted=false on a plain HTTP listener: bodies must be sealed
    description: str


TRANSPORTS: dict[str, Transport] = {transport.name: transport for transport in (
    Transport("basic", "http", frozenset({"basic"}), False,
              "Basic over plain HTTP (AllowUnencrypted=true, Auth/Basic=true): tests only"),
    Transport("ntlm", "http", frozenset({"negotiate"}), True,
              "NTLM over HTTP with WinRM message encryption (the Windows default: AllowUnencrypted=false)"),
    Transport("https", "https", frozenset({"negotiate", "basic"}), False,
              "NTLM (or Basic) over HTTPS with a self-signed certificate"),
    Transport("https-ca", "https-ca", frozenset({"negotiate", "basic"}), False,
              "NTLM (or Basic) over HTTPS with a certificate signed by the fleet's CA"),
)}
LISTENERS = ("http", "https", "https-ca")


def get(name: str) -> Transport:
    try:
        return TRANSPORTS[name]
    except KeyError:
        raise ValueError(f"unknown transport '{name}': use one of {', '.join(TRANSPORTS)}") from None


def parse_host_transport(text: str) -> tuple[str, str]:
    """HOST=TRANSPORT, e.g. fresh-01=ntlm."""
    host, _, name = text.partition("=")
    if not host or not name:
        raise ValueError(f"bad host transport '{text}': use HOST=TRANSPORT with TRANSPORT one of {', '.join(TRANSPORTS)}")
    return host, get(name).name


def inventory_vars(name: str, meta: dict[str, t.Any]) -> dict[str, t.Any]:
    """Connection variables for ansible-core's winrm plugin (pywinrm underneath) for one transport."""
    transport = get(name)
    variables: dict[str, t.Any] = {"ansible_port": meta["listeners"][transport.listener]}
    if name == "basic":
        variables.update(ansible_winrm_scheme="http", ansible_winrm_transport="basic")
    elif name == "ntlm":
        variables.update(ansible_winrm_scheme="http", ansible_winrm_transport="ntlm",
                         ansible_winrm_message_encryption="auto")
    elif name == "https":
        variables.update(ansible_winrm_scheme="https", ansible_winrm_transport="ntlm",
                         ansible_winrm_server_cert_validation="ignore")
    else:
        variables.update(ansible_winrm_scheme="https", ansible_winrm_transport="ntlm",
                         ansible_winrm_server_cert_validation="validate",
                         ansible_winrm_ca_trust_path=meta["tls"]["https-ca"]["ca"])
    return variables


def endpoint(name: str, meta: dict[str, t.Any], host: str) -> str:
    """The WS-Management URL of a host over its transport."""
    transport = get(name)
    scheme = "http" if transport.listener == "http" else "https"
    return f"{scheme}://127.0.0.1:{meta['listeners'][transport.listener]}/wsman/{host}"
