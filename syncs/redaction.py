"""Secrets never reach a stored payload or a log line."""
import re

REDACTED = "***"
SECRET_KEYS = re.compile(
    r"(password|passwd|security_?token|secret|signature|session_?id|access_?token|token_?secret|authorization|tokenpassport|nonce)",
    re.IGNORECASE,
)
# Payload keys repeat (field names): the pattern runs once per distinct key, not once per record.
_KNOWN_KEYS: dict = {}
_KNOWN_KEYS_MAX = 4096


def _is_secret(key) -> bool:
    secret = _KNOWN_KEYS.get(key)
    if secret is None:
        if len(_KNOWN_KEYS) >= _KNOWN_KEYS_MAX:
            _KNOWN_KEYS.clear()
        secret = _KNOWN_KEYS[key] = SECRET_KEYS.search(str(key)) is not None
    return secret


def redact(value):
    """A deep copy of `value` with every secret-looking key's value replaced."""
    if isinstance(value, dict):
        # Scalars are copied as they are, without a call each: every planned try's payload passes through here, and
        # the calls were most of the hub's cost of redacting.
        return {key: REDACTED if _is_secret(key) else (redact(item) if isinstance(item, (dict, list, tuple)) else item)
                for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(item) if isinstance(item, (dict, list, tuple)) else item for item in value]
    return value
