"""The demo integration's key pair for the OAuth 2.0 client credentials flow: a private key for the client and a
self-signed certificate for the account, made once in the data directory and reused afterwards.

The same files an operator makes for a real account (section_162790605110.html: RSA 3072/4096 or EC P-256/384/521,
e.g. `openssl req -new -x509 -newkey rsa:3072 -keyout private.pem -out public.pem -nodes -days 365`) and uploads
under Setup > Integration > OAuth 2.0 Client Credentials (M2M) Setup. NetSuite refuses certificates valid for more
than two years, so the demo one is valid for one.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

VALID_DAYS = 365


def paths(directory) -> dict:
    directory = Path(directory)
    return {"dir": directory, "key": directory / "m2m_private.pem", "certificate": directory / "m2m_public.pem"}


def ensure_key_pair(directory, common_name: str = "Integration Hub") -> dict:
    files = paths(directory)
    if files["key"].exists() and files["certificate"].exists():
        return files
    files["dir"].mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .sign(key, hashes.SHA256())
    )
    # The key is a secret: readable by its owner only, and written before anyone can open the file.
    descriptor = os.open(files["key"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    files["certificate"].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return files
