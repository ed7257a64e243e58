"""HTTP front of the sandbox: the SOAP endpoint, the WSDL and XSDs, and the /_sandbox control API.

Governance lives here because it is about requests, not records: a request holds one of the
account's concurrency slots from arrival until its response is ready, injected latency included.
"""
from __future__ import annotations

import datetime as dt
import json
import posixpath
import signal
import socket
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import envelope, faults, payments, records
from .governance import Governance
from .operations import NetSuiteApp

SERVICE_PATH = "/services/NetSuitePort_2023_2"
WSDL_PREFIX = "/wsdl/v2023_2_0/"
WSDL_PATH = WSDL_PREFIX + "netsuite.wsdl"
MAX_REQUEST_BYTES = 100 * 1024 * 1024  # NetSuite's limit


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, app: NetSuiteApp, governance: Governance, *, verbose: bool = False):
        self.app = app
        self.governance = governance
        self.verbose = verbose
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm on, a kept-alive connection waits for the
    # client's delayed ACK (40 ms on Linux) between them. Real front ends send at once.
    disable_nagle_algorithm = True
    server: SandboxServer
    server_version = "NetSuiteSandbox/2023.2"

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        if self.server.verbose:
            sys.stderr.write("netsuite sandbox: " + format % args + "\n")

    # -- plumbing ----------------------------------------------------------------------------------
    def _send(self, status: int, content: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(content)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(content)

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload, indent=1).encode(), "application/json")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _endpoint(self) -> str:
        return f"http://{self.headers.get('Host') or '%s:%s' % self.server.server_address[:2]}{SERVICE_PATH}"

    # -- GET ---------------------------------------------------------------------------------------
    def do_GET(self):  # noqa: N802 - http.server naming
        url = urllib.parse.urlsplit(self.path)
        path = posixpath.normpath(url.path.replace("//", "/"))
        wsdl = self.server.app.wsdl
        if path == WSDL_PATH.rstrip("/") or (path == SERVICE_PATH and url.query.lower() == "wsdl"):
            return self._send(200, wsdl.wsdl_for(self._endpoint()), "text/xml; charset=utf-8")
        if path.startswith(WSDL_PREFIX):
            content = wsdl.xsd(path[len(WSDL_PREFIX):])
            if content is not None:
                return self._send(200, content, "text/xml; charset=utf-8")
        if path == "/_sandbox/health":
            return self._json(200, {"ok": True})
        if path == "/_sandbox/stats":
            stats = self.server.governance.snapshot()
            stats["records"] = self.server.app.store.counts()
            return self._json(200, stats)
        self._send(404, b"Not Found", "text/plain")

    # -- POST --------------------------------------------------------------------------------------
    def do_POST(self):  # noqa: N802
        path = urllib.parse.urlsplit(self.path).path
        if path == SERVICE_PATH:
            return self._soap()
        body = self._body()
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            return self._json(400, {"error": "the body must be JSON"})
        app, governance = self.server.app, self.server.governance
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
        self._json(404, {"error": f"no such endpoint {path}"})

    def _soap(self) -> None:
        governance = self.server.governance
        operation = (self.headers.get("SOAPAction") or "").strip('"') or "unknown"
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            self.close_connection = True
            governance.count(operation, "EXCEEDED_RQST_SIZE_LIMIT")
            return self._send(500, envelope.fault_response(faults.request_too_large(MAX_REQUEST_BYTES)),
                              "text/xml; charset=utf-8")
        content = self.rfile.read(length) if length else b""
        if not governance.enter():
            governance.count(operation, "WS_REQUEST_BLOCKED")
            fault = faults.concurrency_exceeded(governance.settings["concurrency_limit"])
            return self._send(500, envelope.fault_response(fault), "text/xml; charset=utf-8")
        try:
            reply = self._soap_in_slot(operation, content)
        finally:
            # The request is over once its answer is ready: a client that reads it and sends the next one at once
            # must find the slot free (leaving after the write raced with that next request).
            governance.leave()
        if reply is None:
            return
        try:
            self._send(*reply)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout) while we were slow

    def _soap_in_slot(self, operation: str, content: bytes) -> tuple | None:
        """Handle a request inside its concurrency slot; the answer to send (status, body, type[, headers]), or None
        when the answer is lost on purpose."""
        governance = self.server.governance
        for kind, status, reason in (("http_503", 503, "Service Unavailable"), ("http_500", 500, "Internal Server Error")):
            if governance.take(kind, operation):
                governance.count(operation, f"HTTP_{status}")
                # A gateway's HTML page, not SOAP (and not even XML), as a load balancer in front of
                # NetSuite sends it; zeep turns it into a TransportError carrying the status.
                page = (f"<!DOCTYPE html><html><head><title>{status} {reason}</title></head>"
                        f"<body><h1>{reason}</h1><hr><p>netsuite-sandbox</p></body></html>")
                return status, page.encode(), "text/html"
        started = time.perf_counter()
        outcome = self.server.app.handle(content, operation)
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
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        headers = {"X-Sandbox-Server-Time": f"{server_ms:.3f}", "X-Sandbox-Latency": f"{latency * 1000:.3f}"}
        return outcome.http_status, outcome.content, "text/xml; charset=utf-8", headers


def serve(app: NetSuiteApp, governance: Governance, host: str, port: int, *, verbose: bool = False) -> None:
    server = SandboxServer((host, port), app, governance, verbose=verbose)

    def stop(signum, frame):
        # Finish the way Ctrl-C does, so sqlite checkpoints and the port is released promptly.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    bound_host, bound_port = server.server_address[:2]
    print(f"NetSuite sandbox listening on http://{bound_host}:{bound_port}{SERVICE_PATH} "
          f"(WSDL http://{bound_host}:{bound_port}{WSDL_PATH})", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
