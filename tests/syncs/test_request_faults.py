"""A fault of a whole request is the remote system's, not the records': it spends none of their retry windows, and
a run of them opens the system's breaker, which holds every sender back until a probe gets through."""
from datetime import timedelta

import pytest
from django.utils import timezone

from syncs.models import CircuitBreaker, RecordLink, SyncAttempt, SyncJob
from syncs.services import sync_run

pytestmark = pytest.mark.slow


@pytest.fixture
def small_batches(hub_on_sandboxes):
    SyncJob.objects.update(batch_size=2)   # twenty batches of the forty accounts
    return hub_on_sandboxes


def make_due():
    SyncAttempt.objects.filter(status="pending").update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def waiting_for_a_person():
    return list(SyncAttempt.objects.filter(status__in=["failed", "dead"], superseded=False)
                .values_list("salesforce_id", "status", "remote_code"))


def test_it_spends_no_tries_when_the_lookups_after_a_lost_answer_fail(hub_on_sandboxes, settings):
    """The issue's case: after a lost answer every later try looked the record up first, and failing lookups spent
    the record's five tries, so records NetSuite held ended dead."""
    salesforce, netsuite = hub_on_sandboxes
    settings.HUB_BREAKER_THRESHOLD = 1000   # this test is about the records' budgets, not the breaker
    settings.HUB_RETRY_BASE_SECONDS = settings.HUB_RETRY_MAX_SECONDS = 600   # nothing comes due inside a run
    netsuite.control(lost_response_next=1, fault_operations="upsertList")
    sync_run(job_name="push_accounts")
    lost = set(SyncAttempt.objects.filter(status="failed", remote_code="CONNECTION_ERROR").values_list("salesforce_id", flat=True))
    assert lost
    netsuite.control(clear_faults=True, http_503_rate=1.0, fault_operations="getList")
    for _ in range(8):   # more tries than the old budget of five
        make_due()
        run = sync_run(job_name="push_accounts")
        assert run.outcome == "retrying", run.message
    assert waiting_for_a_person() == []
    assert SyncAttempt.objects.filter(salesforce_id__in=lost, error_kind="request", remote_code="HTTP_503").count() >= 8 * len(lost)
    netsuite.control(clear_faults=True)
    make_due()
    run = sync_run(job_name="push_accounts")
    assert run.outcome == "succeeded", run.message
    # NetSuite had them all along: the lookup completed each try, nothing written again.
    assert set(SyncAttempt.objects.filter(status="succeeded", operation="lookup").values_list("salesforce_id", flat=True)) == lost
    assert waiting_for_a_person() == []


def test_a_run_of_request_faults_opens_the_breaker_and_a_probe_closes_it(small_batches, settings):
    salesforce, netsuite = small_batches
    settings.HUB_BREAKER_THRESHOLD, settings.HUB_BREAKER_BASE_SECONDS = 3, 600
    netsuite.control(http_503_rate=1.0, fault_operations="upsertList", reset_stats=True)
    run = sync_run(job_name="push_accounts")
    breaker = CircuitBreaker.objects.get(system="netsuite")
    assert breaker.is_open(timezone.now()) and breaker.last_fault_code == "HTTP_503"
    # Once open, no sender asked NetSuite again: the rest of the twenty batches went back untried (the senders
    # already past the breaker when it opened finished their requests).
    senders = 2 * settings.NETSUITE["CONCURRENCY_LIMIT"]
    assert 3 <= netsuite.stats()["requests"]["upsertList"] <= 3 + senders - 1 < 20
    assert run.outcome == "retrying" and "NetSuite is failing whole requests" in run.message, run.message
    assert waiting_for_a_person() == []
    accounts = SyncAttempt.objects.filter(job__name="push_accounts", superseded=False).count()
    assert SyncAttempt.objects.filter(job__name="push_accounts", status="pending", superseded=False).count() == accounts

    netsuite.control(clear_faults=True, reset_stats=True)
    CircuitBreaker.objects.update(open_until=timezone.now() - timedelta(seconds=1))   # the cool-down is over
    make_due()
    probe_run = sync_run(job_name="push_accounts")
    # One batch probed NetSuite; the senders that found the probe out gave their batches back for a moment.
    assert probe_run.records_written >= 2, probe_run.message
    make_due()
    run = sync_run(job_name="push_accounts")
    assert run.outcome == "succeeded", run.message
    assert netsuite.stats()["requests"]["upsertList"] == 20
    breaker.refresh_from_db()
    assert (breaker.consecutive_faults, breaker.open_until, breaker.last_success_at is not None) == (0, None, True)
    assert RecordLink.objects.filter(record_type="Account").count() == accounts
    assert waiting_for_a_person() == []


def test_a_failed_probe_opens_the_breaker_again_for_longer(small_batches, settings):
    salesforce, netsuite = small_batches
    # No cap in sight: the first spell may count many faults (every sender in flight), and its cool-down must not
    # already be the longest there is.
    settings.HUB_BREAKER_THRESHOLD, settings.HUB_BREAKER_BASE_SECONDS, settings.HUB_BREAKER_MAX_SECONDS = 2, 60, 10 ** 9
    netsuite.control(http_503_rate=1.0, fault_operations="upsertList")
    sync_run(job_name="push_accounts")
    first = CircuitBreaker.objects.get(system="netsuite")
    first_cool_down = first.open_until - first.last_fault_at
    CircuitBreaker.objects.update(open_until=timezone.now() - timedelta(seconds=1))
    make_due()
    netsuite.control(reset_stats=True)
    sync_run(job_name="push_accounts")
    assert netsuite.stats()["requests"]["upsertList"] == 1   # one probe, not every sender
    again = CircuitBreaker.objects.get(system="netsuite")
    assert again.consecutive_faults >= 3 and again.open_until - again.last_fault_at > first_cool_down
    assert waiting_for_a_person() == []


def test_a_probe_that_sends_nothing_is_given_back_at_once(small_batches, settings):
    """After an outage the first batch to find the cool-down over may have nothing to send (contacts whose accounts
    are not in NetSuite yet wait for them). It gives the probe back, so the accounts' batch probes at once; kept, the
    probe held every sender back until its verdict deadline, and after an outage the hub sent nothing for minutes."""
    salesforce, netsuite = small_batches
    settings.HUB_BREAKER_THRESHOLD, settings.HUB_BREAKER_BASE_SECONDS = 3, 600
    netsuite.control(http_503_rate=1.0, fault_operations="upsertList")
    sync_run(job_name="push_accounts")
    sync_run(job_name="push_contacts")   # held back by the open breaker, untried
    assert CircuitBreaker.objects.get(system="netsuite").is_open(timezone.now())
    netsuite.control(clear_faults=True, reset_stats=True)
    CircuitBreaker.objects.update(open_until=timezone.now() - timedelta(seconds=1))   # the cool-down is over
    make_due()
    sync_run(job_name="push_contacts")   # takes the probe; every contact waits for its account, nothing is sent
    assert netsuite.stats()["requests"].get("upsertList", 0) == 0
    assert CircuitBreaker.objects.get(system="netsuite").probing_until is None, "the probe was given back"
    run = sync_run(job_name="push_accounts")
    assert run.records_written >= 2, run.message   # the probe went out with the first accounts' batch
    assert CircuitBreaker.objects.get(system="netsuite").open_until is None
