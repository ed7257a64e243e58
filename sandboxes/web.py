"""The HTTP/1.1 stack under both sandboxes: cheroot serving a small WSGI adapter.

cheroot (CherryPy's server, maintained on its own) is a threaded, pure-Python WSGI server. It fits the sandboxes:
- a request runs on a pool thread, so the sandboxes' blocking work (SQLite, the sleeps that model latency) needs no
  event loop, and idle kept-alive connections wait in a selector, holding no thread;
- it does the framing a real front end does: chunked request bodies (RFC 9112 §7.1), `Expect: 100-continue`,
  keep-alive and pipelined requests, and a 400 for a malformed request line, header or chunk;
- TLS with the standard library's `ssl`, and TCP_NODELAY on every accepted socket (a kept-alive connection would
  otherwise wait for the delayed ACK between the headers and the body).

Where cheroot is lenient about framing, the classes below make it strict (RFC 9112), because a lenient reading is
how one client's bytes end up parsed as another request: a chunk size must be hex digits and the trailer section
after the last chunk is read, not left on the connection; a Content-Length must be digits, and a second one that
disagrees is refused (cheroot keeps the last); a request with both Transfer-Encoding and Content-Length is read as
chunked and its connection closed after the answer; a control character in the request target is refused; and
`Expect: 100-Continue` is honoured whatever its case.

The sandboxes see a `Request` and answer with a `Response`; nothing in them knows about WSGI.
"""
from __future__ import annotations

import http
import io
import re
import signal
import socket
import ssl
import sys
import traceback
from dataclasses import dataclass, field
from wsgiref.headers import Headers

from cheroot import makefile as cheroot_makefile
from cheroot import server as cheroot_server
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

DRAIN_LIMIT = 16 * 1024 * 1024   # unread request bytes read past before the connection is closed instead
MAX_FRAMING_LINE = 8192          # a chunk-size or trailer line longer than this is not a real client's
MAX_TRAILER_LINES = 100
# chunk = chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); chunk-size = 1*HEXDIG. int(x, 16) alone also takes "-1f",
# "0x1f" and "1_f", which would end a body early and leave its rest to be read as the next request.
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r\n")


class MalformedBody(ValueError):
    """The request body's framing is broken: nothing after it on the connection can be trusted."""


class _ChunkedBody(cheroot_server.ChunkedRFile):
    """cheroot's chunked body reader, strict about the chunk-size line, and reading the trailer section."""

    def _fetch(self):
        if self.closed:
            return
        line = self.rfile.readline(MAX_FRAMING_LINE)
        self.bytes_read += len(line)
        size = _CHUNK_SIZE.fullmatch(line)
        if size is None:
            raise MalformedBody(f"Bad chunked transfer size: {line[:40]!r}")
        chunk_size = int(size.group(1), 16)
        if self.maxlen and self.bytes_read + chunk_size > self.maxlen:
            raise IOError("Request Entity Too Large")   # as cheroot's reader
        if chunk_size == 0:
            self._skip_trailer()
            self.closed = True
            return
        chunk = self.rfile.read(chunk_size)
        self.bytes_read += len(chunk)
        if len(chunk) != chunk_size or self.rfile.read(2) != b"\r\n":
            raise MalformedBody("Bad chunked transfer coding: a chunk shorter than its size or not ended by CRLF")
        self.buffer += chunk

    def _skip_trailer(self):
        # Trailer fields are allowed after the last chunk (RFC 9112 §7.1.2); the sandboxes use none, but left
        # unread they would be taken for the next request line.
        for _ in range(MAX_TRAILER_LINES):
            line = self.rfile.readline(MAX_FRAMING_LINE)
            if line == b"\r\n":
                return
            if not line.endswith(b"\r\n"):
                raise MalformedBody("Bad chunked transfer coding: a trailer line not ended by CRLF")
        raise MalformedBody("Bad chunked transfer coding: too many trailer lines")


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
        self.malformed: str | None = None   # why the body could not be read, when its framing is broken

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
                    part = self._read(65536)
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
                self._body = self._read(length) if length else b""
        return self._body

    def _read(self, size: int) -> bytes:
        try:
            return self.input.read(size)
        except MalformedBody as error:
            self.malformed = str(error)
            self.close_after = True
            raise

    def stream(self, size: int = 1024 * 1024):
        """The body in pieces of at most `size` bytes, for uploads too large to hold at once."""
        if self._body is not None:
            yield self._body
            return
        remaining = None if self.chunked else (self.declared_length or 0)
        while remaining is None or remaining > 0:
            part = self._read(size if remaining is None else min(size, remaining))
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

    @property
    def scheme(self) -> str:
        """`https` behind the TLS adapter, `http` without it (`--no-tls`)."""
        return self.environ.get("wsgi.url_scheme") or "http"

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
        if request.malformed:
            # Whatever the handler made of a body it could not read, the answer is the front end's: the request is
            # bad, and the connection ends with it.
            response = Response(400, request.malformed.encode(), "text/plain")
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


class _FramingFields(dict):
    """A request's header fields as cheroot's header reader fills them. A Content-Length that is not digits, or that
    disagrees with an earlier one, is a ValueError, which the reader answers with 400 and a closed connection
    (RFC 9112 §6.3)."""

    def __setitem__(self, name, value):
        if name == b"Expect":
            # The expectation is case-insensitive (RFC 9110 §10.1.1) and some clients write "100-Continue";
            # cheroot sends 100 Continue only on an exact match, and such a client would wait for it in vain.
            value = value.lower()
        if name == b"Content-Length":
            if not value.isdigit():
                raise ValueError("Malformed Content-Length Header.")
            if self.get(name, value) != value:
                raise ValueError("Conflicting Content-Length Headers.")
        super().__setitem__(name, value)


class _HeaderReader(cheroot_server.HeaderReader):
    def __call__(self, rfile, hdict=None):
        fields = _FramingFields()
        super().__call__(rfile, fields)
        if hdict is None:
            return dict(fields)
        hdict.update(fields)
        return hdict


class _HTTPRequest(cheroot_server.HTTPRequest):
    header_reader = _HeaderReader()

    def read_request_line(self):
        if not super().read_request_line():
            return False
        if any(byte < 0x21 or byte == 0x7F for byte in self.uri):
            self.simple_response("400 Bad Request", "Malformed Request-URI")
            return False
        return True

    def read_request_headers(self):
        if not super().read_request_headers():
            return False
        if b"Transfer-Encoding" in self.inheaders and b"Content-Length" in self.inheaders:
            # Two framings: read as chunked, answered, then closed, since something in between could have framed it
            # the other way (RFC 9112 §6.1).
            self.close_connection = True
        return True


class _StreamReader(cheroot_makefile.StreamReader):
    def __init__(self, sock, mode="r", bufsize=io.DEFAULT_BUFFER_SIZE):
        super().__init__(sock, mode, bufsize)
        self._tls_pending = getattr(sock, "pending", None)   # only TLS sockets have it

    def has_data(self):
        # A TLS record can hold more than this buffer takes at once. The rest waits, decrypted, inside the TLS
        # layer, where the selector that watches idle kept-alive connections cannot see it: a pipelined request
        # that starts at the buffer's edge would wait there until the idle timeout.
        return super().has_data() or bool(self._tls_pending and self._tls_pending())


def _makefile(sock, mode="r", bufsize=io.DEFAULT_BUFFER_SIZE):
    return _StreamReader(sock, mode, bufsize) if "r" in mode else cheroot_makefile.StreamWriter(sock, mode, bufsize)


class _HTTPConnection(cheroot_server.HTTPConnection):
    RequestHandlerClass = _HTTPRequest

    def __init__(self, server, sock, makefile=None):
        # cheroot passes its plain or TLS makefile; both make the same reader and writer over the socket.
        super().__init__(server, sock, _makefile)


class _Gateway(wsgi.Gateway_10):
    """Gives the application what WSGI leaves out: closing the connection, and its socket for a dropped answer."""

    def get_environ(self):
        req = self.req
        if req.chunked_read:
            # Nothing has been read from cheroot's own reader yet: swap in the strict one before WSGI sees it.
            req.rfile = _ChunkedBody(req.conn.rfile, req.server.max_request_body_size)
        env = super().get_environ()
        env["sandbox.socket"] = getattr(req.conn, "socket", None)

        def close():
            req.close_connection = True
        env["sandbox.close"] = close
        return env


class _TLSAdapter(BuiltinSSLAdapter):
    """cheroot runs the TLS handshake on its accepting thread, so a client that connects and says nothing would hold
    up every other connection. Here the socket is wrapped without a handshake, which then happens on the
    connection's first read, on its own worker thread (the sandboxes read no client certificate from the environ)."""

    def wrap(self, sock):
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), {}


def tls_adapter(cert_file: str, key_file: str) -> BuiltinSSLAdapter:
    adapter = _TLSAdapter(cert_file, key_file)
    adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2   # as Salesforce requires
    return adapter


class _Server(wsgi.Server):
    def error_log(self, msg="", level=20, traceback=False):
        # A client that drops its TLS connection, or speaks plain HTTP to the TLS port, is the client's affair:
        # one line, not a traceback per connection.
        error = sys.exc_info()[1]
        if isinstance(error, (ssl.SSLError, ConnectionError, TimeoutError)):
            sys.stderr.write(f"{self.server_name}: connection dropped: {error}\n")
            return
        super().error_log(msg, level, traceback)


def build(application, host: str, port: int, *, threads: int, name: str, tls: BuiltinSSLAdapter | None = None,
          idle_timeout: int = 120) -> wsgi.Server:
    server = _Server((host, port), application, numthreads=threads, server_name=name,
                         request_queue_size=256, timeout=idle_timeout, shutdown_timeout=2)
    server.gateway = _Gateway
    server.ConnectionClass = _HTTPConnection
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
