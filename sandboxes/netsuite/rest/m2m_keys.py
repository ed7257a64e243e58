"""The demo integration's key pair for the OAuth 2.0 client credentials flow: a private key for the client and a
self-signed certificate for the account, made once in the data directory and reused afterwards.

The same files an operator makes for a real account (section_162790605110.html: RSA 3072/4096 or EC P-256/384/521,
e.g. `openssl req -new -x509 -newkey rsa:3072 -keyout private.pem -out public.pem -nodes -days 365`) and uploads
under Setup > Integration > OAuth 2.0 Client Credentials (M2M) Setup. NetSuite refuses certificates valid for more
than two years, so the demo one is valid for one.
"""
from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization

from ...keys import key_pair_ensure

VALID_DAYS = 365


def paths(directory) -> dict:
    directory = Path(directory)
    return {"dir": directory, "key": directory / "m2m_private.pem", "certificate": directory / "m2m_public.pem"}


def ensure_key_pair(directory, common_name: str = "Integration Hub") -> dict:
    # RSA 3072, one of the sizes NetSuite takes.
    return key_pair_ensure(paths(directory), key_size=3072, valid_days=VALID_DAYS,
                           key_format=serialization.PrivateFormat.PKCS8, common_name=common_name)
