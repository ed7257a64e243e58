"""A connected app's JWT signing key pair: an RSA private key for the client and a self-signed X.509 certificate
for the org, made once in a directory and reused afterwards.

The same two files that `openssl req -x509 -newkey rsa:2048 -nodes -keyout server.key -out server.crt` makes for a
real org (docs/production.md): the demo and the tests upload the certificate to the sandbox (`--jwt-certificate`)
and give the key to the hub, exactly as an operator would.
"""
import datetime as dt
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

VALID_DAYS = 3650


def paths(directory) -> dict:
    directory = Path(directory)
    return {"dir": directory, "key": directory / "server.key", "certificate": directory / "server.crt"}


def ensure_key_pair(directory, common_name: str = "Integration Hub") -> dict:
    files = paths(directory)
    if files["key"].exists() and files["certificate"].exists():
        return files
    files["dir"].mkdir(parents=True, exist_ok=True)
    # RS256 needs RSA; Salesforce asks for a key of at least 2048 bits.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
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
        key_file.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                         serialization.NoEncryption()))
    files["certificate"].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return files
