"""The failures the sandbox answers with, in the shapes and words of a real org."""


class ApiError(Exception):
    """One Salesforce error: rendered as `[{"message", "errorCode", "fields"}]` with an HTTP status."""

    def __init__(self, code: str, message: str, *, status: int = 400, fields: list | None = None,
                 headers: dict | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields or []
        self.headers = headers or {}

    def body(self) -> list:
        return [{"message": self.message, "errorCode": self.code, "fields": self.fields}]

    def record_error(self) -> dict:
        # Collections and composite results name the code `statusCode`, not `errorCode`.
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


def not_found() -> ApiError:
    return ApiError("NOT_FOUND", "The requested resource does not exist", status=404)


class LoginFailed(Exception):
    """A refused login, already rendered: a SOAP fault, or an OAuth error object."""

    def __init__(self, status: int, body: bytes, content_type: str):
        super().__init__(status)
        self.status, self.body, self.content_type = status, body, content_type


def oauth_error(error: str, description: str, status: int = 400) -> LoginFailed:
    """OAuth 2.0 endpoints answer `{"error", "error_description"}` (RFC 6749 §5.2), 400 unless said otherwise."""
    import json

    return LoginFailed(status, json.dumps({"error": error, "error_description": description}).encode(),
                       "application/json;charset=UTF-8")
