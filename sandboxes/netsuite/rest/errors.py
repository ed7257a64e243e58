"""NetSuite's REST error format: `type`, `title`, `status` and `o:errorDetails` (each `detail`, `o:errorCode`, and
where it applies `o:errorPath`, `o:errorQueryParam`, `o:errorHeader` or `o:errorUrl`).

Reference: Error Handling in REST Web Services, section_156570709583.html. NetSuite's `type` links point at the
RFC 2616 section of the status (its own examples use them, e.g. #sec10.4.10 on the idempotency Conflict,
subsect_164494900632.html).
"""
from __future__ import annotations

import http

RFC2616 = "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html"
TYPES = {
    400: f"{RFC2616}#sec10.4.1", 401: f"{RFC2616}#sec10.4.2", 403: f"{RFC2616}#sec10.4.4",
    404: f"{RFC2616}#sec10.4.5", 405: f"{RFC2616}#sec10.4.6", 406: f"{RFC2616}#sec10.4.7",
    409: f"{RFC2616}#sec10.4.10", 413: f"{RFC2616}#sec10.4.14", 415: f"{RFC2616}#sec10.4.16",
    500: f"{RFC2616}#sec10.5.1", 503: f"{RFC2616}#sec10.5.4",
    # 429 is newer than RFC 2616.
    429: "https://tools.ietf.org/html/rfc6585#section-4",
}
LOGIN_DETAIL = ("Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
                "Setup > Users/Roles > User Management > View Login Audit Trail.")


class RestError(Exception):
    """A request refused as NetSuite's REST services refuse it."""

    def __init__(self, status: int, code: str, detail: str, *, title: str | None = None, headers: dict | None = None,
                 **where):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or http.HTTPStatus(status).phrase
        self.headers = dict(headers or {})
        # error_path="item.items[0].item", query_param="q", header="Prefer", url="customer/eid:X" ...
        self.where = where

    def body(self) -> dict:
        detail = {"detail": self.detail, "o:errorCode": self.code}
        for key, value in self.where.items():
            if value is not None:
                detail[{"error_path": "o:errorPath", "query_param": "o:errorQueryParam",
                        "header": "o:errorHeader", "url": "o:errorUrl"}[key]] = value
        # A Conflict keeps status 400 but links 409's section, as in Oracle's idempotency example.
        kind = TYPES[409] if self.title == "Conflict" else TYPES.get(self.status, TYPES[400])
        return {"type": kind, "title": self.title, "status": self.status,
                "o:errorDetails": [detail]}


def invalid_login(realm: str) -> RestError:
    # The WWW-Authenticate challenge is documented in subsect_158521885412.html (invalid_token, 401).
    return RestError(401, "INVALID_LOGIN", LOGIN_DETAIL, headers={
        "WWW-Authenticate": f'Bearer realm="{realm}", error="invalid_token", error_description="Invalid login attempt."'})


def not_found_record() -> RestError:
    return RestError(404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid record instance ID.")


def bad_request(code: str, detail: str, **where) -> RestError:
    return RestError(400, code, detail, **where)
