"""What a REST request answers, before it becomes HTTP: kept whole so an asynchronous task can store it and hand it
back later exactly as the synchronous request would have (chapter_161251386312.html)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .errors import RestError

SINGULAR = "application/vnd.oracle.resource+json; type=singular"
COLLECTION = "application/vnd.oracle.resource+json; type=collection"
ERROR = "application/vnd.oracle.resource+json; type=error"


@dataclass
class Answer:
    status: int
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    content_type: str = SINGULAR
    records: int = 0     # records written or returned, for the modelled latency

    def to_json(self) -> dict:
        return {"status": self.status, "body": self.body, "headers": self.headers, "content_type": self.content_type}

    @classmethod
    def from_json(cls, data: dict) -> "Answer":
        return cls(data["status"], data.get("body"), data.get("headers") or {}, data.get("content_type") or SINGULAR)

    @classmethod
    def from_error(cls, error: RestError) -> "Answer":
        return cls(error.status, error.body(), dict(error.headers), ERROR)

    def encoded(self) -> bytes:
        return json.dumps(self.body).encode() if self.body is not None else b""
