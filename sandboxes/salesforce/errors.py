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
