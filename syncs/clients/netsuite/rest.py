"""The SuiteTalk REST transport of the NetSuite client interface (interface.py), with OAuth 2.0 client credentials.

Writes are asynchronous batch upserts by external id (one request per record type, up to 100 records), each with an
idempotency key, polled until NetSuite has run them; reads are SuiteQL (rest_reads.py). One requests.Session per
client, a timeout on every request, TLS verified. Errors leave only as TransientError or PermanentError with
NetSuite's code and message, classified as on the SOAP side:

- 429 and 503 say the request was refused before any work: transient, nothing written;
- another 5xx, a timeout or a dropped connection may come after NetSuite did the work: transient with the outcome
  unknown for a write;
- 401: the token is renewed once, then the refusal is INVALID_LOGIN;
- a REST error body gives its o:errorCode and detail; an answer that is not the JSON asked for is named for what it is.

A lost answer to a batch is resolved by asking NetSuite again with the same idempotency key, which answers with the
job first submitted: a batch is never written twice.
"""
from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from ..errors import PermanentError, RemoteError, TransientError
from . import custom_fields, rest_reads
from .custom_fields import CustomField
from .interface import GET_LIST_LIMIT, UPSERT_LIST_LIMIT, SearchPage, UnknownRecordType, WriteResult
from .rest_auth import TOKEN_PATH, M2MCredentials, access_tokens
from .rest_records import RecordShapeError, error_parts, record_item, task_result

logger = logging.getLogger(__name__)
# The account's custom fields as its metadata catalog lists them, per base URL, kept a few minutes.
_definitions: dict[str, custom_fields.DefinitionCache] = {}
_definitions_lock = threading.Lock()

RECORD_PATH = "/services/rest/record/v1"
SUITEQL_PATH = "/services/rest/query/v1/suiteql"
COLLECTION = "application/vnd.oracle.resource+json; type=collection"
# Refused before any work (RFC 6585 §4, RFC 9110 §15.6.4): retry, nothing can have been written.
NOT_TAKEN_ON = {429, 503}
# A batch submit whose answer was lost is sent again (same body, same key) this many times within the call.
SUBMIT_TRIES = 3
# Polls and result reads change nothing: a transient fault of one is worth a few quick tries within the call.
GET_TRIES = 3
# The first look at a job comes soon (a small batch runs in well under a second), later ones less often: a job
# waiting for one of the account's async processors is seen a few seconds late at worst, and the processor has
# the next job meanwhile.
POLL_FIRST_S, POLL_GROWTH, POLL_MAX_S = 0.05, 1.5, 5.0
# Keys of one batch, derived from the batch's key by record type (uuid5 of this namespace): the same batch sent
# again reproduces them.
BATCH_KEYS = uuid.UUID("6f1d3a52-94c4-4f5e-9a0e-0b7c2f1e8d41")
# Task results read at once per batch.
RESULT_READERS = 4
# A server clock further than this from what the zone setting makes of SuiteQL's local time: the zone is wrong.
ZONE_TOLERANCE = timedelta(minutes=20)


def default_rest_url(account: str) -> str:
    return f"https://{account.lower().replace('_', '-')}.suitetalk.api.netsuite.com"


def batch_key(idempotency_key: str, record_type: str, replaced: tuple[str, ...]) -> str:
    """The key of one record type's job within a batch: deterministic, so a batch sent again reuses it."""
    return str(uuid.uuid5(BATCH_KEYS, f"{idempotency_key}|{record_type}|{','.join(replaced)}"))


class RestNetSuiteClient:
    idempotent_batches = True

    def __init__(self, config: dict | None = None):
        self.config = config or settings.NETSUITE
        self.base_url = (self.config.get("REST_URL") or default_rest_url(self.config["ACCOUNT"])).rstrip("/")
        self.timeout = float(self.config["TIMEOUT"])
        self.zone = ZoneInfo(self.config.get("TIME_ZONE") or "America/Los_Angeles")
        self.credentials = M2MCredentials(token_url=self.base_url + TOKEN_PATH, client_id=self.config["CLIENT_ID"],
                                          certificate_id=self.config["CERTIFICATE_ID"],
                                          private_key=self.config["PRIVATE_KEY"])
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = self.config.get("CA_BUNDLE") or True
        # Pooled connections for as many requests as may be in flight at once (the account's limit: a pull's keyset
        # ranges side by side and the pushes' senders), so that none is dropped after its answer and opened again
        # (requests keeps ten by default).
        adapter = HTTPAdapter(pool_maxsize=max(10, int(self.config.get("CONCURRENCY_LIMIT") or 0)))
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    # --- writes -------------------------------------------------------------------------------------------------
    def upsert_list(self, records: list[dict], *, hold=contextlib.nullcontext, idempotency_key: str = "") -> list[WriteResult]:
        """Upsert up to 100 records by externalId: one asynchronous batch per record type (NetSuite's batches hold
        one type), all submitted before any is polled. One result per record, in order; a record REST can't express
        fails alone, unsent. `idempotency_key` names the batch: the same key with the same records reproduces each
        job's key, so NetSuite answers a batch sent again with the first one's results."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_0127092747.html
        if len(records) > UPSERT_LIST_LIMIT:
            raise ValueError(f"a batch takes at most {UPSERT_LIST_LIMIT} records")
        batch = idempotency_key or str(uuid.uuid4())
        self.prepare_custom_fields(custom_fields.record_types_with_custom_fields(records), hold=hold)
        results: list[WriteResult | None] = [None] * len(records)
        groups: dict[tuple[str, tuple[str, ...]], list[tuple[int, dict]]] = {}
        for index, record in enumerate(records):
            try:
                item, replaced = record_item(record, custom_fields=self.custom_fields)
            except RecordShapeError as error:
                results[index] = WriteResult(success=False, external_id=str(record.get("externalId") or ""),
                                             code="HUB_INVALID_RECORD", message=str(error))
                continue
            groups.setdefault((record["type"], replaced), []).append((index, item))
        # A job NetSuite has taken on may wait in its queue for the account's async processors: it is waited for
        # longer than one request (NETSUITE_ASYNC_WAIT_SECONDS; the tries' leases are renewed meanwhile).
        deadline = time.monotonic() + float(self.config.get("ASYNC_WAIT", 300))
        jobs = [(group, self._submit(record_type, replaced, [item for _, item in group],
                                     batch_key(batch, record_type, replaced), hold))
                for (record_type, replaced), group in groups.items()]
        for group, job_url in jobs:
            try:
                job_results = self._job_results(job_url, len(group), hold, deadline)
            except RemoteError as error:
                # The batches were taken on: whatever failed after that, their records may be written.
                error.outcome_unknown = True
                raise
            for (index, item), result in zip(group, job_results):
                result.external_id = result.external_id or item["externalId"]
                results[index] = result
        return results

    def _submit(self, record_type: str, replaced: tuple[str, ...], items: list[dict], key: str, hold) -> str:
        """Submit one batch; the job's URL. A lost answer is resolved by submitting again with the same key: NetSuite
        answers a key it has seen with 400 IDEMPOTENCY_ERROR and the first job's address, and writes nothing."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/subsect_164494900632.html
        headers = {"Prefer": "respond-async", "Content-Type": COLLECTION, "X-NetSuite-Idempotency-Key": key}
        params = {"replace": ",".join(replaced)} if replaced else None
        unsure = False
        for number in range(1, SUBMIT_TRIES + 1):
            try:
                reply = self._exchange("PUT", f"{RECORD_PATH}/{record_type}", hold=hold, write=True, headers=headers,
                                       params=params, json={"items": items})
            except TransientError as error:
                unsure = unsure or error.outcome_unknown
                if number == SUBMIT_TRIES or not unsure:
                    # A refusal before any work (429, 503) is the caller's to retry. Once one try may have landed,
                    # the call's outcome is unknown whatever the last try said.
                    raise TransientError(error.code, error.message, outcome_unknown=unsure) from error
                logger.info("Batch submit failed (%s); sending it again with the same idempotency key", error.code)
                time.sleep(random.uniform(0.2, 0.5) * 2 ** (number - 1))
                continue
            location = reply.headers.get("Location") or ""
            if reply.status_code == 202 and location:
                return urljoin(self.base_url + "/", location)
            code, message, _ = error_parts(self._json_or_none(reply))
            if reply.status_code == 400 and code == "IDEMPOTENCY_ERROR" and location:
                return urljoin(self.base_url + "/", location)
            if reply.status_code < 400:
                raise TransientError("UNEXPECTED_RESPONSE", f"NetSuite answered a batch with HTTP {reply.status_code} "
                                     "and no job address", outcome_unknown=True)
            raise self._refusal(reply, outcome_unknown=unsure)
        raise AssertionError("unreachable")

    def _job_results(self, job_url: str, expected: int, hold, deadline: float) -> list[WriteResult]:
        """Poll the job until NetSuite has run it, then each task's result (task n is item n)."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/chapter_161251386312.html
        wait = POLL_FIRST_S
        while True:
            job = self._get_json(job_url, hold=hold)
            if job.get("completed") is True:
                break
            if time.monotonic() + wait > deadline:
                raise TransientError("ASYNC_JOB_TIMEOUT", f"NetSuite had not run the batch job {job_url} in time "
                                     f"(NETSUITE_ASYNC_WAIT_SECONDS; progress: {job.get('progress')}); the next try "
                                     "asks for it again under the same key", outcome_unknown=True)
            time.sleep(wait)
            wait = min(wait * POLL_GROWTH, POLL_MAX_S)
        tasks = self._get_json(f"{job_url}/task", hold=hold, params={"limit": 1000})
        ids = sorted((str(task.get("id")) for task in tasks.get("items") or []), key=lambda i: (not i.isdigit(), int(i) if i.isdigit() else 0, i))
        if len(ids) != expected:
            raise TransientError("UNEXPECTED_RESPONSE", f"NetSuite's job {job_url} has {len(ids)} tasks for {expected} "
                                 "records", outcome_unknown=True)
        def result(task_id: str) -> WriteResult:
            reply = self._get(f"{job_url}/task/{task_id}/result", hold=hold, accept_refusal=True)
            return task_result("", reply.status_code, reply.headers.get("Location") or "", self._json_or_none(reply))

        # One GET per record: a few at a time (each in a slot of its own), so that the batch's last result is not a
        # hundred round trips after NetSuite finished it.
        with ThreadPoolExecutor(max_workers=min(RESULT_READERS, len(ids)) or 1,
                                thread_name_prefix="netsuite-results") as pool:
            return list(pool.map(result, ids))

    # --- reads --------------------------------------------------------------------------------------------------
    def get_by_external_ids(self, record_type: str, external_ids: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(external_ids), GET_LIST_LIMIT):
            chunk = external_ids[start:start + GET_LIST_LIMIT]
            for row in self.suiteql(rest_reads.by_external_ids_query(record_type, chunk), limit=GET_LIST_LIMIT)["items"]:
                if row.get("externalid"):
                    found[row["externalid"]] = str(row["id"])
        return found

    def get_names_by_internal_ids(self, record_type: str, internal_ids: list[str]) -> dict[str, str]:
        """internalId → name (an item's itemid, an entity's entityid) of the records that exist, by SuiteQL."""
        if record_type in rest_reads.NAMED_LISTS:
            table, name_column = record_type, rest_reads.NAMED_LISTS[record_type]
        else:
            table, name_column = ("item", "itemid") if record_type.lower().endswith("item") else (
                rest_reads.entity_table(record_type), "entityid")
        found: dict[str, str] = {}
        wanted = [str(int(internal_id)) for internal_id in internal_ids if str(internal_id).isdigit()]
        for start in range(0, len(wanted), GET_LIST_LIMIT):
            chunk = ", ".join(wanted[start:start + GET_LIST_LIMIT])
            query = f"SELECT id, {name_column} AS name FROM {table} WHERE id IN ({chunk})"
            for row in self.suiteql(query, limit=GET_LIST_LIMIT)["items"]:
                found[str(row["id"])] = str(row.get("name") or "")
        return found

    def external_ids(self, record_type: str) -> list[str]:
        found, after = [], 0
        while True:
            rows = self.suiteql(rest_reads.external_ids_query(record_type, after), limit=1000)["items"]
            found += [str(row.get("externalid") or "") for row in rows]
            if len(rows) < 1000:
                return found
            after = int(rows[-1]["id"])

    def transaction_pages(self, *, transaction_type: str, modified_since: datetime | None,
                          created_since: datetime | None = None, page_size: int = 1000, body_fields_only: bool = True,
                          resume_after: tuple[datetime, str] | None = None, hold=contextlib.nullcontext,
                          retrying=lambda read: read(), pages_at_once: int = 2):
        """Every transaction of one type modified (and created) at or after the given moments, by (last modified,
        id): a keyset cursor, so a record changed meanwhile moves behind the cursor and is read again, never
        skipped. A keyset page needs the last key of the one before, so one cursor reads one page ahead. A sweep of
        more than a couple of pages is read on, after its first page, in up to `pages_at_once` ranges of internal
        ids side by side, each a keyset cursor of its own (rest_reads.keyset_pages): its pages come in any order
        across the ranges, and their resume marks are the position up to which every range has been read."""
        return rest_reads.keyset_pages(self, transaction_type=transaction_type, modified_since=modified_since,
                                       created_since=created_since, page_size=page_size,
                                       body_fields_only=body_fields_only, resume_after=resume_after, hold=hold,
                                       retrying=retrying, pages_at_once=pages_at_once)

    def transactions_created_from(self, record_type: str, internal_ids: list[str], *,
                                  hold=contextlib.nullcontext) -> dict[str, str]:
        """internalId → the internalId of the transaction it was created from (transaction.createdfrom), one
        SuiteQL query per thousand ids; records that don't exist or have none are left out."""
        found: dict[str, str] = {}
        wanted = [str(int(i)) for i in internal_ids if str(i).isdigit()]
        for start in range(0, len(wanted), GET_LIST_LIMIT):
            query = rest_reads.created_from_query(record_type, wanted[start:start + GET_LIST_LIMIT])
            for row in self.suiteql(query, limit=GET_LIST_LIMIT, hold=hold)["items"]:
                found[str(row["id"])] = str(row["createdfrom"])
        return found

    def deleted_since(self, record_types: list[str], since: datetime | None, *,
                      hold=contextlib.nullcontext) -> list[dict]:
        """Every deletion of those record types at or after `since` (all when None), from SuiteQL's deletedrecord,
        paged by (deleteddate, recordid)."""
        by_name = {t.lower(): t for t in record_types}
        found: list[dict] = []
        after = None
        while True:
            query = rest_reads.deleted_query(record_types, since, self.zone, after)
            answer = self.suiteql(query, limit=1000, hold=hold)
            rows = answer.get("items") or []
            for row in rows:
                moment = rest_reads.account_datetime(row["deleteddate"], self.zone)
                found.append({"internalId": str(row["recordid"]), "type": by_name.get(row.get("recordtype"),
                                                                                     row.get("recordtype")),
                              "deletedDate": moment, "name": row.get("name") or ""})
                after = (moment, int(row["recordid"]))
            if not answer.get("hasMore") or not rows:
                return found

    def server_time(self) -> datetime:
        """NetSuite's clock, from SuiteQL's SYSDATE (the account's own clock, to the second). SuiteQL answers in the
        integration user's time zone, which NETSUITE_TIME_ZONE must name: checked here against the answer's HTTP
        Date header, since a wrong zone would move every pull's watermark by hours."""
        reply = self._exchange("POST", SUITEQL_PATH, hold=contextlib.nullcontext, write=False,
                               headers={"Prefer": "transient"}, params={"limit": 1}, json={"q": rest_reads.CLOCK_QUERY})
        if reply.status_code >= 400:
            raise self._refusal(reply)
        rows = self._expect_json(reply).get("items") or []
        if not rows or not rows[0].get("servertime"):
            raise TransientError("UNEXPECTED_RESPONSE", "NetSuite's SuiteQL answered no server time")
        moment = rest_reads.account_datetime(rows[0]["servertime"], self.zone)
        date_header = reply.headers.get("Date")
        if date_header:
            try:
                told = parsedate_to_datetime(date_header)
            except (TypeError, ValueError):
                told = None
            if told is not None and told.tzinfo is not None and abs(told - moment) > ZONE_TOLERANCE:
                raise PermanentError("TIME_ZONE_MISMATCH", f"NetSuite's SuiteQL clock reads {rows[0]['servertime']}, "
                                     f"which in {self.zone.key} is {moment.isoformat()}, while its HTTP Date header "
                                     f"says {told.isoformat()}: set NETSUITE_TIME_ZONE to the integration user's time "
                                     "zone (Set Preferences > Time Zone)")
        return moment

    def describe_record_type(self, record_type: str) -> set[str]:
        """Field names from the REST metadata catalog (a line type such as salesOrderItem: its order's sublist), with
        internalId beside id, as the interface's records name it. The account's custom fields are among them."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545241305.html
        schema, sublist, resolve = self._catalog(record_type)
        return rest_reads.catalog_fields(schema, sublist, resolve)

    def prepare_custom_fields(self, record_types, *, hold=contextlib.nullcontext) -> None:
        """Read the definitions these record types need unless they are fresh, each catalog read in a slot (`hold`);
        one read serves a record type and its lines."""
        for parent in {rest_reads.LINE_TYPES.get(name, (name, ""))[0] for name in record_types}:
            if parent in rest_reads.RECORD_TABLES:
                self._definition_cache().ensure(parent, hold, self._read_custom_fields)

    def custom_fields(self, record_type: str) -> dict[str, CustomField]:
        """The custom fields the catalog lists for a record type (or its lines), by script id; kept a few minutes."""
        parent = rest_reads.LINE_TYPES.get(record_type, (record_type, ""))[0]
        if parent not in rest_reads.RECORD_TABLES:
            raise UnknownRecordType(record_type)
        return self._definition_cache().get(parent, self._read_custom_fields).get(record_type, {})

    def _definition_cache(self) -> custom_fields.DefinitionCache:
        with _definitions_lock:
            return _definitions.setdefault(self.base_url, custom_fields.DefinitionCache())

    def _read_custom_fields(self, parent: str) -> dict[str, dict[str, CustomField]]:
        """The custom fields of a record type and of its lines' record types, from the one catalog schema."""
        schema, _, resolve = self._catalog(parent)
        found = {parent: rest_reads.catalog_custom_fields(schema, "", resolve)}
        for line_type, (of, sublist) in rest_reads.LINE_TYPES.items():
            if of == parent:
                found[line_type] = rest_reads.catalog_custom_fields(schema, sublist, resolve)
        return found

    def _catalog(self, record_type: str):
        """(the record type's metadata catalog schema, the sublist a line type lives in, a reader of $ref parts)."""
        parent, sublist = rest_reads.LINE_TYPES.get(record_type, (record_type, ""))
        if parent not in rest_reads.RECORD_TABLES:
            raise UnknownRecordType(record_type)
        def schema(url: str) -> dict:
            reply = self._get(url, hold=contextlib.nullcontext, headers={"Accept": "application/schema+json"},
                              accept_refusal=True)
            if reply.status_code == 404:
                raise UnknownRecordType(record_type)
            if reply.status_code >= 400:
                raise self._refusal(reply)
            return self._expect_json(reply)

        def resolve(part: dict) -> dict:
            return schema(urljoin(self.base_url + "/", part["$ref"])) if isinstance(part.get("$ref"), str) else part

        return schema(f"{RECORD_PATH}/metadata-catalog/{parent}"), sublist, resolve

    def suiteql(self, query: str, *, limit: int = 1000, offset: int = 0, hold=contextlib.nullcontext) -> dict:
        """One page of a SuiteQL query's rows."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html
        reply = self._exchange("POST", SUITEQL_PATH, hold=hold, write=False, headers={"Prefer": "transient"},
                               params={"limit": limit, "offset": offset}, json={"q": query})
        if reply.status_code >= 400:
            raise self._refusal(reply)
        return self._expect_json(reply)

    # --- plumbing -----------------------------------------------------------------------------------------------
    def _get(self, url: str, *, hold, params=None, headers=None, accept_refusal: bool = False) -> requests.Response:
        """A GET, its transient faults tried again within the call (reading changes nothing), never inside `hold`."""
        for number in range(1, GET_TRIES + 1):
            try:
                reply = self._exchange("GET", url, hold=hold, write=False, params=params, headers=headers)
            except TransientError as error:
                if number == GET_TRIES:
                    raise
                logger.info("NetSuite read failed (%s); trying again", error.code)
                time.sleep(random.uniform(0.2, 0.5) * 2 ** (number - 1))
                continue
            if reply.status_code >= 400 and not accept_refusal:
                raise self._refusal(reply)
            return reply
        raise AssertionError("unreachable")

    def _get_json(self, url: str, *, hold, params=None) -> dict:
        return self._expect_json(self._get(url, hold=hold, params=params))

    def _exchange(self, method: str, url: str, *, hold, write: bool, headers=None, params=None, json=None) -> requests.Response:
        """One request with the bearer token, inside `hold` (the concurrency slot) for the HTTP exchange only; a
        refused token is renewed once. Faults of the transport and of the whole request are raised; any other answer
        is returned."""
        if url.startswith("/"):
            url = self.base_url + url
        for renewed in (False, True):
            token = access_tokens.token(self.credentials, self.session, self.timeout)
            request_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})}
            try:
                with hold():
                    reply = self.session.request(method, url, headers=request_headers, params=params, json=json,
                                                 timeout=self.timeout)
            except requests.Timeout as exc:
                raise TransientError("TIMEOUT", f"NetSuite did not answer in time: {exc}", outcome_unknown=write) from exc
            except requests.ConnectionError as exc:
                raise TransientError("CONNECTION_ERROR", f"The connection to NetSuite failed: {exc}",
                                     outcome_unknown=write) from exc
            if reply.status_code == 401:
                access_tokens.refused(self.credentials, token)
                if not renewed:
                    continue
                code, message, _ = error_parts(self._json_or_none(reply))
                raise PermanentError("INVALID_LOGIN", f"NetSuite refused the OAuth 2.0 access token twice, a new one "
                                     f"included ({code or 'HTTP 401'}: {message or reply.headers.get('WWW-Authenticate', '')}); "
                                     "check the integration role's REST Web Services and OAuth 2.0 permissions")
            if reply.status_code in NOT_TAKEN_ON or reply.status_code >= 500:
                code, message, _ = error_parts(self._json_or_none(reply))
                # 429 (the account's concurrency limit) and 503 come before any work; another 5xx may come after it.
                raise TransientError(code or f"HTTP_{reply.status_code}",
                                     message or f"NetSuite answered HTTP {reply.status_code}",
                                     outcome_unknown=write and reply.status_code not in NOT_TAKEN_ON)
            return reply
        raise AssertionError("unreachable")

    @staticmethod
    def _json_or_none(reply: requests.Response):
        if not reply.content or "json" not in (reply.headers.get("Content-Type") or "").lower():
            return None
        try:
            return reply.json()
        except ValueError:
            return None

    def _expect_json(self, reply: requests.Response) -> dict:
        body = self._json_or_none(reply)
        if isinstance(body, dict):
            return body
        content_type = reply.headers.get("Content-Type") or "no content type"
        if not reply.content.strip():
            raise TransientError("EMPTY_RESPONSE", f"NetSuite answered HTTP {reply.status_code} with an empty body "
                                 "where JSON was expected")
        raise TransientError("UNEXPECTED_CONTENT", f"NetSuite answered HTTP {reply.status_code} {content_type} where "
                             f"JSON was expected: {reply.content[:200]!r}")

    def _refusal(self, reply: requests.Response, *, outcome_unknown: bool = False) -> RemoteError:
        """A 4xx answer as NetSuite's own code and message."""
        code, message, path = error_parts(self._json_or_none(reply))
        if not code:
            content_type = reply.headers.get("Content-Type") or "no content type"
            return PermanentError(f"HTTP_{reply.status_code}", f"NetSuite answered HTTP {reply.status_code} "
                                  f"({content_type}): {reply.content[:200]!r}", outcome_unknown=outcome_unknown)
        kind = TransientError if code in ("CONCURRENCY_LIMIT_EXCEEDED", "RCRD_HAS_BEEN_CHANGED") else PermanentError
        return kind(code, f"{message} ({path})" if path else message, outcome_unknown=outcome_unknown)
