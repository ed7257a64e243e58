"""HTTP front of the sandbox: the SOAP endpoint, the WSDL and XSDs, SuiteTalk REST (rest.router), and the
/_sandbox control API.

Governance lives here because it is about requests, not records: a request holds one of the
account's concurrency slots from arrival until its response is ready, injected latency included.
SOAP and REST draw on the same slots, as NetSuite's one account-wide pool.
"""
from __future__ import annotations

import datetime as dt
import json
import posixpath
import sys
import time
import urllib.parse
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .. import web
from . import custom_fields, envelope, faults, operations_money, payments, records
from .accounting import AccountingError
from .governance import Governance
from .operations import NetSuiteApp
from .rest.router import PREFIX as REST_PREFIX
from .rest.router import RestFront
from .store import Store

SERVICE_PATH = "/services/NetSuitePort_2023_2"
WSDL_PREFIX = "/wsdl/v2023_2_0/"
WSDL_PATH = WSDL_PREFIX + "netsuite.wsdl"
MAX_REQUEST_BYTES = 100 * 1024 * 1024  # NetSuite's limit
XML = "text/xml; charset=utf-8"


@dataclass
class Account:
    """What both transports serve: one store, one zone, one governance; SOAP only when a WSDL was loaded."""
    store: Store
    zone: ZoneInfo
    rest: RestFront
    soap: NetSuiteApp | None
    soap_off_reason: str = ""


class Handler:
    """One request to the account: the SOAP endpoint, the WSDL, REST, or the control API."""

    def __init__(self, account: Account, governance: Governance, request: web.Request, *, verbose: bool = False):
        self.account, self.app, self.governance, self.request = account, account.soap, governance, request
        self.headers = request.headers
        self.verbose = verbose

    def dispatch(self) -> web.Response:
        method = self.request.command
        if self.request.path.startswith(REST_PREFIX):
            response = self.account.rest.handle(self.request)
        elif method in ("GET", "HEAD"):
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
        if self.app is None and (path.startswith(WSDL_PREFIX) or path == SERVICE_PATH):
            return self._soap_off()
        if self.app is not None:
            wsdl = self.app.wsdl
            if path == WSDL_PATH.rstrip("/") or (path == SERVICE_PATH and url.query.lower() == "wsdl"):
                return web.Response(200, wsdl.wsdl_for(self._endpoint()), XML)
            if path.startswith(WSDL_PREFIX):
                content = wsdl.xsd(path[len(WSDL_PREFIX):])
                if content is not None:
                    return web.Response(200, content, XML)
        if path == "/_sandbox/health":
            return self._json(200, {"ok": True, "soap": self.app is not None, "rest": True})
        if path == "/_sandbox/custom-fields":
            with self.account.store.read() as connection:
                return self._json(200, {"fields": custom_fields.listing(connection)})
        if path == "/_sandbox/stats":
            stats = self.governance.snapshot()
            stats["records"] = self.account.store.counts()
            return self._json(200, stats)
        return web.Response(404, b"Not Found", "text/plain")

    # -- POST --------------------------------------------------------------------------------------
    def do_post(self) -> web.Response:
        path = urllib.parse.urlsplit(self.request.path).path
        if path == SERVICE_PATH:
            return self._soap() if self.app is not None else self._soap_off()
        try:
            payload = json.loads(self.request.body(1024 * 1024) or b"{}")
        except ValueError:
            return self._json(400, {"error": "the body must be JSON"})
        account, governance = self.account, self.governance
        try:
            if path == "/_sandbox/control":
                return self._json(200, {"settings": governance.update(payload)})
            if path == "/_sandbox/pay":
                result = payments.generate(account.store, days=int(payload.get("days", 30)),
                                           per_day=int(payload.get("per_day", 5)),
                                           seed=int(payload.get("seed", 1)), zone=account.zone,
                                           backdate=bool(payload.get("backdate", True)),
                                           modified_at=(dt.datetime.fromisoformat(payload["modified_at"])
                                                        if payload.get("modified_at") else None))
                return self._json(200, result)
            if path == "/_sandbox/void":
                # Neither SOAP 2023_2 nor REST can void (NetSuite voids from the UI or SuiteScript's N/transaction).
                result = operations_money.void_record(account.store, str(payload["type"]), str(payload["internalId"]),
                                                      str(payload.get("mode") or governance.settings["void_mode"]))
                return self._json(200, result)
            if path == "/_sandbox/bill":
                amount = payload.get("amount")
                result = operations_money.bill_order(account.store, str(payload["salesOrder"]),
                                                     float(amount) if amount not in (None, "") else None)
                return self._json(200, result)
            if path == "/_sandbox/deposit":
                amount = payload.get("amount")
                return self._json(200, operations_money.deposit_for_order(
                    account.store, payload.get("salesOrder"), float(amount) if amount not in (None, "") else None))
            if path == "/_sandbox/unapplied":
                return self._json(200, operations_money.unapplied_payment(account.store, payload.get("customer"),
                                                                          float(payload.get("amount", 100.0))))
            if path == "/_sandbox/refund":
                amount = payload.get("amount")
                return self._json(200, operations_money.refund(account.store, str(payload["type"]),
                                                               str(payload["internalId"]),
                                                               float(amount) if amount not in (None, "") else None))
            if path == "/_sandbox/delete":
                return self._json(200, operations_money.delete_by_control(account.store, str(payload["type"]),
                                                                          str(payload["internalId"])))
            if path == "/_sandbox/custom-fields":
                # {"fields": [plain definitions], "replace": false}: see custom_fields.py.
                fields = payload.get("fields")
                if not isinstance(fields, list):
                    raise ValueError("give the custom fields as a list under 'fields'")
                return self._json(200, {"fields": custom_fields.declare(account.store, fields,
                                                                        replace=bool(payload.get("replace")))})
            if path == "/_sandbox/reset":
                account.store.wipe()
                records.seed_items(account.store)
                governance.reset_stats()
                return self._json(200, {"reset": True})
        except AccountingError as error:
            return self._json(409 if error.code != "RCRD_DSNT_EXIST" else 404,
                              {"error": error.message, "code": error.code})
        except records.WriteError as error:
            return self._json(409, {"error": error.message, "code": error.code})
        except (KeyError, ValueError, TypeError) as error:
            return self._json(400, {"error": str(error)})
        return self._json(404, {"error": f"no such endpoint {path}"})

    def _soap_off(self) -> web.Response:
        return web.Response(404, f"SOAP is off in this sandbox: {self.account.soap_off_reason}\n".encode(), "text/plain")

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


def application(account: Account, governance: Governance, *, verbose: bool = False):
    """The account as a WSGI application."""
    return web.wsgi_app(lambda request: Handler(account, governance, request, verbose=verbose).dispatch())


def serve(account: Account, governance: Governance, host: str, port: int, *, verbose: bool = False,
          threads: int | None = None) -> None:
    # Enough threads that every request over the concurrency limit is still answered (refused) at once.
    threads = threads or max(64, 4 * int(governance.settings["concurrency_limit"]))
    server = web.build(application(account, governance, verbose=verbose), host, port, threads=threads,
                       name="NetSuiteSandbox/2023.2")
    bound_host, bound_port = web.bound_address(server)
    base = f"http://{bound_host}:{bound_port}"
    soap = (f"SOAP {base}{SERVICE_PATH} (WSDL {base}{WSDL_PATH})" if account.soap is not None
            else f"SOAP off: {account.soap_off_reason}")
    print(f"NetSuite sandbox listening on {base}: REST {base}{REST_PREFIX}; {soap}", flush=True)
    web.serve_forever(server)
