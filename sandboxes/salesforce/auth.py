"""Logins (SOAP and OAuth 2.0) and session checks, answering with the sandbox's own host:port.

Failure shapes follow the platform: SOAP faults with `sf:exceptionCode` on HTTP 500, OAuth errors as
`{"error", "error_description"}` on HTTP 400. simple-salesforce reads both.
"""
import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from xml.sax.saxutils import escape

from defusedxml import ElementTree

from . import ids, oauth, records, users
from .errors import ApiError, LoginFailed, oauth_error
from .faults import Governor
from .oauth import JWT_BEARER_GRANT, SCOPES, JwtBearer
from .store import Store

ORG_NAME = users.ORG_NAME


@dataclass
class Credentials:
    username: str = "integration@hub.sandbox"
    password: str = "sandbox-password"
    security_token: str = "SANDBOXTOKEN"
    consumer_key: str = "hub-sandbox-consumer-key"
    consumer_secret: str = "hub-sandbox-consumer-secret"

    @classmethod
    def from_env(cls, **overrides) -> "Credentials":
        values = {}
        for name in cls.__dataclass_fields__:
            env_value = os.environ.get("SF_SANDBOX_" + name.upper())
            if overrides.get(name) is not None:
                values[name] = overrides[name]
            elif env_value:
                values[name] = env_value
        return cls(**values)


def _soap_fault(code: str, message: str) -> LoginFailed:
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{code}: {escape(message)}</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{escape(message)}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"""
    return LoginFailed(500, body.encode(), "text/xml; charset=utf-8")


class Authenticator:
    def __init__(self, store: Store, governor: Governor, credentials: Credentials, jwt_certificate=None):
        self.store = store
        self.governor = governor
        self.credentials = credentials
        self.signing_key = secrets.token_bytes(32)
        self.cache = {}    # token -> created; avoids a database read per request
        # The connected app's uploaded certificate; without one the JWT bearer grant is refused, as in an org.
        self.jwt_bearer = JwtBearer(jwt_certificate, credentials.consumer_key, credentials.username)

    def new_session(self) -> str:
        token = records.ORG_ID[:15] + "!" + secrets.token_urlsafe(72)
        created = time.time()
        self.store.session_add(token, created)
        self.cache[token] = created
        self.governor.count("logins")
        return token

    def check(self, header: str | None):
        """Raise 401 INVALID_SESSION_ID unless the Authorization header carries a live session."""
        if not self.is_live(bearer_token(header)):
            raise ApiError("INVALID_SESSION_ID", "Session expired or invalid", status=401)

    def is_live(self, token: str | None) -> bool:
        created = self.cache.get(token) if token else None
        if token and created is None:
            row = self.store.session_get(token)
            if row and not row[1]:
                created = self.cache[token] = row[0]
        return created is not None and self.governor.session_valid(created)

    def revoke(self, token: str) -> bool:
        """End one session for good (also after a restart); False if it was not a live session."""
        live = self.is_live(token)
        self.cache.pop(token, None)
        return self.store.session_revoke(token) > 0 and live

    # -- SOAP -------------------------------------------------------------------------------------------------------
    def soap_login(self, body: bytes, base: str, version: str) -> bytes:
        try:
            root = ElementTree.fromstring(body)
        except Exception:
            raise _soap_fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.")
        login = next((el for el in root.iter() if _local(el.tag) == "login"), None)
        if login is None:
            raise _soap_fault("UNKNOWN_EXCEPTION", "No operation available for request login")
        fields = {_local(el.tag): (el.text or "") for el in login}
        expected = self.credentials.password + self.credentials.security_token
        if fields.get("username") != self.credentials.username or not hmac.compare_digest(
                fields.get("password", "").encode(), expected.encode()):
            self.governor.count("failed_logins")
            raise _soap_fault("INVALID_LOGIN", "Invalid username, password, security token; or user locked out.")
        session = self.new_session()
        org, user = records.ORG_ID, records.USER_ID
        minutes = int(self.governor.settings["session_minutes"] * 60) or 7200
        response = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result><metadataServerUrl>{base}/services/Soap/m/{version}/{org[:15]}</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>true</sandbox><serverUrl>{base}/services/Soap/u/{version}/{org[:15]}</serverUrl><sessionId>{escape(session)}</sessionId><userId>{user}</userId><userInfo><accessibilityMode>false</accessibilityMode><chatterExternal>false</chatterExternal><currencySymbol>$</currencySymbol><orgAttachmentFileSizeLimit>5242880</orgAttachmentFileSizeLimit><orgDefaultCurrencyIsoCode>USD</orgDefaultCurrencyIsoCode><orgDefaultCurrencyLocale>en_US</orgDefaultCurrencyLocale><orgDisallowHtmlAttachments>false</orgDisallowHtmlAttachments><orgHasPersonAccounts>false</orgHasPersonAccounts><organizationId>{org}</organizationId><organizationMultiCurrency>true</organizationMultiCurrency><organizationName>{ORG_NAME}</organizationName><profileId>00e5g000000AAAAAA0</profileId><roleId xsi:nil="true"/><sessionSecondsValid>{minutes}</sessionSecondsValid><userDefaultCurrencyIsoCode xsi:nil="true"/><userEmail>{escape(self.credentials.username)}</userEmail><userFullName>Integration User</userFullName><userId>{user}</userId><userLanguage>en_US</userLanguage><userLocale>en_US</userLocale><userName>{escape(self.credentials.username)}</userName><userTimeZone>America/New_York</userTimeZone><userType>Standard</userType><userUiSkin>Theme3</userUiSkin></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"""
        return response.encode()

    # -- OAuth 2.0 --------------------------------------------------------------------------------------------------
    def token(self, form: dict, authorization: str | None, base: str, login_url: str) -> dict:
        """Answer a token request. `base` is the scheme://host[:port] the request reached, `login_url` that plus any
        path before /services/oauth2/token (the URL the client logged in at)."""
        grant = form.get("grant_type")
        if grant == JWT_BEARER_GRANT:
            return self.jwt_token(form.get("assertion") or "", base, login_url)
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:].strip()).decode()
            except Exception:
                raise oauth_error("invalid_client", "invalid client credentials")
            client_id, _, client_secret = decoded.partition(":")
        if grant not in ("password", "client_credentials"):
            raise oauth_error("unsupported_grant_type", "grant type not supported")
        if client_id != self.credentials.consumer_key:
            self.governor.count("failed_logins")
            raise oauth_error("invalid_client_id", "client identifier invalid")
        if not hmac.compare_digest((client_secret or "").encode(), self.credentials.consumer_secret.encode()):
            self.governor.count("failed_logins")
            raise oauth_error("invalid_client", "invalid client credentials")
        if grant == "password":
            # As on the platform, the password grant needs the security token appended unless the IP is trusted.
            expected = self.credentials.password + self.credentials.security_token
            if form.get("username") != self.credentials.username or not hmac.compare_digest(
                    (form.get("password") or "").encode(), expected.encode()):
                self.governor.count("failed_logins")
                raise oauth_error("invalid_grant", "authentication failure")
        session = self.new_session()
        issued_at = str(int(time.time() * 1000))
        identity = oauth.identity_url(base)
        signature = base64.b64encode(hmac.new(self.signing_key, (identity + issued_at).encode(),
                                              hashlib.sha256).digest()).decode()
        return {"access_token": session, "instance_url": base, "id": identity, "token_type": "Bearer",
                "issued_at": issued_at, "signature": signature}

    def jwt_token(self, assertion: str, base: str, login_url: str) -> dict:
        """The JWT bearer grant: no client secret and no refresh token; the documented answer has a scope and no
        issued_at or signature."""
        # Reference: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm
        try:
            self.jwt_bearer.verify(assertion, login_url, self.governor.settings["jwt_max_exp_seconds"])
        except LoginFailed:
            self.governor.count("failed_logins")
            raise
        return {"access_token": self.new_session(), "scope": SCOPES, "instance_url": base,
                "id": oauth.identity_url(base), "token_type": "Bearer"}

    # -- what a session can ask about itself ------------------------------------------------------------------------
    def identity(self, org_id: str, user_id: str, header: str | None, params: dict, base: str) -> dict:
        """GET on the identity URL a login returned (https://host/id/{orgId}/{userId})."""
        # Reference: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_using_openid.htm
        self.identity_session(header, params)
        if ids.normalize_id(org_id) != records.ORG_ID:
            raise oauth.identity_error(403, "Wrong_Org")
        if ids.normalize_id(user_id) != records.USER_ID:
            raise oauth.identity_error(404, "Bad_Id")
        return oauth.identity(base, self.credentials.username, (params.get("version") or [""])[0])

    def userinfo(self, header: str | None, params: dict, base: str) -> dict:
        # Reference: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_using_userinfo_endpoint.htm
        self.identity_session(header, params)
        return oauth.userinfo(base, self.credentials.username)

    def identity_session(self, header: str | None, params: dict) -> None:
        # The token may also come as the `oauth_token` parameter; the identity service answers with bare codes.
        token = bearer_token(header) or (params.get("oauth_token") or [None])[0]
        if not token:
            raise oauth.identity_error(403, "Missing_OAuth_Token")
        if not self.is_live(token):
            raise oauth.identity_error(403, "Bad_OAuth_Token")

    def revoke_token(self, token: str | None) -> None:
        """POST (form `token=`) or GET (`?token=`) /services/oauth2/revoke: 200 with an empty body once revoked."""
        # Reference: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_revoke_token.htm
        if not token:
            raise oauth_error("unsupported_token_type", "Token type not supported")
        if not self.revoke(token):
            raise oauth_error("invalid_token", "Token was invalid")


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` (or the older `OAuth …`) header."""
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("bearer", "oauth"):
            return value.strip() or None
    return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
