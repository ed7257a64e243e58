"""Secrets never reach a stored payload or a log line."""
import functools
import re

REDACTED = "***"
SECRET_KEYS = re.compile(
    r"(password|passwd|security_?token|secret|signature|session_?id|access_?token|token_?secret|authorization|tokenpassport|nonce)",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=4096)
def _is_secret(key: str) -> bool:
    # Payload keys repeat (field names): the pattern runs once per distinct key, not once per record.
    return SECRET_KEYS.search(key) is not None


def redact(value):
    """A deep copy of `value` with every secret-looking key's value replaced."""
    if isinstance(value, dict):
        return {key: (REDACTED if _is_secret(str(key)) else redact(item)) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item) for item in value]
    return value

