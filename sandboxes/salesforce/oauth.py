"""The connected app's side of OAuth 2.0 beyond the password and client-credentials grants: the JWT bearer grant,
checked against the certificate uploaded to the app, and the identity URL, userinfo and revocation endpoints that
every session can use. Refusals use the platform's own words.

References:
- JWT bearer flow: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm
- Identity URLs: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_using_openid.htm
- UserInfo endpoint: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_using_userinfo_endpoint.htm
- Revocation: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_revoke_token.htm
"""
import time
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from . import records
from .errors import LoginFailed, oauth_error

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Any org accepts these audiences; the URL the assertion was posted to (the org's own login URL, as a My Domain
# login URL is) is accepted as well.
LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
# The scopes of the sandbox's connected app, as the hub's setup guide configures a real one.
SCOPES = "api refresh_token"

USER_NAME = "Integration User"
USER_TIME_ZONE, USER_UTC_OFFSET_MS = "America/New_York", -5 * 3600 * 1000
USER_LAST_MODIFIED = "2024-01-02T03:04:05.000+0000"


def load_certificate(path) -> rsa.RSAPublicKey:
    """The public key of an X.509 certificate file (PEM or DER), as uploaded to a connected app."""
    data = Path(path).read_bytes()
    try:
        certificate = x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise ValueError(f"{path} is not an X.509 certificate: {exc}") from None
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        # The JWT bearer flow signs with RS256, so the uploaded certificate must hold an RSA key.
        raise ValueError(f"{path} holds a {type(key).__name__}, not an RSA public key")
    return key


class JwtBearer:
    """Checks a JWT bearer assertion the way an org does; returns the username it asserts.

    `max_exp_seconds` bounds how far ahead `exp` may be. Salesforce's guide asks for an `exp` "within 3 minutes",
    but orgs accept more: the Salesforce CLI sends `Date.now() + 300` (milliseconds, so years ahead) and logs in.
    So, like an org, the sandbox refuses only an `exp` in the past unless a bound is set (`--jwt-max-exp-seconds`
    or the `jwt_max_exp_seconds` control setting, e.g. 180 to hold clients to the guide).
    """

    def __init__(self, certificate_path, consumer_key: str, username: str):
        self.public_key = load_certificate(certificate_path) if certificate_path else None
        self.consumer_key = consumer_key
        self.username = username

    def verify(self, assertion: str, posted_to: str, max_exp_seconds: float = 0) -> str:
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
            header = jwt.get_unverified_header(assertion)
        except jwt.InvalidTokenError:
            raise oauth_error("invalid_grant", "invalid assertion") from None
        # The consumer key names the connected app; only then is there a certificate to check the signature with.
        if claims.get("iss") != self.consumer_key:
            raise oauth_error("invalid_client_id", "client identifier invalid")
        if self.public_key is None or header.get("alg") != "RS256":
            # An app without "Use digital signatures" has no certificate: no assertion can verify.
            raise oauth_error("invalid_grant", "invalid assertion")
        try:
            jwt.decode(assertion, self.public_key, algorithms=["RS256"],
                       options={"verify_exp": False, "verify_aud": False, "verify_iat": False, "verify_nbf": False})
        except jwt.InvalidTokenError:
            raise oauth_error("invalid_grant", "invalid assertion") from None
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        accepted = set(LOGIN_AUDIENCES) | {posted_to.rstrip("/")}
        if not any(isinstance(a, str) and a.rstrip("/") in accepted for a in audiences):
            raise oauth_error("invalid_grant", "audience is invalid")
        try:
            # simple-salesforce sends exp as a string of digits; a number is what RFC 7519 asks for.
            expires = float(claims["exp"])
        except (KeyError, TypeError, ValueError):
            raise oauth_error("invalid_grant", "invalid assertion") from None
        now = time.time()
        # An expired assertion is answered like an expired code (what orgs say, e.g. simple-salesforce issue #491).
        if expires <= now or (max_exp_seconds and expires > now + max_exp_seconds):
            raise oauth_error("invalid_grant", "expired authorization code")
        if claims.get("sub") != self.username:
            # An org does not tell an unknown user from one the app was never approved for.
            raise oauth_error("invalid_grant", "user hasn't approved this consumer")
        return claims["sub"]


def identity_url(base: str) -> str:
    return f"{base}/id/{records.ORG_ID}/{records.USER_ID}"


def identity_error(status: int, code: str) -> LoginFailed:
    """Identity URL and userinfo failures are a status with a bare code as the body, e.g. 403 Bad_OAuth_Token."""
    return LoginFailed(status, code.encode(), "text/plain;charset=UTF-8")


def _urls(base: str, version: str) -> dict:
    org = records.ORG_ID
    urls = {
        "enterprise": f"{base}/services/Soap/c/{{version}}/{org}",
        "metadata": f"{base}/services/Soap/m/{{version}}/{org}",
        "partner": f"{base}/services/Soap/u/{{version}}/{org}",
        "rest": f"{base}/services/data/v{{version}}/",
        "sobjects": f"{base}/services/data/v{{version}}/sobjects/",
        "search": f"{base}/services/data/v{{version}}/search/",
        "query": f"{base}/services/data/v{{version}}/query/",
        "recent": f"{base}/services/data/v{{version}}/recent/",
        "tooling_soap": f"{base}/services/Soap/T/{{version}}/{org}",
        "tooling_rest": f"{base}/services/data/v{{version}}/tooling/",
        "profile": f"{base}/{records.USER_ID}",
        "feeds": f"{base}/services/data/v{{version}}/chatter/feeds",
        "groups": f"{base}/services/data/v{{version}}/chatter/groups",
        "users": f"{base}/services/data/v{{version}}/chatter/users",
        "feed_items": f"{base}/services/data/v{{version}}/chatter/feed-items",
        "feed_elements": f"{base}/services/data/v{{version}}/chatter/feed-elements",
        "custom_domain": base,
    }
    # `?version=` fills the placeholder; without it the URLs keep `{version}` for the client to fill.
    return {name: url.replace("{version}", version) for name, url in urls.items()} if version else urls


def identity(base: str, username: str, version: str = "") -> dict:
    """The identity URL's answer for the integration user."""
    first, _, last = USER_NAME.partition(" ")
    return {
        "id": identity_url(base),
        "asserted_user": True,
        "user_id": records.USER_ID,
        "organization_id": records.ORG_ID,
        "username": username,
        "nick_name": username.split("@")[0],
        "display_name": USER_NAME,
        "email": username,
        "email_verified": True,
        "first_name": first,
        "last_name": last,
        "timezone": USER_TIME_ZONE,
        "photos": {"picture": f"{base}/profilephoto/005/F", "thumbnail": f"{base}/profilephoto/005/T"},
        "addr_street": None, "addr_city": None, "addr_state": None, "addr_country": "US", "addr_zip": None,
        "mobile_phone": None,
        "mobile_phone_verified": False,
        "is_lightning_login_user": False,
        "status": {"created_date": None, "body": None},
        "urls": _urls(base, version),
        "active": True,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": USER_UTC_OFFSET_MS,
        "last_modified_date": USER_LAST_MODIFIED,
        "is_app_installed": True,
    }


def userinfo(base: str, username: str) -> dict:
    """The OpenID Connect userinfo answer: standard claims first, then Salesforce's own."""
    first, _, last = USER_NAME.partition(" ")
    return {
        "sub": identity_url(base),
        "user_id": records.USER_ID,
        "organization_id": records.ORG_ID,
        "preferred_username": username,
        "nickname": username.split("@")[0],
        "name": USER_NAME,
        "email": username,
        "email_verified": True,
        "given_name": first,
        "family_name": last,
        "zoneinfo": USER_TIME_ZONE,
        "photos": {"picture": f"{base}/profilephoto/005/F", "thumbnail": f"{base}/profilephoto/005/T"},
        "profile": f"{base}/{records.USER_ID}",
        "picture": f"{base}/profilephoto/005/F",
        "address": {"country": "US"},
        "is_salesforce_integration_user": False,
        "urls": _urls(base, ""),
        "active": True,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": USER_UTC_OFFSET_MS,
        "updated_at": "2024-01-02T03:04:05Z",
        "is_app_installed": True,
    }
