"""Request-level failures, answered as SOAP faults shaped like NetSuite's.

Per-record problems never come here: they go into the writeResponse/readResponse status, because
NetSuite fails one record of a list without failing the list.
"""
from __future__ import annotations


class SoapFault(Exception):
    """A fault with NetSuite's detail element (e.g. invalidCredentialsFault) carrying code and message.

    detail=None gives a bare fault, which is how NetSuite answers XML it cannot parse or validate
    (an Axis SAXException with no platform detail).
    """

    def __init__(self, detail: str | None, code: str | None, message: str, *, http_status: int = 500,
                 faultcode: str = "soapenv:Server.userException"):
        super().__init__(message)
        self.detail = detail
        self.code = code
        self.message = message
        self.http_status = http_status
        self.faultcode = faultcode


def invalid_login() -> SoapFault:
    # NetSuite answers every TBA failure (bad signature, replayed nonce, clock skew, unknown token)
    # with the same vague fault; INVALID_LOGIN_ATTEMPT is outside the schema's FaultCodeType enum,
    # but it is what the service really sends.
    return SoapFault("invalidCredentialsFault", "INVALID_LOGIN_ATTEMPT",
                     "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
                     "Setup > Users/Roles > User Management > View Login Audit Trail.")


def login_required() -> SoapFault:
    return SoapFault("invalidSessionFault", "WS_LOG_IN_REQD",
                     "You must log in before performing a web service operation.")


def concurrency_exceeded(limit: int) -> SoapFault:
    return SoapFault(
        "exceededConcurrentRequestLimitFault", "WS_REQUEST_BLOCKED",
        f"SuiteTalk concurrent request limit exceeded. Request blocked. "
        f"(The account allows {limit} concurrent requests.)",
    )


def record_count_exceeded(operation: str, limit: int, count: int) -> SoapFault:
    return SoapFault(
        "exceededRecordCountFault", "MAX_RCRDS_EXCEEDED",
        f"The {operation} operation accepts at most {limit} records per request; this request has {count}.",
    )


def request_too_large(limit_bytes: int) -> SoapFault:
    return SoapFault("exceededRequestSizeFault", "EXCEEDED_RQST_SIZE_LIMIT",
                     f"The request exceeds the maximum allowed size of {limit_bytes} bytes.")


def unsupported_operation(operation: str) -> SoapFault:
    return SoapFault("insufficientPermissionFault", "INSUFFICIENT_PERMISSION",
                     f"Permission Violation: the sandbox does not offer the {operation} operation.")


def schema_violation(reason: str) -> SoapFault:
    return SoapFault(None, None, f"org.xml.sax.SAXException: {reason}")


def unexpected(message: str) -> SoapFault:
    return SoapFault("unexpectedErrorFault", "UNEXPECTED_ERROR", message)
