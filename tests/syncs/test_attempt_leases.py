"""A worker keeps the leases of the tries it holds alive while their batch is on its way (syncs/attempt_leases.py):
only its own claims, only while they run, only up to the hold limit; and a batch slower than the lease is not taken
from a live worker."""
import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.db.models import Count, F
from django.utils import timezone

from syncs.attempt_leases import AttemptLeaseKeeper, attempt_leases_renew, keeper
from syncs.attempts import PlannedRecord, attempts_claim, attempts_plan, attempts_reclaim_expired, attempts_release
from syncs.models import AttemptStatus, SyncAttempt, SyncJob, SyncRun
from syncs.services import sync_run


def claimed(job, count: int, *, prefix: str = "001LEASE") -> list[SyncAttempt]:
    run = SyncRun.objects.create(job=job, started_at=timezone.now())
    planned = [PlannedRecord(salesforce_id=f"{prefix}{n:07d}", payload={"record": {"type": "customer"}},
                             content_hash=f"{prefix}{n}") for n in range(count)]
    attempts_plan(run=run, planned=planned, operation="upsert")
    return attempts_claim(job=job, run=run, limit=count)


def lease_of(attempt: SyncAttempt):
    return SyncAttempt.objects.values_list("lease_expires_at", flat=True).get(pk=attempt.pk)


@pytest.mark.django_db
def test_it_renews_only_this_holders_running_claims_younger_than_the_hold_limit(settings):
    settings.HUB_ATTEMPT_LEASE_SECONDS, settings.HUB_ATTEMPT_HOLD_SECONDS = 60, 300
    job = SyncJob.objects.get(name="push_accounts")
    kept, given_back, reclaimed = claimed(job, 3)
    claims = {attempt.pk: attempt.started_at for attempt in (kept, given_back, reclaimed)}
    # Since this worker claimed them, one try was given back and claimed by another worker (a new claim of the same
    # row), and one's lease ran out and it was reclaimed (it is no longer running).
    attempts_release([given_back], until=timezone.now() - timedelta(seconds=1))
    (other_claim,) = attempts_claim(job=job, run=None, limit=1)
    assert other_claim.pk == given_back.pk and other_claim.started_at != given_back.started_at
    SyncAttempt.objects.filter(pk=reclaimed.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert attempts_reclaim_expired(job=job) == 1
    others_lease = lease_of(given_back)

    later = kept.started_at + timedelta(seconds=40)
    assert attempt_leases_renew(claims, now=later) == 1
    assert lease_of(kept) == later + timedelta(seconds=60)
    assert lease_of(given_back) == others_lease
    assert SyncAttempt.objects.get(pk=reclaimed.pk).status == AttemptStatus.FAILED

    # Past the hold limit the claim is a stuck batch's: its lease is left to run out.
    stuck = kept.started_at + timedelta(seconds=301)
    assert attempt_leases_renew({kept.pk: kept.started_at}, now=stuck) == 0
    assert lease_of(kept) == later + timedelta(seconds=60)


def test_the_keeper_renews_while_a_batch_is_held_and_stops_writing_once_it_is_released(settings, seeded_hub):
    settings.HUB_ATTEMPT_LEASE_SECONDS, settings.HUB_ATTEMPT_HOLD_SECONDS = 1, 300
    job = SyncJob.objects.get(name="push_accounts")
    batch = claimed(job, 4)
    first_lease = lease_of(batch[0])
    keeper = AttemptLeaseKeeper()
    with keeper.holding(batch):
        time.sleep(2.5)   # a batch on its way for more than twice its lease
        expired = attempts_reclaim_expired(job=job)
        held_lease = lease_of(batch[0])
    assert expired == 0
    assert held_lease > first_lease + timedelta(seconds=1)
    assert set(SyncAttempt.objects.filter(pk__in=[a.pk for a in batch]).values_list("status", flat=True)) == {"running"}
    # Released (as its batch's results are recorded): nothing renews it, and the thread ends.
    deadline = time.monotonic() + 3
    while keeper.thread is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert keeper.thread is None
    released_lease = lease_of(batch[0])
    time.sleep(1.5)
    assert lease_of(batch[0]) == released_lease


def test_a_batch_held_past_the_hold_limit_is_reclaimed_though_its_worker_lives(settings, seeded_hub):
    """A worker alive but stuck stops renewing: its tries' leases run out and another run takes them back with an
    unknown outcome, as a dead worker's."""
    settings.HUB_ATTEMPT_LEASE_SECONDS, settings.HUB_ATTEMPT_HOLD_SECONDS = 1, 1
    job = SyncJob.objects.get(name="push_accounts")
    batch = claimed(job, 3)
    keeper = AttemptLeaseKeeper()
    reclaimed_at = None
    with keeper.holding(batch):
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline and reclaimed_at is None:
            if attempts_reclaim_expired(job=job):
                reclaimed_at = timezone.now()
            time.sleep(0.1)
    assert reclaimed_at is not None, "the stuck batch's leases never ran out"
    # Renewed until the hold limit (1 s), then left to run out one lease (1 s) later at most.
    assert reclaimed_at - batch[0].started_at < timedelta(seconds=2.6)
    lost = SyncAttempt.objects.filter(pk__in=[a.pk for a in batch])
    assert set(lost.values_list("remote_code", flat=True)) == {"WORKER_LOST"}
    assert SyncAttempt.objects.filter(job=job, attempt_number=2, verify_before_write=True).count() == 3


class Rival:
    """Another worker's run starting over and over while this one sends, for its first `seconds`: it takes back
    every try whose lease ran out (attempts_reclaim_expired, as a run does when it starts). (For ever, it would take
    each new try of a record from a worker that renews no lease, and the run would never end.)"""

    def __init__(self, job, seconds: float = 8):
        self.job, self.reclaimed, self.seconds = job, 0, seconds
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        until = time.monotonic() + self.seconds
        try:
            while not self.stopped.wait(0.1) and time.monotonic() < until:
                self.reclaimed += attempts_reclaim_expired(job=self.job)
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join()


@pytest.fixture
def short_leases(settings):
    """Leases of a second; the process's keeper let go of any thread still sleeping for the default lease."""
    settings.HUB_ATTEMPT_LEASE_SECONDS = 1
    keeper.reset()
    yield
    keeper.reset()


@pytest.mark.slow
def test_a_batch_slower_than_its_lease_is_not_taken_from_a_live_worker(hub_on_sandboxes, short_leases):
    salesforce, netsuite = hub_on_sandboxes
    SyncJob.objects.filter(name="push_accounts").update(batch_size=10)
    netsuite.reset()
    netsuite.control(latency_ms=2500, latency_per_record_ms=0, reset_stats=True)   # every answer after 2.5 leases
    try:
        with Rival(SyncJob.objects.get(name="push_accounts")) as rival:
            run = sync_run(job_name="push_accounts")
    finally:
        netsuite.control(latency_ms=0)
    assert run.outcome == "succeeded", run.message
    assert rival.reclaimed == 0
    accounts = {a["Id"] for a in salesforce.client().query_all("SELECT Id FROM Account")["records"]}
    tries = SyncAttempt.objects.filter(job__name="push_accounts")
    assert not tries.filter(remote_code="WORKER_LOST").exists()
    assert sorted(tries.filter(status=AttemptStatus.SUCCEEDED).values_list("salesforce_id", flat=True)) == sorted(accounts)
    assert not tries.values("salesforce_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    # Sent once: one upsert a batch (no try looked up after an unknown outcome), each record written once.
    stats = netsuite.stats()
    assert stats["requests"].get("upsertList") == -(-len(accounts) // 10)
    assert set(tries.values_list("operation", flat=True)) == {"upsert"}
    assert stats["records"].get("customer", 0) + stats["records"].get("vendor", 0) == len(accounts)
    # Their leases were renewed while NetSuite took its time, well past the first one.
    assert not tries.filter(lease_expires_at__lt=F("started_at") + timedelta(seconds=2)).exists()


@pytest.mark.django_db(transaction=True)
def test_tries_handed_to_a_runs_senders_are_held_while_they_wait_in_its_queue(settings):
    """A reader's claimed inserts (attempts_plan_claimed) wait in the senders' queue before a sender takes them: the
    keeper renews their leases from the moment they are handed over, and the very claim is renewed (same started_at)."""
    from syncs.attempts import attempts_plan_claimed
    from syncs.engine import BatchSender

    settings.HUB_ATTEMPT_LEASE_SECONDS, settings.HUB_ATTEMPT_HOLD_SECONDS = 60, 300
    job = SyncJob.objects.get(name="push_accounts")
    run = SyncRun.objects.create(job=job, started_at=timezone.now())
    planned = [PlannedRecord(salesforce_id=f"001HAND{n:08d}", payload={"record": {"type": "customer"}},
                             content_hash=f"hand{n}") for n in range(3)]
    sender = BatchSender(job=job, run=run, send_batch=lambda attempts: None, threads=1, batch_size=10)
    _, handed = attempts_plan_claimed(run=run, planned=planned, operation="upsert", room=sender.room())
    assert len(handed) == 3
    sender.planned(handed)
    try:
        with keeper.lock:
            held = {pk: keeper.held.get(pk) for pk in (attempt.pk for attempt in handed)}
        assert held == {attempt.pk: attempt.started_at for attempt in handed}
        before = [lease_of(attempt) for attempt in handed]
        assert attempt_leases_renew(dict(held), now=timezone.now() + timedelta(seconds=5)) == 3
        assert all(lease_of(attempt) > old for attempt, old in zip(handed, before))
    finally:
        keeper.let_go(handed)
