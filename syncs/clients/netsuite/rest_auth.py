"""OAuth 2.0 client credentials (machine to machine) for SuiteTalk REST: a JWT client assertion signed with the key
whose certificate is mapped to the integration, exchanged for an access token that every request carries.

NetSuite's access tokens last 60 minutes and this flow has no refresh token, so the process keeps one token per
integration and asks for a new one five minutes before it runs out, or at once when NetSuite refuses it (401).
Every worker thread shares that one token: a login per request would cost a round trip each and fill the account's
Login Audit Trail.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..errors import PermanentError, TransientError

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# NetSuite allows an assertion up to 60 minutes; a short one is worth less to whoever might read it on the way.
ASSERTION_LIFETIME_S = 300
RENEW_BEFORE_S = 300
# The curve of an EC key decides its algorithm (NetSuite refuses a mismatch); RSA keys sign with PSS.
EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}


@dataclass(frozen=True)
class M2MCredentials:
    token_url: str
    client_id: str
    certificate_id: str
    private_key: str

    def assertion(self) -> str:
        """The signed JWT client assertion."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162790605110.html
        key = _private_key(self.private_key)
        now = int(time.time())
        claims = {"iss": self.client_id, "scope": ["rest_webservices"], "aud": self.token_url, "iat": now,
                  "exp": now + ASSERTION_LIFETIME_S, "jti": str(uuid.uuid4())}
        return jwt.encode(claims, key, algorithm=_algorithm(key),
                          headers={"typ": "JWT", "kid": self.certificate_id})


class AccessTokens:
    """The process's access tokens, one per (token URL, client, certificate), shared by its threads."""

    def __init__(self):
        self._lock = threading.Lock()
        self._tokens: dict[M2MCredentials, tuple[str, float]] = {}

    def token(self, credentials: M2MCredentials, session: requests.Session, timeout: float) -> str:
        # One thread logs in while the others wait for its token, rather than each asking for one of its own.
        with self._lock:
            held = self._tokens.get(credentials)
            if held and time.monotonic() < held[1] - RENEW_BEFORE_S:
                return held[0]
            token, lifetime = _request_token(credentials, session, timeout)
            self._tokens[credentials] = (token, time.monotonic() + lifetime)
            return token

    def refused(self, credentials: M2MCredentials, token: str) -> None:
        """NetSuite refused this token: forget it (unless another thread has already replaced it)."""
        with self._lock:
            held = self._tokens.get(credentials)
            if held and held[0] == token:
                del self._tokens[credentials]

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


access_tokens = AccessTokens()


def _request_token(credentials: M2MCredentials, session: requests.Session, timeout: float) -> tuple[str, float]:
    # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162755359851.html
    form = {"grant_type": "client_credentials", "client_assertion_type": JWT_BEARER,
            "client_assertion": credentials.assertion()}
    try:
        reply = session.post(credentials.token_url, data=form, timeout=timeout,
                             headers={"Accept": "application/json"})
    except requests.Timeout as exc:
        raise TransientError("LOGIN_TIMEOUT", f"NetSuite's OAuth 2.0 token endpoint did not answer in time: {exc}") from exc
    except requests.ConnectionError as exc:
        raise TransientError("LOGIN_CONNECTION_ERROR", f"The connection to NetSuite's OAuth 2.0 token endpoint "
                             f"({credentials.token_url}) failed: {exc}") from exc
    if reply.status_code == 429 or reply.status_code >= 500:
        raise TransientError(f"HTTP_{reply.status_code}", f"NetSuite's OAuth 2.0 token endpoint answered HTTP "
                             f"{reply.status_code}; the login is tried again later")
    try:
        answer = reply.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        kind = TransientError if reply.status_code < 400 else PermanentError
        raise kind("UNEXPECTED_CONTENT", f"NetSuite's OAuth 2.0 token endpoint answered HTTP {reply.status_code} "
                   f"{reply.headers.get('Content-Type') or 'without a content type'} where JSON was expected: "
                   f"{reply.content[:200]!r}")
    if reply.status_code != 200 or not answer.get("access_token"):
        # invalid_client (the client id or the certificate mapping), invalid_grant (the assertion: key, kid, aud, iat/exp,
        # or a role without "Log in using OAuth 2.0 Access Tokens"), invalid_scope ... NetSuite gives the reason only
        # in its Login Audit Trail.
        error = str(answer.get("error") or "invalid_request")
        raise PermanentError(error, f"NetSuite refused the OAuth 2.0 client credentials login ({error}, HTTP "
                             f"{reply.status_code}): check NETSUITE_CLIENT_ID, NETSUITE_CERTIFICATE_ID, the private "
                             "key and the certificate's mapping to the integration and role; NetSuite's Login Audit "
                             "Trail says why")
    try:
        lifetime = float(answer.get("expires_in") or 3600)
    except (TypeError, ValueError):
        lifetime = 3600.0
    return str(answer["access_token"]), lifetime


def _private_key(pem: str):
    if not pem:
        raise PermanentError("NO_PRIVATE_KEY", "No private key for NetSuite's OAuth 2.0 client credentials: set "
                             "NETSUITE_PRIVATE_KEY or NETSUITE_PRIVATE_KEY_FILE")
    try:
        return serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise PermanentError("INVALID_PRIVATE_KEY", f"NETSUITE_PRIVATE_KEY is not an unencrypted PEM private key: "
                             f"{exc}") from exc


def _algorithm(key) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "PS256"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in EC_ALGORITHMS:
        return EC_ALGORITHMS[key.curve.name]
    raise PermanentError("INVALID_PRIVATE_KEY", "NetSuite takes RSA or EC (P-256, P-384, P-521) keys for OAuth 2.0 "
                         f"client credentials, not {type(key).__name__}")
