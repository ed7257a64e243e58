"""Salesforce record ids: 15-char base-62 ids with the 3-char case-safe suffix.

Clients compare ids case-insensitively only through the 18-char form, so every id leaving the sandbox is 18 chars
and every id coming in (15 or 18) is normalised before it touches storage.
"""
import re

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_SHAPE = re.compile(r"^[0-9A-Za-z]{15}([0-9A-Za-z]{3})?$")

# Two "pod" characters sit between the key prefix and the counter in real ids; a fixed value keeps seeds stable.
POD = "5g"
COUNTER_WIDTH = 10


def checksum_suffix(id15: str) -> str:
    suffix = []
    for chunk_start in (0, 5, 10):
        bits = 0
        for position, char in enumerate(id15[chunk_start:chunk_start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix.append(_SUFFIX_ALPHABET[bits])
    return "".join(suffix)


def make_id(prefix: str, counter: int) -> str:
    digits = []
    value = counter
    while value:
        value, remainder = divmod(value, 62)
        digits.append(BASE62[remainder])
    body = "".join(reversed(digits)).rjust(COUNTER_WIDTH, "0")
    id15 = prefix + POD + body
    return id15 + checksum_suffix(id15)


def normalize_id(value) -> str | None:
    """Return the 18-char form of a 15/18-char id, or None when it is not shaped like an id.

    An 18-char id whose suffix does not match its body is rejected, as the platform does.
    """
    if not isinstance(value, str) or not _ID_SHAPE.match(value):
        return None
    id15 = value[:15]
    suffix = checksum_suffix(id15)
    if len(value) == 18 and value[15:].upper() != suffix:
        return None
    return id15 + suffix
