"""OAuth 2.0 client credentials (machine to machine): the token endpoint and the access tokens it issues.

References (docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/):
- POST to the token endpoint and the answer: section_162755359851.html
- the JWT client assertion (typ, alg PS256/PS384/PS512/ES256/ES384/ES512, kid = certificate id, iss = client id,
  scope, aud = token endpoint URL, iat, exp at most 60 minutes after iat): section_162790605110.html
- the access token is valid for 60 minutes and there is no refresh token in this flow: ask again.

Refusals use RFC 6749 §5.2's error codes in a JSON body, as the endpoint answers them; the reason goes to the
server log only, as NetSuite keeps it in the Login Audit Trail.
"""
from __future__ import annotations

import secrets
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
CLIENT_CREDENTIALS = "client_credentials"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = {"PS256": rsa.RSAPublicKey, "PS384": rsa.RSAPublicKey, "PS512": rsa.RSAPublicKey,
              "ES256": ec.EllipticCurvePublicKey, "ES384": ec.EllipticCurvePublicKey,
              "ES512": ec.EllipticCurvePublicKey}
SCOPES = {"rest_webservices", "restlets", "suite_analytics"}
TOKEN_LIFETIME_S = 3600
MAX_ASSERTION_LIFETIME_S = 3600
CLOCK_SKEW_S = 300


class TokenRefused(Exception):
    def __init__(self, error: str, reason: str):
        super().__init__(reason)
        self.error = error
        self.reason = reason

    @property
    def status(self) -> int:
        # RFC 6749 §5.2: a client that failed to authenticate may be told so with 401; everything else is 400.
        return 401 if self.error == "invalid_client" else 400


@dataclass(frozen=True)
class M2MClient:
    """The integration record's client id and the one certificate mapped to it."""
    client_id: str
    certificate_id: str
    certificate_path: str

    def public_key(self):
        data = Path(self.certificate_path).read_bytes()
        try:
            certificate = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                           else x509.load_der_x509_certificate(data))
        except ValueError as error:
            raise ValueError(f"{self.certificate_path} is not an X.509 certificate: {error}") from None
        return certificate.public_key()


def account_host(account: str) -> str:
    # Account ids become host names in lower case with '_' as '-' (TSTDRV123_SB1 -> tstdrv123-sb1).
    return f"{account.lower().replace('_', '-')}.suitetalk.api.netsuite.com"


class TokenEndpoint:
    def __init__(self, client: M2MClient, account: str, store):
        self.client = client
        self.account = account
        self.store = store
        self.public_key = client.public_key()

    def audiences(self, posted_to: str) -> set[str]:
        """The token endpoint's URL as the client may know it: where it posted, or the account's real host."""
        return {posted_to, f"https://{account_host(self.account)}{TOKEN_PATH}"}

    def issue(self, form_body: bytes, posted_to: str, now: float | None = None) -> dict:
        now = time.time() if now is None else now
        try:
            form = urllib.parse.parse_qs(form_body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise self.refuse("invalid_request", "the body is not UTF-8 form data") from None
        value = {name: values[0] for name, values in form.items() if values}
        repeated = [name for name, values in form.items() if len(values) > 1]
        if repeated:
            raise self.refuse("invalid_request", f"repeated parameters: {', '.join(repeated)}")
        if not value.get("grant_type"):
            raise self.refuse("invalid_request", "grant_type is missing")
        if value["grant_type"] != CLIENT_CREDENTIALS:
            raise self.refuse("unsupported_grant_type", f"grant_type {value['grant_type']!r}")
        if value.get("client_assertion_type") != JWT_BEARER:
            raise self.refuse("invalid_request", f"client_assertion_type {value.get('client_assertion_type')!r}")
        assertion = value.get("client_assertion")
        if not assertion:
            raise self.refuse("invalid_request", "client_assertion is missing")
        self.verify(assertion, posted_to, now)
        token = secrets.token_urlsafe(48)
        with self.store.write() as connection:
            connection.execute("INSERT INTO rest_tokens VALUES (?, ?)", (token, int((now + TOKEN_LIFETIME_S) * 1000)))
            connection.execute("DELETE FROM rest_tokens WHERE expires_ms < ?", (int(now * 1000),))
        # expires_in is a string in NetSuite's answer (section_162755359851.html).
        return {"access_token": token, "expires_in": str(TOKEN_LIFETIME_S), "token_type": "bearer"}

    def verify(self, assertion: str, posted_to: str, now: float) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.InvalidTokenError as error:
            raise self.refuse("invalid_request", f"the client assertion is not a JWT: {error}") from None
        algorithm = header.get("alg")
        if header.get("typ", "JWT").upper() != "JWT":
            raise self.refuse("invalid_request", f"typ {header.get('typ')!r}")
        if claims.get("iss") != self.client.client_id:
            raise self.refuse("invalid_client", f"unknown client id (iss) {claims.get('iss')!r}")
        if header.get("kid") != self.client.certificate_id:
            raise self.refuse("invalid_grant", f"kid {header.get('kid')!r} is not a certificate mapped to the client")
        if algorithm not in ALGORITHMS or not isinstance(self.public_key, ALGORITHMS[algorithm]):
            raise self.refuse("invalid_grant", f"alg {algorithm!r} does not fit the mapped certificate's key")
        try:
            jwt.decode(assertion, self.public_key, algorithms=[algorithm],
                       options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False})
        except jwt.PyJWTError as error:   # a bad signature, or a curve that does not fit alg (InvalidKeyError)
            raise self.refuse("invalid_grant", f"signature: {error}") from None
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(isinstance(a, str) and a in self.audiences(posted_to) for a in audiences):
            raise self.refuse("invalid_grant", f"aud {audience!r} is not the token endpoint {posted_to}")
        try:
            issued, expires = float(claims["iat"]), float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            raise self.refuse("invalid_grant", "iat and exp must both be numbers") from None
        if issued > now + CLOCK_SKEW_S:
            raise self.refuse("invalid_grant", f"iat {issued:.0f} is in the future")
        if expires <= now:
            raise self.refuse("invalid_grant", f"the assertion expired at {expires:.0f}")
        if expires - issued > MAX_ASSERTION_LIFETIME_S:
            raise self.refuse("invalid_grant", "exp is more than 60 minutes after iat")
        scope = claims.get("scope")
        scopes = set(scope if isinstance(scope, list) else str(scope or "").replace(",", " ").split())
        if not scopes or not scopes <= SCOPES:
            raise self.refuse("invalid_scope", f"scope {scope!r}")
        if "rest_webservices" not in scopes:
            raise self.refuse("invalid_scope", f"scope {scope!r} lacks rest_webservices, which this sandbox serves")

    @staticmethod
    def refuse(error: str, reason: str) -> TokenRefused:
        print(f"netsuite sandbox: token refused ({error}): {reason}", file=sys.stderr, flush=True)
        return TokenRefused(error, reason)

    def valid(self, token: str, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        row = self.store.connection().execute("SELECT expires_ms FROM rest_tokens WHERE token = ?", (token,)).fetchone()
        return bool(row) and row[0] > now * 1000
