"""The HTTP/1.1 stack under both sandboxes: cheroot serving a small WSGI adapter.

cheroot (CherryPy's server, maintained on its own) is a threaded, pure-Python WSGI server. It fits the sandboxes:
- a request runs on a pool thread, so the sandboxes' blocking work (SQLite, the sleeps that model latency) needs no
  event loop, and idle kept-alive connections wait in a selector, holding no thread;
- it does the framing a real front end does: chunked request bodies (RFC 9112 §7.1), `Expect: 100-continue`,
  keep-alive and pipelined requests, and a 400 for a malformed request line, header or chunk;
- TLS with the standard library's `ssl`, and TCP_NODELAY on every accepted socket (a kept-alive connection would
  otherwise wait for the delayed ACK between the headers and the body).

The sandboxes see a `Request` and answer with a `Response`; nothing in them knows about WSGI.
"""
from __future__ import annotations

import http
import signal
import socket
import ssl
import sys
import traceback
from dataclasses import dataclass, field
from wsgiref.headers import Headers

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

DRAIN_LIMIT = 16 * 1024 * 1024   # unread request bytes read past before the connection is closed instead


class Request:
    """One HTTP request as a sandbox handler needs it."""

    def __init__(self, environ: dict):
        self.environ = environ
        self.command = environ["REQUEST_METHOD"]
        # The raw target (path and query, still %-encoded), as http.server gave it.
        self.path = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        self.headers = Headers([(name[5:].replace("_", "-").title(), value) for name, value in environ.items()
                                if name.startswith("HTTP_")])
        for name, header in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
            if environ.get(name):
                self.headers[header] = environ[name]
        self.input = environ["wsgi.input"]
        self.chunked = bool(environ.get("wsgi.input_terminated"))
        self._body: bytes | None = None
        self._streamed = 0     # bytes handed out by `stream` so far
        self.close_after = False

    @property
    def declared_length(self) -> int | None:
        """The Content-Length the client declared; None for a chunked body."""
        if self.chunked:
            return None
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 0

    def body(self, limit: int | None = None) -> bytes:
        """The whole body (chunked or not); ValueError past `limit` bytes."""
        if self._body is None:
            if limit is not None and (self.declared_length or 0) > limit:
                raise ValueError(f"request body over {limit} bytes")
            if self.chunked:
                parts, total = [], 0
                while True:
                    part = self.input.read(65536)
                    if not part:
                        break
                    total += len(part)
                    if limit is not None and total > limit:
                        self.close_after = True
                        raise ValueError(f"request body over {limit} bytes")
                    parts.append(part)
                self._body = b"".join(parts)
            else:
                length = self.declared_length or 0
                self._body = self.input.read(length) if length else b""
        return self._body

    def stream(self, size: int = 1024 * 1024):
        """The body in pieces of at most `size` bytes, for uploads too large to hold at once."""
        if self._body is not None:
            yield self._body
            return
        remaining = None if self.chunked else (self.declared_length or 0)
        while remaining is None or remaining > 0:
            part = self.input.read(size if remaining is None else min(size, remaining))
            if not part:
                break
            if remaining is not None:
                remaining -= len(part)
            self._streamed += len(part)
            yield part
        self._body = b""

    @property
    def host(self) -> str:
        return self.environ.get("HTTP_HOST") or f"{self.environ.get('SERVER_NAME')}:{self.environ.get('SERVER_PORT')}"

    def drop_connection(self) -> None:
        """Close the client's socket without an answer (a response lost on the way)."""
        sock = self.environ.get("sandbox.socket")
        self.close_after = True
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drain(self) -> None:
        """Read what the handler left of the body, so the next pipelined request starts where it should."""
        if self._body is not None:
            return
        declared = self.declared_length
        if declared is not None and declared - self._streamed > DRAIN_LIMIT:
            # A refused upload of hundreds of megabytes is not worth reading past: close instead.
            self.close_after = True
            return
        read = 0
        while read <= DRAIN_LIMIT:
            part = self.input.read(65536)
            if not part:
                return
            read += len(part)
        self.close_after = True


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict = field(default_factory=dict)
    dropped: bool = False   # no answer at all: the connection was closed on purpose


def reason(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Status {status}"


def wsgi_app(handle, *, on_error=None):
    """A WSGI application over `handle(Request) -> Response`."""

    def application(environ, start_response):
        request = Request(environ)
        try:
            response = handle(request)
        except Exception:   # the sandbox's own bug: still an answer, and the connection survives
            traceback.print_exc()
            response = on_error(request) if on_error else Response(500, b"Internal Server Error", "text/plain")
        if response.dropped:
            environ["sandbox.close"]()
            return []
        try:
            request.drain()
        except Exception:   # a broken chunk mid-drain: nothing more can be read on this connection
            request.close_after = True
        if request.close_after:
            environ["sandbox.close"]()
        headers = []
        if response.content_type and (response.body or response.status not in (204, 304)):
            headers.append(("Content-Type", response.content_type))
        headers.append(("Content-Length", str(len(response.body))))
        headers.extend((name, str(value)) for name, value in response.headers.items())
        if request.close_after:
            headers.append(("Connection", "close"))
        start_response(reason(response.status), headers)
        return [] if request.command == "HEAD" else [response.body]

    return application


class _Gateway(wsgi.Gateway_10):
    """Gives the application what WSGI leaves out: closing the connection, and its socket for a dropped answer."""

    def get_environ(self):
        env = super().get_environ()
        req = self.req
        env["sandbox.socket"] = getattr(req.conn, "socket", None)

        def close():
            req.close_connection = True
        env["sandbox.close"] = close
        return env


def tls_adapter(cert_file: str, key_file: str) -> BuiltinSSLAdapter:
    adapter = BuiltinSSLAdapter(cert_file, key_file)
    adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2   # as Salesforce requires
    return adapter


def build(application, host: str, port: int, *, threads: int, name: str, tls: BuiltinSSLAdapter | None = None,
          idle_timeout: int = 120) -> wsgi.Server:
    server = wsgi.Server((host, port), application, numthreads=threads, server_name=name,
                         request_queue_size=256, timeout=idle_timeout, shutdown_timeout=2)
    server.gateway = _Gateway
    # Every client of the hub keeps its connections alive (one per sender thread); cheroot's default keeps 10.
    server.keep_alive_conn_limit = None
    server.nodelay = True
    if tls is not None:
        server.ssl_adapter = tls
    server.prepare()
    return server


def bound_address(server: wsgi.Server) -> tuple[str, int]:
    return server.bind_addr[0], server.bind_addr[1]


def serve_forever(server: wsgi.Server) -> None:
    """Serve until SIGTERM or Ctrl-C, then stop the way Ctrl-C does, so the stores close and the port is freed."""

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        try:
            server.stop()
        except Exception:   # noqa: BLE001 - stopping must not hide why we stopped
            print("sandbox: error while stopping the server", file=sys.stderr)
