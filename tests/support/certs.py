"""Certificates made at test time: a CA, a server certificate for 127.0.0.1 and a client one."""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class Certificates:
    ca: bytes
    server_cert: bytes
    server_key: bytes
    client_cert: bytes
    client_key: bytes


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _certificate(
    subject: str, key, issuer_name, issuer_key, ca: bool, san=None
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_certificates() -> Certificates:
    ca_key, server_key, client_key = _key(), _key(), _key()
    ca = _certificate("test CA", ca_key, None, ca_key, ca=True)
    san = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server = _certificate("localhost", server_key, ca.subject, ca_key, ca=False, san=san)
    client = _certificate("client", client_key, ca.subject, ca_key, ca=False)
    pem = lambda cert: cert.public_bytes(serialization.Encoding.PEM)  # noqa: E731
    return Certificates(
        pem(ca), pem(server), _pem_key(server_key), pem(client), _pem_key(client_key)
    )


def write_ssl_config(folder: Path, certs: Certificates, client_verify: bool) -> Path:
    """An SSLConfig text proto, as --ssl_config_file takes it (PEM contents inline)."""

    def quoted(data: bytes) -> str:
        return '"' + data.decode().replace("\n", "\\n") + '"'

    path = folder / ("ssl_mtls.config" if client_verify else "ssl.config")
    path.write_text(
        f"server_key: {quoted(certs.server_key)}\nserver_cert: {quoted(certs.server_cert)}\n"
        f"custom_ca: {quoted(certs.ca)}\nclient_verify: {'true' if client_verify else 'false'}\n"
    )
    return path
