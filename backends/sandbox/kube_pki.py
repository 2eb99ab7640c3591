"""The sandbox cluster's certificates, made the way k3s makes its own: a server CA that signs the API
server's certificate, a client CA that signs the users' certificates (CN = user, O = groups).

Faults that break TLS are certificates too: a CA the server does not use, a server certificate for
another name, a client certificate that has expired or that another CA signed.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

#: the names k3s puts into its serving certificate (the forward reaches it as 127.0.0.1 too)
SERVER_NAMES = ("kubernetes", "kubernetes.default", "kubernetes.default.svc", "localhost")
SERVER_IPS = ("127.0.0.1", "10.43.0.1")


@dataclass(frozen=True)
class Pem:
    cert: bytes
    key: bytes


@dataclass(frozen=True)
class Authority:
    name: str
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    # k3s writes its keys as "EC PRIVATE KEY" (SEC1): so do we
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def new_authority(common_name: str) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    return Authority(common_name, key, cert)


def _issue(
    ca: Authority,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    *,
    names: tuple[str, ...] = (),
    ips: tuple[str, ...] = (),
    expired: bool = False,
) -> Pem:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    start, end = (
        (now - dt.timedelta(days=400), now - dt.timedelta(days=35))
        if expired
        else (
            now - dt.timedelta(days=1),
            now + dt.timedelta(days=365),
        )
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if names or ips:
        alt: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
        alt += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    return Pem(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def server_certificate(
    ca: Authority, names: tuple[str, ...] = SERVER_NAMES, ips: tuple[str, ...] = SERVER_IPS
) -> Pem:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "k3s")])
    return _issue(ca, subject, ExtendedKeyUsageOID.SERVER_AUTH, names=names, ips=ips)


def client_certificate(
    ca: Authority, user: str, groups: tuple[str, ...] = (), *, expired: bool = False
) -> Pem:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    subject = x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, user)])
    return _issue(ca, subject, ExtendedKeyUsageOID.CLIENT_AUTH, expired=expired)
