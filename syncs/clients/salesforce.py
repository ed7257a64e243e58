"""The hub's only door to Salesforce, on simple-salesforce.

Returns plain dicts and raises only TransientError or PermanentError (syncs.clients.errors), each with Salesforce's
own errorCode and message. Every request has a timeout. simple-salesforce logs in again by itself when a session
expires (401 INVALID_SESSION_ID) and replays the request.

Logins, first that is configured: the OAuth 2.0 JWT bearer flow (consumer key, username and private key: the
production path), OAuth client credentials (consumer key and secret), and last the SOAP username-password login,
which Salesforce retires.
"""
import logging
import threading
from collections.abc import Iterator

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)
from simple_salesforce.format import format_soql

from .errors import PermanentError, RemoteError, TransientError

logger = logging.getLogger(__name__)

# Salesforce's words for a refused JWT bearer login, and what to check for each.
# Reference: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm
JWT_REFUSAL_HINTS = {
    "invalid assertion": "the private key does not belong to the certificate uploaded to the connected app, or the "
                         "assertion is malformed",
    "expired authorization code": "the assertion had expired when Salesforce read it: check this machine's clock",
    "audience is invalid": "SALESFORCE_DOMAIN must be login (production), test (a sandbox org) or your My Domain",
    "user hasn't approved this consumer": "pre-authorize the integration user's profile or permission set on the "
                                          "connected app (Admin approved users are pre-authorized)",
    "client identifier invalid": "SALESFORCE_CONSUMER_KEY is not the connected app's consumer key",
}
SOAP_LOGIN_RETIREMENT = (
    "Salesforce is reached with the SOAP login() (username and password). Salesforce retires it in Summer '27 "
    "(API 65.0) and it is off by default in orgs created from Winter '26: set SALESFORCE_CONSUMER_KEY, "
    "SALESFORCE_USERNAME and SALESFORCE_PRIVATE_KEY (or SALESFORCE_PRIVATE_KEY_FILE) for the OAuth 2.0 JWT bearer "
    "flow (docs/production.md).")

# Codes worth a later retry; everything else from Salesforce needs a person.
TRANSIENT_CODES = {"UNABLE_TO_LOCK_ROW", "REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "INVALID_SESSION_ID",
                   "QUERY_TIMEOUT", "TOO_MANY_APEX_REQUESTS", "UNKNOWN_EXCEPTION"}
COLLECTION_LIMIT = 200


class _TimeoutSession(requests.Session):
    """simple-salesforce sets no timeout; a hung socket would hold a worker forever."""

    def __init__(self, timeout: float):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, **kwargs)


class _LoginHostAdapter(HTTPAdapter):
    """Sends simple-salesforce's login requests (always https://{domain}.salesforce.com/...) to another host, such as
    the Salesforce sandbox, without changing anything inside simple-salesforce."""

    def __init__(self, login_prefix: str, login_url: str, **kwargs):
        super().__init__(**kwargs)
        self.login_prefix, self.login_url = login_prefix, login_url.rstrip("/")

    def send(self, request, **kwargs):
        if request.url.startswith(self.login_prefix):
            request.url = self.login_url + request.url[len(self.login_prefix) - 1:]
        return super().send(request, **kwargs)


class SalesforceClient:
    def __init__(self, config: dict | None = None):
        self.config = config or settings.SALESFORCE
        self._sf: Salesforce | None = None
        self._lock = threading.Lock()
        self._soap_warned = False

    # --- connection ---------------------------------------------------------------------------------------------
    @property
    def sf(self) -> Salesforce:
        with self._lock:
            if self._sf is None:
                self._sf = self._connect()
            return self._sf

    def _session(self) -> requests.Session:
        session = _TimeoutSession(self.config.get("TIMEOUT", 60))
        # REQUESTS_CA_BUNDLE in the environment would otherwise override our own CA bundle.
        session.trust_env = False
        if self.config.get("CA_BUNDLE"):
            session.verify = self.config["CA_BUNDLE"]
        login_url = self.config.get("LOGIN_URL")
        if login_url:
            domain = self.config.get("DOMAIN") or "login"
            prefix = f"https://{domain}.salesforce.com/"
            session.mount(prefix, _LoginHostAdapter(prefix, login_url))
        return session

    def _connect(self) -> Salesforce:
        c = self.config
        common = {"session": self._session(), "version": c.get("API_VERSION", "59.0"), "domain": c.get("DOMAIN") or "login"}
        flow = login_flow(c)
        try:
            if flow == "jwt_bearer":
                # Reference: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm
                # simple-salesforce signs iss/sub/aud (https://{domain}.salesforce.com)/exp (3 minutes) with RS256.
                return Salesforce(username=c["USERNAME"], consumer_key=c["CONSUMER_KEY"],
                                  privatekey=_private_key_pem(c["PRIVATE_KEY"]), **common)
            if flow == "client_credentials":
                return Salesforce(consumer_key=c["CONSUMER_KEY"], consumer_secret=c["CONSUMER_SECRET"], **common)
            if flow == "soap":
                if not self._soap_warned:
                    logger.warning(SOAP_LOGIN_RETIREMENT)
                    self._soap_warned = True
                return Salesforce(username=c["USERNAME"], password=c["PASSWORD"],
                                  security_token=c.get("SECURITY_TOKEN") or "", **common)
        except SalesforceAuthenticationFailed as exc:
            raise _login_refused(exc, flow) from None
        except requests.RequestException as exc:
            raise TransientError("CONNECTION_ERROR", f"Salesforce login failed: {exc}", outcome_unknown=False) from exc
        raise PermanentError("NO_CREDENTIALS", "No Salesforce credentials are configured.")

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(used, allocation) of the org's daily API requests, from the limits resource (the Sforce-Limit-Info header
        of the last query otherwise)."""
        # Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_limits.htm
        try:
            daily = self._call(lambda: self.sf.restful("limits/")).get("DailyApiRequests") or {}
            if "Max" in daily:
                return int(daily["Max"]) - int(daily.get("Remaining", 0)), int(daily["Max"])
        except RemoteError:
            pass
        return self.api_usage_seen

    @property
    def api_usage_seen(self) -> tuple[int, int] | None:
        """(used, allocation) as the last answer's Sforce-Limit-Info header gave it: costs no request, so a run can
        look after every page."""
        # Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm
        usage = self._sf.api_usage.get("api-usage") if self._sf else None
        return (usage.used, usage.total) if usage else None

    # --- reads --------------------------------------------------------------------------------------------------
    def query_pages(self, soql: str, *, include_deleted: bool = False, page_size: int | None = None) -> Iterator[list[dict]]:
        """Each page of a query's records, in order. Build `soql` with `soql_format`."""
        # Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm
        headers = {"Sforce-Query-Options": f"batchSize={page_size}"} if page_size else {}
        result = self._call(lambda: self.sf.query(soql, include_deleted=include_deleted, headers=headers))
        while True:
            yield [_plain(record) for record in result.get("records", [])]
            if result.get("done", True) or not result.get("nextRecordsUrl"):
                return
            next_url = result["nextRecordsUrl"]
            result = self._call(lambda: self.sf.query_more(next_url, identifier_is_url=True, headers=headers))

    def query_all(self, soql: str, **kwargs) -> list[dict]:
        return [record for page in self.query_pages(soql, **kwargs) for record in page]

    def describe_fields(self, object_name: str) -> dict[str, dict]:
        description = self._call(lambda: getattr(self.sf, object_name).describe())
        return {field["name"]: field for field in description["fields"]}

    # --- writes -------------------------------------------------------------------------------------------------
    def upsert_collection(self, object_name: str, external_id_field: str, records: list[dict]) -> list[dict]:
        """Upsert up to 200 records by an External ID field. Returns one result per record, in order:
        {"success", "id", "created", "errors": [{"statusCode", "message", "fields"}]}. One bad record fails alone."""
        # Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_upsert.htm
        if len(records) > COLLECTION_LIMIT:
            raise ValueError(f"At most {COLLECTION_LIMIT} records per collection call")
        body = {"allOrNone": False, "records": [{"attributes": {"type": object_name}, **record} for record in records]}
        return self._call(lambda: self.sf.restful(f"composite/sobjects/{object_name}/{external_id_field}", method="PATCH", json=body))

    def update_collection(self, object_name: str, records: list[dict]) -> list[dict]:
        """Update up to 200 records by Id. Results as for upsert_collection."""
        if len(records) > COLLECTION_LIMIT:
            raise ValueError(f"At most {COLLECTION_LIMIT} records per collection call")
        body = {"allOrNone": False, "records": [{"attributes": {"type": object_name}, **record} for record in records]}
        return self._call(lambda: self.sf.restful("composite/sobjects", method="PATCH", json=body))

    # --- errors -------------------------------------------------------------------------------------------------
    def _call(self, function):
        try:
            return function()
        except RemoteError:
            raise
        except SalesforceAuthenticationFailed as exc:
            # simple-salesforce logged in again after a 401 and was refused: the credentials need a person.
            with self._lock:
                self._sf = None
            raise _login_refused(exc, login_flow(self.config)) from None
        except SalesforceMoreThanOneRecord as exc:
            raise PermanentError("MULTIPLE_RECORDS", _first_message(exc)) from exc
        except SalesforceExpiredSession as exc:
            with self._lock:
                self._sf = None  # log in afresh next time
            raise TransientError("INVALID_SESSION_ID", _first_message(exc)) from exc
        except (SalesforceMalformedRequest, SalesforceRefusedRequest, SalesforceResourceNotFound, SalesforceError) as exc:
            code, message = _first_error(exc)
            kind = TransientError if code in TRANSIENT_CODES or getattr(exc, "status", 0) >= 500 else PermanentError
            raise kind(code, message) from exc
        except requests.exceptions.JSONDecodeError as exc:
            # A gateway's HTML page, or an empty body, where Salesforce answers JSON: the request may have been
            # carried out, so a write's next try is treated as unsure.
            raise TransientError("UNREADABLE_RESPONSE", f"Salesforce's answer was not JSON: {exc}", outcome_unknown=True) from exc
        except requests.Timeout as exc:
            raise TransientError("TIMEOUT", f"Salesforce did not answer in time: {exc}", outcome_unknown=True) from exc
        except requests.ConnectionError as exc:
            raise TransientError("CONNECTION_ERROR", f"Connection to Salesforce failed: {exc}", outcome_unknown=True) from exc


def login_flow(config: dict) -> str | None:
    """Which login the configuration makes: the JWT bearer flow when it names a consumer key, a username and a
    private key; else client credentials with a consumer key and secret on a My Domain; else the SOAP login."""
    if config.get("CONSUMER_KEY") and config.get("USERNAME") and config.get("PRIVATE_KEY"):
        return "jwt_bearer"
    # Salesforce serves the client-credentials flow on a My Domain only (simple-salesforce refuses login and test).
    # Reference: https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm
    if config.get("CONSUMER_KEY") and config.get("CONSUMER_SECRET") and (config.get("DOMAIN") or "login") not in (
            "login", "test"):
        return "client_credentials"
    if config.get("USERNAME") and config.get("PASSWORD"):
        return "soap"
    return None


def _login_refused(exc: SalesforceAuthenticationFailed, flow: str | None) -> PermanentError:
    """Salesforce's error code and description (e.g. invalid_grant: expired authorization code), with what to
    check for a JWT bearer refusal. Only Salesforce's answer is kept: never the request, which holds the credentials."""
    # `auth_message` is Salesforce's own description; `message` is only simple-salesforce's template.
    code, description = str(exc.code or "INVALID_LOGIN"), str(getattr(exc, "auth_message", "") or "")
    hint = JWT_REFUSAL_HINTS.get(description) if flow == "jwt_bearer" else None
    return PermanentError(code, f"{description} ({hint})" if hint else description)


def _private_key_pem(text: str) -> str:
    """The private key as PEM text, checked before anything is signed: an unreadable key is a clear error that
    never shows the key itself."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    # A key put in an environment variable on one line often arrives with its newlines as "\n".
    pem = text.replace("\\n", "\n") if "\n" not in text else text
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise PermanentError("INVALID_PRIVATE_KEY", "SALESFORCE_PRIVATE_KEY is not an unencrypted RSA private key in "
                             "PEM format (the key whose certificate is uploaded to the connected app).")
    return pem


_clients: dict[tuple, SalesforceClient] = {}
_clients_lock = threading.Lock()


def salesforce_client() -> SalesforceClient:
    """The process's client for the configured org: one login serves every run until the session expires."""
    key = tuple(sorted((k, str(v)) for k, v in settings.SALESFORCE.items()))
    with _clients_lock:
        if key not in _clients:
            _clients[key] = SalesforceClient(dict(settings.SALESFORCE))
        return _clients[key]


def soql_format(template: str, **values) -> str:
    """Build SOQL with every value escaped by simple-salesforce's format_soql. Field and object names are never
    passed as values: they come only from mapping rows checked against describe."""
    return format_soql(template, **values)


def _plain(record: dict) -> dict:
    """A record without Salesforce's `attributes`, parents and child subqueries as plain dicts and lists."""
    plain = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict) and "records" in value:
            plain[key] = [_plain(child) for child in value["records"]]
        elif isinstance(value, dict):
            plain[key] = _plain(value)
        else:
            plain[key] = value
    return plain


def _first_error(exc: SalesforceError) -> tuple[str, str]:
    content = getattr(exc, "content", None)
    if isinstance(content, list) and content and isinstance(content[0], dict):
        return str(content[0].get("errorCode", "UNKNOWN")), str(content[0].get("message", ""))
    status = getattr(exc, "status", None)
    return (f"HTTP_{status}" if status else "UNKNOWN"), str(content)[:500]


def _first_message(exc: SalesforceError) -> str:
    return _first_error(exc)[1]


def result_errors(result: dict) -> tuple[str, str]:
    """The code and message of a failed per-record collection result."""
    errors = result.get("errors") or [{}]
    return str(errors[0].get("statusCode") or errors[0].get("errorCode") or "UNKNOWN"), str(errors[0].get("message", ""))

