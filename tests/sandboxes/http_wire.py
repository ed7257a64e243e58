"""HTTP/1.1 written and read by hand over a socket, so that a test decides the framing byte for byte.

Client libraries choose the framing themselves (requests never pipelines, rarely chunks and never waits for
`100 Continue`); these helpers let the framing tests send exactly the bytes real clients send, and read the answers
the way a client must (RFC 9112 §6.3: a body by Content-Length, by chunks, or until the connection closes).
"""
from __future__ import annotations

import json
import socket
import ssl
import urllib.parse
from dataclasses import dataclass, field

CRLF = b"\r\n"
TIMEOUT = 15


@dataclass
class WireResponse:
    status: int
    reason: str
    headers: list = field(default_factory=list)   # (name, value) pairs as sent
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return ", ".join(values) if values else None

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self):
        return json.loads(self.body)

    @property
    def keeps_alive(self) -> bool:
        return "close" not in (self.header("Connection") or "").lower()


class Connection:
    """One TCP (or TLS) connection to a sandbox; requests are written as given and answers read one by one."""

    def __init__(self, url: str, *, ca_file: str | None = None, timeout: float = TIMEOUT):
        parts = urllib.parse.urlsplit(url)
        self.host = parts.netloc
        raw = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=ca_file)
            raw = context.wrap_socket(raw, server_hostname=parts.hostname)
        self.socket = raw
        self.reader = raw.makefile("rb")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.reader.close()
        self.socket.close()

    def send(self, data: bytes) -> None:
        self.socket.sendall(data)

    def read_response(self, *, method: str = "GET") -> WireResponse:
        status_line = self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection without an answer")
        version, status, reason = (status_line.rstrip(b"\r\n").decode("latin-1").split(" ", 2) + [""])[:3]
        if not version.startswith("HTTP/1."):
            raise ValueError(f"not an HTTP/1.x status line: {status_line!r}")
        headers = self._read_fields()
        response = WireResponse(int(status), reason, headers)
        # Interim (1xx) answers, 204, 304 and answers to HEAD have no body whatever their headers say.
        if response.status < 200 or response.status in (204, 304) or method == "HEAD":
            return response
        if "chunked" in (response.header("Transfer-Encoding") or "").lower():
            response.body = self._read_chunks()
        elif response.header("Content-Length") is not None:
            response.body = self._read_exactly(int(response.header("Content-Length")))
        else:
            response.body = self.reader.read()
        return response

    def at_eof(self) -> bool:
        """True when the server has closed its side (nothing more will come on this connection)."""
        try:
            return self.reader.read(1) == b""
        except (ConnectionResetError, ssl.SSLError):
            return True

    def _read_fields(self) -> list:
        fields = []
        while True:
            line = self.reader.readline()
            if line in (CRLF, b"\n"):
                return fields
            if not line:
                raise ConnectionError("the connection closed inside the header section")
            name, _, value = line.decode("latin-1").partition(":")
            fields.append((name.strip(), value.strip()))

    def _read_exactly(self, size: int) -> bytes:
        data = self.reader.read(size)
        if len(data) != size:
            raise ConnectionError(f"the body ended after {len(data)} of {size} bytes")
        return data

    def _read_chunks(self) -> bytes:
        parts = []
        while True:
            size = int(self.reader.readline().split(b";", 1)[0].strip(), 16)
            if size == 0:
                self._read_fields()   # the trailer section, ended by an empty line
                return b"".join(parts)
            parts.append(self._read_exactly(size))
            if self.reader.read(2) != CRLF:
                raise ValueError("a chunk not followed by CRLF")


def head(method: str, target: str, host: str, headers: dict | list = ()) -> bytes:
    """A request line and header section; `headers` may be pairs, to repeat a name."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"] + [f"{name}: {value}" for name, value in pairs]
    return "\r\n".join(lines).encode("latin-1") + CRLF + CRLF


def chunked(body: bytes, sizes=(7, 1, 300)) -> bytes:
    """`body` in the chunked coding, cut into pieces of these sizes in turn (uneven, so no boundary lines up with
    anything in the content), then the last chunk and an empty trailer section."""
    out, position, turn = [], 0, 0
    while position < len(body):
        piece = body[position:position + sizes[turn % len(sizes)]]
        out.append(f"{len(piece):x}".encode() + CRLF + piece + CRLF)
        position += len(piece)
        turn += 1
    return b"".join(out) + b"0" + CRLF + CRLF
