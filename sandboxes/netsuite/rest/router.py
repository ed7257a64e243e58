"""The /services/rest/ front: the token endpoint, bearer authentication, the account's concurrency pool (shared
with SOAP), the modelled latency and the injected failures, then the record, async, query and system services.

A request holds its concurrency slot from arrival until its answer is ready, as on the SOAP side. Over the limit it
is refused with HTTP 429 in the REST error format. Oracle's concurrency pages describe only the SOAP faults and the
RESTlet error (bridgehead_1525252812.html); for REST the sandbox answers 429 Too Many Requests with o:errorCode
CONCURRENCY_LIMIT_EXCEEDED (the code NetSuite's status list uses for the same refusal).
"""
from __future__ import annotations

import json
import sys
import time
import urllib.parse

from ... import web
from .answers import COLLECTION, ERROR, Answer
from .errors import RestError, bad_request, invalid_login
from .oauth import TOKEN_PATH, TokenRefused

PREFIX = "/services/rest/"
MAX_REQUEST_BYTES = 104 * 1024 * 1024   # REST's limit (article_0127092747.html and the async pages)


def _query(raw: str) -> dict:
    return {name: values[0] for name, values in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}


def _prefers(headers, token: str) -> bool:
    return any(part.strip().lower() == token for part in (headers.get("Prefer") or "").split(","))


def operation_of(method: str, path: str, headers) -> str:
    """A short name per kind of request, for stats and fault_operations (record.add, suiteql, async.submit ...)."""
    rest = path[len(PREFIX):]
    if rest.startswith("record/v1/metadata-catalog"):
        return "metadata"
    if rest.startswith("record/v1/"):
        if _prefers(headers, "respond-async"):
            return "async.submit"
        segments = [s for s in rest[len("record/v1/"):].split("/") if s]
        if method == "GET":
            return "record.get" if len(segments) > 1 else "record.list"
        return {"POST": "record.add", "PATCH": "record.update", "PUT": "record.upsert",
                "DELETE": "record.delete"}.get(method, "record.unknown")
    if rest.startswith("async/v1/"):
        return "async.poll"
    if rest.startswith("query/v1/suiteql"):
        return "suiteql"
    if rest.startswith("system/v1/governanceLimits"):
        return "governanceLimits"
    return "rest.unknown"


class RestFront:
    def __init__(self, *, store, zone, governance, account: str, tokens, records, jobs, suiteql):
        self.store, self.zone, self.governance, self.account = store, zone, governance, account
        self.tokens, self.records, self.jobs, self.suiteql = tokens, records, jobs, suiteql
        # The record metadata catalog, read from the XSDs: set when SOAP has a WSDL (see cli).
        self.catalog = None

    # -- HTTP --------------------------------------------------------------------------------------
    def handle(self, request: web.Request) -> web.Response:
        url = urllib.parse.urlsplit(request.path)
        path, query = url.path, _query(url.query)
        base = f"{request.scheme}://{request.host}"
        if path == TOKEN_PATH:
            return self._token(request, base + TOKEN_PATH)
        method, headers, governance = request.command, request.headers, self.governance
        operation = operation_of(method, path, headers)
        try:
            content = request.body(MAX_REQUEST_BYTES)
        except ValueError:
            request.close_after = True
            governance.count(operation, "REQUEST_TOO_LARGE")
            return self._answer(Answer.from_error(RestError(
                413, "REQUEST_TOO_LARGE", "The request is larger than the maximum of 104 MB.")))
        injected = self._gateway_fault(operation)
        if injected:
            return injected
        bearer = (headers.get("Authorization") or "").partition(" ")
        if bearer[0].lower() != "bearer" or not self.tokens.valid(bearer[2].strip()):
            governance.count(operation, "INVALID_LOGIN")
            return self._answer(Answer.from_error(invalid_login(self.account)))
        if not governance.enter():
            governance.count(operation, "CONCURRENCY_LIMIT_EXCEEDED")
            return self._answer(Answer.from_error(RestError(
                429, "CONCURRENCY_LIMIT_EXCEEDED",
                "Concurrent request limit exceeded. Request blocked.")))
        try:
            return self._in_slot(request, operation, method, path, query, content, base)
        finally:
            governance.leave()

    def _in_slot(self, request, operation, method, path, query, content, base) -> web.Response:
        governance = self.governance
        started = time.perf_counter()
        try:
            answer = self.route(method, path, query, request.headers, content, base, operation)
        except RestError as error:
            answer = Answer.from_error(error)
        except Exception as error:  # noqa: BLE001 - a sandbox bug must still reach the client as NetSuite would
            import traceback
            traceback.print_exc()
            answer = Answer.from_error(RestError(500, "UNEXPECTED_ERROR", f"An unexpected error occurred: {error!r}"))
        server_ms = (time.perf_counter() - started) * 1000
        code = (answer.body or {}).get("o:errorDetails", [{}])[0].get("o:errorCode") if answer.status >= 400 else None
        governance.count(operation, code, server_ms)
        latency = governance.latency_s(answer.records)
        if latency > server_ms / 1000:
            time.sleep(latency - server_ms / 1000)
        if governance.take("slow", operation):
            time.sleep(governance.settings["slow_ms"] / 1000)
        if governance.take("lost_response", operation):
            request.drop_connection()
            return web.Response(0, dropped=True)
        response = self._answer(answer)
        response.headers.update({"X-Sandbox-Server-Time": f"{server_ms:.3f}",
                                 "X-Sandbox-Latency": f"{latency * 1000:.3f}"})
        return response

    def _gateway_fault(self, operation: str) -> web.Response | None:
        for kind, status, reason in (("http_503", 503, "Service Unavailable"), ("http_500", 500, "Internal Server Error")):
            if self.governance.take(kind, operation):
                self.governance.count(operation, f"HTTP_{status}")
                page = (f"<!DOCTYPE html><html><head><title>{status} {reason}</title></head>"
                        f"<body><h1>{reason}</h1><hr><p>netsuite-sandbox</p></body></html>")
                return web.Response(status, page.encode(), "text/html")
        return None

    @staticmethod
    def _answer(answer: Answer) -> web.Response:
        return web.Response(answer.status, answer.encoded(), answer.content_type, dict(answer.headers))

    def _token(self, request, posted_to: str) -> web.Response:
        governance = self.governance
        if request.command != "POST":
            return web.Response(405, b'{"error":"invalid_request"}', "application/json", {"Allow": "POST"})
        injected = self._gateway_fault("token")
        if injected:
            return injected
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            answer = self.tokens.issue(request.body(64 * 1024), posted_to)
        except ValueError:
            governance.count("token", "invalid_request")
            return web.Response(400, b'{"error":"invalid_request"}', "application/json", no_store)
        except TokenRefused as refusal:
            governance.count("token", refusal.error)
            return web.Response(refusal.status, json.dumps({"error": refusal.error}).encode(), "application/json",
                                no_store)
        governance.count("token")
        return web.Response(200, json.dumps(answer).encode(), "application/json;charset=utf-8", no_store)

    # -- services ----------------------------------------------------------------------------------
    def route(self, method, path, query, headers, content: bytes, base: str, operation: str) -> Answer:
        rest = path[len(PREFIX):]
        if rest.startswith("record/v1/metadata-catalog"):
            return self.metadata(method, [s for s in rest[len("record/v1/metadata-catalog"):].split("/") if s])
        if rest.startswith("record/v1/"):
            segments = [s for s in rest[len("record/v1/"):].split("/") if s]
            if not segments:
                raise RestError(404, "NONEXISTENT_ID", "Specify a record type.")
            body = self._json(content) if method in ("POST", "PATCH", "PUT") or content else None
            content_type = (headers.get("Content-Type") or "").replace(" ", "").lower()
            is_batch = "type=collection" in content_type
            if _prefers(headers, "respond-async"):
                return self.jobs.submit(method, segments, query, body, base, is_batch=is_batch,
                                        idempotency_key=headers.get("X-NetSuite-Idempotency-Key"))
            if is_batch:
                raise bad_request("INVALID_HEADER", "Batch requests are executed asynchronously: send them with the "
                                  "'Prefer: respond-async' header.", header="Prefer")
            return self.records.perform(method, segments, query, body, base + PREFIX + "record/v1", operation)
        if rest.startswith("async/v1/"):
            if method not in ("GET", "HEAD"):
                raise RestError(405, "METHOD_NOT_ALLOWED", f"The {method} method is not allowed on this resource.")
            return self.jobs.poll([s for s in rest[len("async/v1/"):].split("/") if s], query, base)
        if rest.rstrip("/") == "query/v1/suiteql":
            if method != "POST":
                raise RestError(405, "METHOD_NOT_ALLOWED", "SuiteQL queries are sent with POST.")
            if not _prefers(headers, "transient"):
                raise bad_request("INVALID_HEADER", "SuiteQL queries need the 'Prefer: transient' header.",
                                  header="Prefer")
            body = self._json(content)
            if not isinstance(body, dict) or not isinstance(body.get("q"), str):
                raise bad_request("INVALID_CONTENT", "The request body must be a JSON object with the query in 'q'.",
                                  error_path="q")
            return self.suiteql.run(body["q"], query, base + PREFIX + "query/v1/suiteql")
        if rest.rstrip("/") == "system/v1/governanceLimits":
            return self.governance_limits()
        raise RestError(404, "NONEXISTENT_ID", f"The resource {path} does not exist.")

    def metadata(self, method: str, segments: list[str]) -> Answer:
        if method != "GET":
            raise RestError(405, "METHOD_NOT_ALLOWED", "The metadata catalog is read with GET.")
        if self.catalog is None:
            raise bad_request("METADATA_CATALOG_UNAVAILABLE", "The sandbox reads the metadata catalog from the WSDL's "
                              "XSDs, and it was started without a WSDL.")
        if len(segments) != 1:
            raise RestError(404, "NONEXISTENT_ID", "Ask for one record type: metadata-catalog/{type}.")
        return self.catalog.schema(segments[0])

    @staticmethod
    def _json(content: bytes):
        if not content.strip():
            return {}
        try:
            return json.loads(content)
        except ValueError as error:
            raise bad_request("INVALID_CONTENT", f"The request body is not valid JSON: {error}.") from None

    def governance_limits(self) -> Answer:
        """GET /services/rest/system/v1/governanceLimits (article_0625010817.html). The page names the three values
        but shows no body; the names here are SOAP's (getAccountGovernanceInfo, getIntegrationGovernanceInfo,
        article_0729100620.html), and the limit types are the XSD's GetIntegrationGovernanceInfoLimitType without the
        leading underscore, as the REST page spells integrationSpecific. Nothing is allocated to the sandbox's one
        integration, so it shares the whole account limit."""
        limit = int(self.governance.settings["concurrency_limit"])
        return Answer(200, {"accountConcurrencyLimit": limit, "unallocatedConcurrencyLimit": limit,
                            "integrationConcurrencyLimit": limit, "limitType": "account"},
                      content_type="application/json")
