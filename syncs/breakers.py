"""A circuit breaker per remote system, shared by every worker through the hub's database.

A fault of a whole request (a 5xx, a refusal for concurrency, a timeout, a dropped connection) says the remote system
is unwell, not that the records in it are wrong. So such faults don't spend the records' retry windows; instead,
after HUB_BREAKER_THRESHOLD of them in a row the system's breaker opens and no worker sends to it until a cool-down
has passed (growing with each failed probe, capped). Then one batch probes it: a success closes the breaker, a fault
opens it again. The dashboard and /healthz show each breaker, so ops see "NetSuite is refusing" rather than hundreds
of failed records.

The row is read before each batch and written only when the state changes: healthy traffic costs one SELECT.
"""
import random
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from .clients.errors import RemoteError
from .models import CircuitBreaker, System


# How soon a sender looks again while another worker's probe is out.
PROBE_POLL_SECONDS = 2


def breaker_wait(system: str) -> datetime | None:
    """None if a request to `system` may go now; else the moment to look again. When the cool-down has passed,
    exactly one caller (a conditional UPDATE) gets to send the probe; the others look again shortly."""
    return _pass(system)[0]


@contextmanager
def breaker_passage(system: str):
    """`with breaker_passage(system) as wait:` — wait as breaker_wait's. A caller given the probe that ends without
    a verdict (it sent nothing: its records wait for their parents, or the hub's own wait for a slot ran out) gives
    the probe back, so that the next batch probes at once. Kept, the probe blocked every worker until its verdict
    deadline (two request timeouts), and batches that had nothing to send took it again and again: after an outage
    the hub could send nothing for minutes."""
    wait, verdict_due = _pass(system)
    try:
        yield wait
    finally:
        if verdict_due is not None:
            # Unchanged only if no success or fault was recorded since: a verdict clears probing_until.
            CircuitBreaker.objects.filter(system=system, probing_until=verdict_due).update(probing_until=None)


def _pass(system: str) -> tuple[datetime | None, datetime | None]:
    """(when to look again or None, the probe's verdict deadline if this caller was given the probe)."""
    now = timezone.now()
    breaker = CircuitBreaker.objects.filter(system=system).first()
    if breaker is None or breaker.open_until is None:
        return None, None
    if breaker.open_until > now:
        return breaker.open_until, None
    if breaker.probing_until is None or breaker.probing_until < now:
        # The probe's verdict is due within a request's time; a probe whose worker died frees itself then.
        verdict_due = now + timedelta(seconds=_request_timeout(system) * 2)
        # Conditional on the row as read: a probe that failed meanwhile moved open_until on.
        took_probe = CircuitBreaker.objects.filter(pk=breaker.pk, open_until=breaker.open_until,
                                                   probing_until=breaker.probing_until).update(probing_until=verdict_due)
        if took_probe:
            return None, verdict_due
    return now + timedelta(seconds=PROBE_POLL_SECONDS), None


def breaker_fault(system: str, error: RemoteError) -> CircuitBreaker:
    """Count a whole-request fault; open the breaker when the run of faults reaches the threshold."""
    now = timezone.now()
    breaker, _ = CircuitBreaker.objects.get_or_create(system=system)
    noted = {"last_fault_code": error.code[:100], "last_fault_message": error.message[:2000], "last_fault_at": now}
    if breaker.open_until is not None and breaker.probing_until is None:
        # Open and no probe out: a request already in flight when the breaker opened. Its cool-down covers it; only a
        # failed probe makes the next one longer. (Counted, a burst of senders failing together pushed the first
        # cool-down from 30 s to the 10-minute cap.)
        CircuitBreaker.objects.filter(pk=breaker.pk).update(**noted)
        breaker.refresh_from_db()
        return breaker
    CircuitBreaker.objects.filter(pk=breaker.pk).update(consecutive_faults=F("consecutive_faults") + 1, **noted)
    breaker.refresh_from_db()
    over = breaker.consecutive_faults - settings.HUB_BREAKER_THRESHOLD
    if over >= 0:
        cool_down = min(settings.HUB_BREAKER_MAX_SECONDS, settings.HUB_BREAKER_BASE_SECONDS * 2 ** over)
        breaker.open_until = now + timedelta(seconds=random.uniform(cool_down * 0.8, cool_down))
        breaker.opened_at = breaker.opened_at or now
        CircuitBreaker.objects.filter(pk=breaker.pk).update(open_until=breaker.open_until, opened_at=breaker.opened_at,
                                                            probing_until=None)
    return breaker


def breaker_success(system: str) -> None:
    """A request went through: the system is well again. Writes only if the breaker had counted faults (a write
    per healthy batch would queue every sender behind SQLite's write lock)."""
    counting = CircuitBreaker.objects.filter(Q(consecutive_faults__gt=0) | Q(open_until__isnull=False), system=system)
    if counting.exists():
        counting.update(consecutive_faults=0, open_until=None, opened_at=None, probing_until=None,
                        last_success_at=timezone.now())


def _request_timeout(system: str) -> float:
    return float({System.NETSUITE: settings.NETSUITE, System.SALESFORCE: settings.SALESFORCE}[system]["TIMEOUT"])


def breakers_list() -> list[CircuitBreaker]:
    return list(CircuitBreaker.objects.order_by("system"))
