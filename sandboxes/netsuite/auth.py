"""Token-based authentication: the tokenPassport header, checked the way NetSuite checks it.

Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_4395630653.html
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from . import faults
from .envelope import core

MAX_CLOCK_SKEW_S = 300
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9]{6,64}$")


@dataclass(frozen=True)
class Credentials:
    account: str
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


def signature(credentials: Credentials, nonce: str, timestamp: int | str) -> str:
    key = f"{credentials.consumer_secret}&{credentials.token_secret}".encode()
    message = "&".join(
        [credentials.account, credentials.consumer_key, credentials.token_id, nonce, str(timestamp)]
    ).encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def verify_passport(passport: etree._Element | None, credentials: Credentials, *,
                    claim_nonce: Callable[[str, int], bool], now: float | None = None) -> None:
    """Raise the fault NetSuite would send, or return when the passport is good.

    claim_nonce(nonce, timestamp) must return False when the pair was already used; it is only
    consulted once the signature is proven, so forged requests cannot burn a client's nonces.
    """
    if passport is None:
        raise faults.login_required()
    now = time.time() if now is None else now

    def text(name: str) -> str:
        element = passport.find(core(name))
        return (element.text or "").strip() if element is not None else ""

    account, consumer_key, token, nonce, timestamp = (
        text("account"), text("consumerKey"), text("token"), text("nonce"), text("timestamp"))
    signature_element = passport.find(core("signature"))
    given = (signature_element.text or "").strip() if signature_element is not None else ""
    algorithm = signature_element.get("algorithm", "") if signature_element is not None else ""

    def refuse(reason: str):
        # The caller only ever sees "Invalid login attempt."; the reason goes to the server log, as
        # NetSuite keeps it in the Login Audit Trail.
        print(f"netsuite sandbox: login refused: {reason}", file=sys.stderr, flush=True)
        return faults.invalid_login()

    if account.upper() != credentials.account.upper():
        raise refuse(f"unknown account {account!r}")
    if consumer_key != credentials.consumer_key or token != credentials.token_id:
        raise refuse("unknown consumer key or token")
    if algorithm.upper() != "HMAC-SHA256":
        raise refuse(f"unsupported signature algorithm {algorithm!r}")
    if not NONCE_PATTERN.match(nonce):
        raise refuse("nonce must be 6-64 alphanumerics")
    expected = signature(credentials, nonce, timestamp)
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise refuse("signature mismatch")
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW_S:
        raise refuse(f"timestamp {timestamp} is more than {MAX_CLOCK_SKEW_S}s from server time")
    if not claim_nonce(nonce, int(timestamp)):
        raise refuse(f"nonce {nonce} with timestamp {timestamp} was already used")
