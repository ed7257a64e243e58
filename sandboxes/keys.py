"""A signing key pair for a demo login: a private key for the client and a self-signed X.509 certificate for the
remote system, made once in a directory and reused afterwards (the files an operator makes with `openssl req -x509
-newkey rsa:… -nodes`)."""
import datetime as dt
import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def key_pair_ensure(files: dict, *, key_size: int, valid_days: int, key_format: serialization.PrivateFormat,
                    common_name: str) -> dict:
    """Make files["key"] and files["certificate"] unless both exist; returns `files`."""
    if files["key"].exists() and files["certificate"].exists():
        return files
    Path(files["dir"]).mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=valid_days))
        .sign(key, hashes.SHA256())
    )
    # The key is a secret: readable by its owner only, and written before anyone can open the file.
    descriptor = os.open(files["key"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(key.private_bytes(serialization.Encoding.PEM, key_format, serialization.NoEncryption()))
    files["certificate"].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return files
