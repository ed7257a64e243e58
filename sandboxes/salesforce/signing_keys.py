"""A connected app's JWT signing key pair: an RSA private key for the client and a self-signed X.509 certificate
for the org, made once in a directory and reused afterwards.

The same two files that `openssl req -x509 -newkey rsa:2048 -nodes -keyout server.key -out server.crt` makes for a
real org (docs/production.md): the demo and the tests upload the certificate to the sandbox (`--jwt-certificate`)
and give the key to the hub, exactly as an operator would.
"""
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from ..keys import key_pair_ensure

VALID_DAYS = 3650


def paths(directory) -> dict:
    directory = Path(directory)
    return {"dir": directory, "key": directory / "server.key", "certificate": directory / "server.crt"}


def ensure_key_pair(directory, common_name: str = "Integration Hub") -> dict:
    # RS256 needs RSA; Salesforce asks for a key of at least 2048 bits.
    return key_pair_ensure(paths(directory), key_size=2048, valid_days=VALID_DAYS,
                           key_format=serialization.PrivateFormat.TraditionalOpenSSL, common_name=common_name)
