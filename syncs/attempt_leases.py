"""Attempt leases kept alive by the process that holds them.

A claim gives its tries a short lease (HUB_ATTEMPT_LEASE_SECONDS). While a batch is on its way, one thread per
process renews the leases of every try the process holds, in one UPDATE every third of the lease, as the run's
JobLeaseKeeper renews the job's (syncs/engine.py). So a try's lease runs out about one lease after its worker died,
and then it is reclaimed with an unknown outcome (attempts_reclaim_expired), however long a live batch takes.

A worker that is alive but stuck would renew for ever: a claim is renewed for HUB_ATTEMPT_HOLD_SECONDS at most (what
the code lets a batch take, see integration_hub/settings.py), after which its lease runs out as a dead worker's does.
"""
import logging
import operator
import os
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import reduce

from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.utils import timezone

from .models import AttemptStatus, SyncAttempt

logger = logging.getLogger(__name__)


def attempt_leases_renew(claims: dict[int, datetime], *, now: datetime | None = None) -> int:
    """Extend the leases of these claims (attempt id → the claim's started_at) that are still running and younger
    than the hold limit, in one UPDATE; returns how many were extended.

    A claim is its row's id and started_at together: a try given back and claimed again by another worker has a new
    started_at, and a reclaimed one is no longer running, so neither is extended from here."""
    now = now or timezone.now()
    oldest = now - timedelta(seconds=settings.HUB_ATTEMPT_HOLD_SECONDS)
    by_claim: dict[datetime, list[int]] = {}
    for pk, started_at in claims.items():
        if started_at > oldest:
            by_claim.setdefault(started_at, []).append(pk)
    if not by_claim:
        return 0
    # A batch's tries share their claim's started_at: one condition per batch in flight, not one per try.
    condition = reduce(operator.or_, (Q(started_at=started_at, pk__in=ids) for started_at, ids in by_claim.items()))
    return SyncAttempt.objects.filter(condition, status=AttemptStatus.RUNNING).update(
        lease_expires_at=now + timedelta(seconds=settings.HUB_ATTEMPT_LEASE_SECONDS))


class AttemptLeaseKeeper:
    """The process's claims in flight and the thread that renews them. The thread runs while something is held and
    ends when nothing is, so an idle worker writes nothing."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Hold nothing. Also in a child just forked (the parent's thread did not come along, and its lock may have
        been held) and in a test that changes the lease (a thread still sleeping for the old one is let go)."""
        self.lock = threading.Lock()
        self.held: dict[int, datetime] = {}
        self.thread: threading.Thread | None = None

    @contextmanager
    def holding(self, attempts: list[SyncAttempt]):
        """Keep these just-claimed tries' leases alive until the block ends (their batch recorded or given back)."""
        self.hold(attempts)
        try:
            yield
        finally:
            self.let_go(attempts)

    def hold(self, attempts: list[SyncAttempt]) -> None:
        """Keep these claimed tries' leases alive until let_go (tries a run's reader inserted claimed, waiting in its
        senders' queue, are held from the moment they are handed over)."""
        claims = {attempt.pk: attempt.started_at for attempt in attempts if attempt.started_at is not None}
        if not claims:
            return
        with self.lock:
            self.held.update(claims)
            if self.thread is None:
                self.thread = threading.Thread(target=self._renew, name="attempt-leases", daemon=True)
                self.thread.start()

    def let_go(self, attempts: list[SyncAttempt]) -> None:
        with self.lock:
            for attempt in attempts:
                if attempt.started_at is not None and self.held.get(attempt.pk) == attempt.started_at:
                    del self.held[attempt.pk]

    def _renew(self) -> None:
        while True:
            # A claim is at least two thirds of its lease from running out when it is renewed: a renewal that waits
            # for SQLite's write lock or a pooled connection still lands in time.
            time.sleep(settings.HUB_ATTEMPT_LEASE_SECONDS / 3)
            with self.lock:
                if self.thread is not threading.current_thread():
                    return   # let go by reset()
                if not self.held:
                    self.thread = None
                    return
                now = timezone.now()
                oldest = now - timedelta(seconds=settings.HUB_ATTEMPT_HOLD_SECONDS)
                stuck = [pk for pk, started_at in self.held.items() if started_at <= oldest]
                for pk in stuck:
                    del self.held[pk]   # its batch is stuck: its lease is left to run out
                claims = dict(self.held)
            if stuck:
                logger.warning("attempts %s held for more than %s s: their leases are no longer renewed", stuck,
                               settings.HUB_ATTEMPT_HOLD_SECONDS)
            try:
                attempt_leases_renew(claims, now=now)
            except Exception:  # the next renewal, a third of a lease later, may get through
                logger.exception("attempt leases not renewed")
            finally:
                # The thread holds no connection between renewals: pooled ones go back to the pool.
                connections.close_all()


keeper = AttemptLeaseKeeper()
os.register_at_fork(after_in_child=keeper.reset)
