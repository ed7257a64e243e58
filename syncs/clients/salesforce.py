"""The hub's only door to Salesforce, on simple-salesforce.

Returns plain dicts and raises only TransientError or PermanentError (syncs.clients.errors), each with Salesforce's
own errorCode and message. Every request has a timeout. simple-salesforce logs in again by itself when a session
expires (401 INVALID_SESSION_ID) and replays the request.
"""
import logging
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

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
        try:
            if c.get("USERNAME") and c.get("PASSWORD"):
                return Salesforce(username=c["USERNAME"], password=c["PASSWORD"],
                                  security_token=c.get("SECURITY_TOKEN") or "", **common)
            if c.get("CONSUMER_KEY") and c.get("CONSUMER_SECRET"):
                return Salesforce(consumer_key=c["CONSUMER_KEY"], consumer_secret=c["CONSUMER_SECRET"], **common)
        except SalesforceAuthenticationFailed as exc:
            raise PermanentError(str(exc.code or "INVALID_LOGIN"), str(exc.message)) from exc
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
        except requests.Timeout as exc:
            raise TransientError("TIMEOUT", f"Salesforce did not answer in time: {exc}", outcome_unknown=True) from exc
        except requests.ConnectionError as exc:
            raise TransientError("CONNECTION_ERROR", f"Connection to Salesforce failed: {exc}", outcome_unknown=True) from exc


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


def instance_host(url: str) -> str:
    return urlsplit(url).netloc
