"""The life of an attempt: backoff, and what each kind of failure makes of a try (state machine). Database only."""
from datetime import timedelta

import pytest
from django.utils import timezone

from syncs.attempts import (REPLAN, PlannedRecord, attempt_fail, attempts_claim, attempts_plan, attempts_plan_claimed,
                            attempts_retry, attempts_succeed, backoff_delay)
from syncs.clients.errors import PermanentError, TransientError
from syncs.models import AttemptStatus, SyncAttempt, SyncJob, SyncRun
from syncs.selectors import NEEDS_PERSON

pytestmark = pytest.mark.django_db


@pytest.fixture
def job():
    return SyncJob.objects.get(name="push_accounts")


def running(job, number=1, salesforce_id="001000000000001AAA"):
    run = SyncRun.objects.create(job=job, started_at=timezone.now())
    return SyncAttempt.objects.create(job=job, run=run, record_type="Account", salesforce_id=salesforce_id,
                                      operation="upsert", attempt_number=number, status=AttemptStatus.RUNNING,
                                      started_at=timezone.now(), request_payload={"record": {"type": "customer"}})


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings):
    settings.HUB_RETRY_BASE_SECONDS, settings.HUB_RETRY_MAX_SECONDS = 10, 300
    first = [backoff_delay(1) for _ in range(200)]
    fourth = [backoff_delay(4) for _ in range(200)]
    late = [backoff_delay(20) for _ in range(200)]
    assert all(timedelta(seconds=5) <= d <= timedelta(seconds=10) for d in first)
    assert all(timedelta(seconds=40) <= d <= timedelta(seconds=80) for d in fourth)   # each wait grows for sure
    assert max(fourth) - min(fourth) > timedelta(seconds=20)   # spread, not one instant
    assert all(d <= timedelta(seconds=300) for d in late)


def test_a_transient_failure_schedules_the_next_try_with_the_same_payload(job):
    attempt = running(job)
    successor = attempt_fail(attempt, error=TransientError("WS_REQUEST_BLOCKED", "busy"))
    attempt.refresh_from_db()
    assert (attempt.status, attempt.superseded, attempt.error_kind, attempt.remote_code) == ("failed", True, "transient", "WS_REQUEST_BLOCKED")
    assert (successor.status, successor.attempt_number, successor.request_payload) == ("pending", 2, attempt.request_payload)
    assert successor.next_attempt_at > timezone.now() and not successor.verify_before_write


def test_an_unknown_outcome_makes_the_next_try_look_the_record_up_first(job):
    successor = attempt_fail(running(job), error=TransientError("TIMEOUT", "no answer", outcome_unknown=True))
    assert successor.verify_before_write


def test_a_record_is_retried_until_its_retry_window_has_passed_then_dead(job):
    first = running(job)
    first.started_at = timezone.now() - timedelta(minutes=job.retry_for_minutes - 5)
    second = attempt_fail(first, error=TransientError("RCRD_HAS_BEEN_CHANGED", "changed"))
    assert second.retrying_since == first.started_at   # the window runs from the first failure, not this try
    second.status, second.started_at = AttemptStatus.RUNNING, timezone.now()
    second.retrying_since = timezone.now() - timedelta(minutes=job.retry_for_minutes + 1)
    second.save()
    assert attempt_fail(second, error=TransientError("RCRD_HAS_BEEN_CHANGED", "changed")) is None
    second.refresh_from_db()
    assert (second.status, second.superseded) == ("dead", False)


def test_a_fault_of_the_whole_request_spends_none_of_the_records_window(job):
    attempt = running(job, number=40)
    attempt.retrying_since = timezone.now() - timedelta(minutes=job.retry_for_minutes + 60)
    attempt.save()
    successor = attempt_fail(attempt, error=TransientError("HTTP_503", "down"), request_fault=True)
    attempt.refresh_from_db()
    assert (attempt.status, attempt.error_kind) == ("failed", "request")
    assert successor is not None and successor.retrying_since == attempt.retrying_since
    fresh = attempt_fail(running(job, salesforce_id="001000000000002AAA"), error=TransientError("TIMEOUT", "slow", outcome_unknown=True),
                         request_fault=True)
    assert fresh.retrying_since is None and fresh.verify_before_write   # its window has not started


def test_a_permanent_fault_of_the_whole_request_still_waits_for_a_person(job):
    attempt = running(job)
    assert attempt_fail(attempt, error=PermanentError("INVALID_LOGIN", "bad token"), request_fault=True) is None
    attempt.refresh_from_db()
    assert (attempt.status, attempt.error_kind) == ("failed", "permanent")


def test_a_permanent_failure_waits_for_a_person(job):
    attempt = running(job)
    assert attempt_fail(attempt, error=PermanentError("INVALID_KEY_OR_REF", "Invalid entity reference key 9.")) is None
    attempt.refresh_from_db()
    assert (attempt.status, attempt.superseded, attempt.error_kind) == ("failed", False, "permanent")


def test_a_failure_superseded_by_a_newer_change_schedules_nothing(job):
    attempt = running(job)
    SyncAttempt.objects.create(job=job, run=attempt.run, record_type="Account", salesforce_id=attempt.salesforce_id,
                               operation="upsert", status=AttemptStatus.PENDING)
    assert attempt_fail(attempt, error=TransientError("HTTP_503", "down")) is None
    attempt.refresh_from_db()
    assert (attempt.status, attempt.superseded) == ("failed", True)


def test_a_persons_retry_makes_a_new_due_try_and_keeps_the_old_one(job):
    attempt = running(job)
    attempt_fail(attempt, error=PermanentError("USER_ERROR", "bad"))
    [retry] = attempts_retry(attempt_ids=[attempt.pk])
    attempt.refresh_from_db()
    assert attempt.superseded and (attempt.status, attempt.remote_code) == ("failed", "USER_ERROR")
    assert (retry.status, retry.attempt_number) == ("pending", 2) and retry.next_attempt_at <= timezone.now()
    assert attempts_retry(attempt_ids=[attempt.pk]) == []   # the same failure is not retried twice


def failed(job, *, number=1, salesforce_id="001000000000001AAA", code="INVALID_KEY_OR_REF", **fields):
    return SyncAttempt.objects.create(job=job, record_type="Account", salesforce_id=salesforce_id, operation="upsert",
                                      attempt_number=number, status=AttemptStatus.FAILED, error_kind="permanent",
                                      remote_code=code, request_payload={"record": {"type": "customer"}}, **fields)


def test_it_plans_a_persons_retry_of_a_push_afresh_and_keeps_the_lookup_before_write(job):
    old = failed(job, verify_before_write=True)
    (retry,) = attempts_retry(attempt_ids=[old.pk])
    assert retry.request_payload == {REPLAN: old.pk}   # read again from Salesforce when it is sent
    assert retry.verify_before_write and retry.attempt_number == 2


def test_it_keeps_the_payload_of_a_pulls_retry():
    pull = SyncJob.objects.get(name="pull_sales_orders")
    old = SyncAttempt.objects.create(job=pull, record_type="Application", salesforce_id="006000000000001AAA",
                                     operation="update", status=AttemptStatus.FAILED,
                                     request_payload={"object": "Opportunity", "record": {"Id": "006000000000001AAA"}})
    (retry,) = attempts_retry(attempt_ids=[old.pk])
    assert retry.request_payload == old.request_payload


def test_it_keeps_one_open_failure_per_record(job):
    older = failed(job)
    newer = running(job, number=2)
    attempt_fail(newer, error=PermanentError("INVALID_KEY_OR_REF", "still wrong"))
    older.refresh_from_db()
    assert older.superseded
    assert SyncAttempt.objects.filter(NEEDS_PERSON, salesforce_id=older.salesforce_id).count() == 1


def test_it_resolves_a_records_earlier_failures_when_a_later_try_goes_through(job):
    older = failed(job, resolution_note="[2024-01-01 09:00 frank] asked the broker")
    other_record = failed(job, salesforce_id="001000000000002AAA")
    later = running(job, number=2)
    attempts_succeed([(later, "555", {"isSuccess": True})])
    older.refresh_from_db()
    other_record.refresh_from_db()
    assert older.resolved_at is not None and older.resolved_by is None
    assert older.resolution_note.splitlines() == ["[2024-01-01 09:00 frank] asked the broker",
                                                  "Resolved by the hub: try #2 of the record went through."]
    assert other_record.resolved_at is None


def planned(number, payload=None):
    salesforce_id = f"001{number:012d}AAA"
    return PlannedRecord(salesforce_id=salesforce_id, netsuite_external_id=salesforce_id, record_name=f"Acme {number}",
                         content_hash=f"hash-{number}", payload=payload or {"record": {"type": "customer",
                                                                                     "externalId": salesforce_id}})


@pytest.mark.django_db(transaction=True)
def test_it_hands_new_tries_to_the_run_already_claimed_up_to_its_room(job, settings):
    """The run's own senders get tries inserted as running, under this run and a lease, each as the database holds
    it (the row is not written again to claim it); the rest are pending, for a claim as before."""
    run = SyncRun.objects.create(job=job, started_at=timezone.now())
    payload = {"record": {"type": "customer", "externalId": "x", "fields": {"amount": 1.5, "lines": (1, 2)}}}
    count, claimed = attempts_plan_claimed(run=run, planned=[planned(n, payload if n == 0 else None) for n in range(5)],
                                           operation="upsert", room=3)
    assert count == 5 and len(claimed) == 3
    for attempt in claimed:
        stored = SyncAttempt.objects.get(pk=attempt.pk)
        assert (stored.status, stored.run_id, stored.salesforce_id) == ("running", run.pk, attempt.salesforce_id)
        assert stored.lease_expires_at > timezone.now() and stored.started_at is not None
        assert attempt.request_payload == stored.request_payload   # as read back: (1, 2) a list
        assert (attempt.status, attempt.attempt_number, attempt.job_id) == ("running", 1, job.pk)
    assert claimed[0].request_payload["record"]["fields"]["lines"] == [1, 2]
    assert SyncAttempt.objects.filter(status="pending").count() == 2
    # The claimed tries are whole: recording an outcome writes the row the claim would have returned.
    attempts_succeed([(claimed[0], "1001", {"isSuccess": True})])
    assert SyncAttempt.objects.get(pk=claimed[0].pk).status == "succeeded"


@pytest.mark.django_db(transaction=True)
def test_it_claims_no_new_try_of_a_record_that_has_one_open(job):
    """A record whose earlier try is pending or in flight waits for a claim, which holds it while that try runs:
    an older content must never land after a newer one."""
    first = SyncRun.objects.create(job=job, started_at=timezone.now())
    attempts_plan(run=first, planned=[planned(1), planned(2)], operation="upsert")
    in_flight = attempts_claim(job=job, run=first, limit=1)
    assert len(in_flight) == 1
    run = SyncRun.objects.create(job=job, started_at=timezone.now())
    changed = [PlannedRecord(**{**planned(n).__dict__, "content_hash": f"new-{n}"}) for n in (1, 2, 3)]
    count, claimed = attempts_plan_claimed(run=run, planned=changed, operation="upsert", room=10)
    assert count == 3
    assert [attempt.salesforce_id for attempt in claimed] == [planned(3).salesforce_id]


@pytest.mark.django_db(transaction=True)
def test_it_hands_over_nothing_inside_a_callers_transaction(job):
    """Other threads cannot see rows of a transaction still open: tries handed to them then could not be recorded."""
    from django.db import transaction

    run = SyncRun.objects.create(job=job, started_at=timezone.now())
    with transaction.atomic():
        count, claimed = attempts_plan_claimed(run=run, planned=[planned(1)], operation="upsert", room=10)
    assert (count, claimed) == (1, [])
    assert SyncAttempt.objects.get().status == "pending"
