"""HTTP front of the sandbox: the SOAP endpoint, the WSDL and XSDs, and the /_sandbox control API.

Governance lives here because it is about requests, not records: a request holds one of the
account's concurrency slots from arrival until its response is ready, injected latency included.
"""
from __future__ import annotations

import datetime as dt
import json
import posixpath
import sys
import time
import urllib.parse

from .. import web
from . import envelope, faults, payments, records
from .governance import Governance
from .operations import NetSuiteApp

SERVICE_PATH = "/services/NetSuitePort_2023_2"
WSDL_PREFIX = "/wsdl/v2023_2_0/"
WSDL_PATH = WSDL_PREFIX + "netsuite.wsdl"
MAX_REQUEST_BYTES = 100 * 1024 * 1024  # NetSuite's limit
XML = "text/xml; charset=utf-8"


class Handler:
    """One request to the account: the SOAP endpoint, the WSDL, or the control API."""

    def __init__(self, app: NetSuiteApp, governance: Governance, request: web.Request, *, verbose: bool = False):
        self.app, self.governance, self.request = app, governance, request
        self.headers = request.headers
        self.verbose = verbose

    def dispatch(self) -> web.Response:
        method = self.request.command
        if method in ("GET", "HEAD"):
            response = self.do_get()
        elif method == "POST":
            response = self.do_post()
        else:
            response = web.Response(405, b"Method Not Allowed", "text/plain", {"Allow": "GET, HEAD, POST"})
        if self.verbose:
            sys.stderr.write(f'netsuite sandbox: "{method} {self.request.path}" {response.status}\n')
        return response

    # -- plumbing ----------------------------------------------------------------------------------
    @staticmethod
    def _json(status: int, payload) -> web.Response:
        return web.Response(status, json.dumps(payload, indent=1).encode(), "application/json")

    def _endpoint(self) -> str:
        return f"http://{self.request.host}{SERVICE_PATH}"

    # -- GET ---------------------------------------------------------------------------------------
    def do_get(self) -> web.Response:
        url = urllib.parse.urlsplit(self.request.path)
        path = posixpath.normpath(url.path.replace("//", "/"))
        wsdl = self.app.wsdl
        if path == WSDL_PATH.rstrip("/") or (path == SERVICE_PATH and url.query.lower() == "wsdl"):
            return web.Response(200, wsdl.wsdl_for(self._endpoint()), XML)
        if path.startswith(WSDL_PREFIX):
            content = wsdl.xsd(path[len(WSDL_PREFIX):])
            if content is not None:
                return web.Response(200, content, XML)
        if path == "/_sandbox/health":
            return self._json(200, {"ok": True})
        if path == "/_sandbox/stats":
            stats = self.governance.snapshot()
            stats["records"] = self.app.store.counts()
            return self._json(200, stats)
        return web.Response(404, b"Not Found", "text/plain")

    # -- POST --------------------------------------------------------------------------------------
    def do_post(self) -> web.Response:
        path = urllib.parse.urlsplit(self.request.path).path
        if path == SERVICE_PATH:
            return self._soap()
        try:
            payload = json.loads(self.request.body(1024 * 1024) or b"{}")
        except ValueError:
            return self._json(400, {"error": "the body must be JSON"})
        app, governance = self.app, self.governance
        try:
            if path == "/_sandbox/control":
                return self._json(200, {"settings": governance.update(payload)})
            if path == "/_sandbox/pay":
                result = payments.generate(app.store, days=int(payload.get("days", 30)),
                                           per_day=int(payload.get("per_day", 5)),
                                           seed=int(payload.get("seed", 1)), zone=app.zone,
                                           backdate=bool(payload.get("backdate", True)),
                                           modified_at=(dt.datetime.fromisoformat(payload["modified_at"])
                                                        if payload.get("modified_at") else None))
                return self._json(200, result)
            if path == "/_sandbox/reset":
                app.store.wipe()
                records.seed_items(app.store)
                governance.reset_stats()
                return self._json(200, {"reset": True})
        except (KeyError, ValueError, TypeError) as error:
            return self._json(400, {"error": str(error)})
        return self._json(404, {"error": f"no such endpoint {path}"})

    def _soap(self) -> web.Response:
        governance = self.governance
        operation = (self.headers.get("SOAPAction") or "").strip('"') or "unknown"
        try:
            content = self.request.body(MAX_REQUEST_BYTES)
        except ValueError:
            # Not read: answered at once, and the connection closed so the rest of the body cannot be taken for a
            # request.
            self.request.close_after = True
            governance.count(operation, "EXCEEDED_RQST_SIZE_LIMIT")
            return web.Response(500, envelope.fault_response(faults.request_too_large(MAX_REQUEST_BYTES)), XML)
        if not governance.enter():
            governance.count(operation, "WS_REQUEST_BLOCKED")
            fault = faults.concurrency_exceeded(governance.settings["concurrency_limit"])
            return web.Response(500, envelope.fault_response(fault), XML)
        try:
            return self._soap_in_slot(operation, content)
        finally:
            # The request is over once its answer is ready: a client that reads it and sends the next one at once
            # must find the slot free (leaving after the write raced with that next request).
            governance.leave()

    def _soap_in_slot(self, operation: str, content: bytes) -> web.Response:
        """Handle a request inside its concurrency slot; a dropped response when the answer is lost on purpose."""
        governance = self.governance
        for kind, status, reason in (("http_503", 503, "Service Unavailable"), ("http_500", 500, "Internal Server Error")):
            if governance.take(kind, operation):
                governance.count(operation, f"HTTP_{status}")
                # A gateway's HTML page, not SOAP (and not even XML), as a load balancer in front of
                # NetSuite sends it; zeep turns it into a TransportError carrying the status.
                page = (f"<!DOCTYPE html><html><head><title>{status} {reason}</title></head>"
                        f"<body><h1>{reason}</h1><hr><p>netsuite-sandbox</p></body></html>")
                return web.Response(status, page.encode(), "text/html")
        started = time.perf_counter()
        outcome = self.app.handle(content, operation)
        server_ms = (time.perf_counter() - started) * 1000
        governance.count(outcome.operation, outcome.fault_code, server_ms)
        # The modelled latency is the request's whole time on the server: the sandbox's own work (parsing and
        # checking the envelope, storing) counts towards it, so only the rest is slept.
        latency = governance.latency_s(outcome.records)
        if latency > server_ms / 1000:
            time.sleep(latency - server_ms / 1000)
        if governance.take("slow", outcome.operation):
            time.sleep(governance.settings["slow_ms"] / 1000)
        if governance.take("lost_response", outcome.operation):
            # The work is committed; the client just never hears about it.
            self.request.drop_connection()
            return web.Response(0, dropped=True)
        headers = {"X-Sandbox-Server-Time": f"{server_ms:.3f}", "X-Sandbox-Latency": f"{latency * 1000:.3f}"}
        return web.Response(outcome.http_status, outcome.content, XML, headers)


def application(app: NetSuiteApp, governance: Governance, *, verbose: bool = False):
    """The account as a WSGI application."""
    return web.wsgi_app(lambda request: Handler(app, governance, request, verbose=verbose).dispatch())


def serve(app: NetSuiteApp, governance: Governance, host: str, port: int, *, verbose: bool = False,
          threads: int | None = None) -> None:
    # Enough threads that every request over the concurrency limit is still answered (refused) at once.
    threads = threads or max(64, 4 * int(governance.settings["concurrency_limit"]))
    server = web.build(application(app, governance, verbose=verbose), host, port, threads=threads,
                       name="NetSuiteSandbox/2023.2")
    bound_host, bound_port = web.bound_address(server)
    print(f"NetSuite sandbox listening on http://{bound_host}:{bound_port}{SERVICE_PATH} "
          f"(WSDL http://{bound_host}:{bound_port}{WSDL_PATH})", flush=True)
    web.serve_forever(server)
