"""What only the REST transport does, end to end on the sandboxes: a lost answer is resolved by the batch's
idempotency key (nothing written twice), a refused login names itself, the account's concurrency refusals (429)
cost no record its tries, and a running hub moves from SOAP to REST by its settings alone."""
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from syncs.models import RecordLink, SyncAttempt, SyncJob
from syncs.services import sync_run

from .conftest import netsuite_settings

pytestmark = pytest.mark.slow

PUSHES = ["push_accounts", "push_contacts", "push_sales_orders", "push_purchase_orders",
          "push_sales_order_lines", "push_purchase_order_lines"]
PULLS = ["pull_sales_orders", "pull_purchase_orders", "pull_remittances"]


@pytest.fixture(scope="module")
def transport():
    return "rest"


def accounts_in_salesforce(salesforce) -> int:
    return len(salesforce.client().query_all("SELECT Id FROM Account")["records"])


def tasks_run(netsuite, at_least: int = 0, settle_s: float = 0.6) -> int:
    """Records NetSuite's async processors have written so far, once they have stopped (a job whose answer was lost
    runs on unseen)."""
    seen, quiet_since = -1, time.monotonic()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        count = netsuite.stats()["requests"].get("async.task", 0)
        if count != seen:
            seen, quiet_since = count, time.monotonic()
        elif count >= at_least and time.monotonic() - quiet_since > settle_s:
            break
        time.sleep(0.1)
    return seen


def make_due():
    SyncAttempt.objects.filter(status="pending").update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_it_asks_for_the_batch_again_when_netsuite_loses_the_answer(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    netsuite.control(lost_response_next=1, fault_operations="async.submit", reset_stats=True)
    run = sync_run(job_name="push_accounts")
    assert run.outcome == "succeeded", run.message
    stats = netsuite.stats()
    assert stats["injected"].get("lost_response") == 1
    # The submit whose answer was lost had landed: sent again with its key, NetSuite pointed at that job.
    assert stats["faults"].get("IDEMPOTENCY_ERROR") == 1, stats["faults"]
    counts = stats["records"]
    assert counts["customer"] + counts["vendor"] == accounts_in_salesforce(salesforce)
    # Each record was written once: one task per account, no more.
    assert tasks_run(netsuite) == accounts_in_salesforce(salesforce)
    assert not SyncAttempt.objects.filter(job__name="push_accounts").exclude(status="succeeded").exists()


def test_it_resolves_a_batch_whose_every_answer_was_lost_by_its_key_on_the_next_try(hub_on_sandboxes, settings):
    salesforce, netsuite = hub_on_sandboxes
    settings.HUB_BREAKER_THRESHOLD = 1000   # the tries inside the first run must not open NetSuite's breaker
    settings.HUB_RETRY_BASE_SECONDS = settings.HUB_RETRY_MAX_SECONDS = 600   # nothing comes due inside a run
    netsuite.control(lost_response_rate=1.0, fault_operations="async.submit", reset_stats=True)
    try:
        sync_run(job_name="push_accounts")
    finally:
        netsuite.control(clear_faults=True)
    lost = SyncAttempt.objects.filter(job__name="push_accounts", status="failed", error_kind="request")
    assert lost.exists() and {a.remote_code for a in lost} == {"CONNECTION_ERROR"}
    assert all(a.idempotency_key for a in lost)
    # The first type's submits landed unseen (the batch's other type was never sent: the call gave up first).
    assert 0 < tasks_run(netsuite) <= accounts_in_salesforce(salesforce)

    make_due()
    retry = sync_run(job_name="push_accounts")
    assert retry.outcome == "succeeded", retry.message
    resolved = SyncAttempt.objects.filter(job__name="push_accounts", verify_before_write=True, status="succeeded")
    assert resolved.count() == accounts_in_salesforce(salesforce)
    assert {a.operation for a in resolved} == {"upsert (same key)"}
    assert all("idempotency key" in a.response_payload["note"] for a in resolved)
    # Same keys as the lost tries, and NetSuite wrote each record once across both runs.
    assert {a.idempotency_key for a in resolved} == {a.idempotency_key for a in lost}
    assert tasks_run(netsuite, at_least=accounts_in_salesforce(salesforce)) == accounts_in_salesforce(salesforce)
    counts = netsuite.stats()["records"]
    assert counts["customer"] + counts["vendor"] == accounts_in_salesforce(salesforce)
    assert RecordLink.objects.filter(record_type="Account", netsuite_internal_id__gt="").count() == accounts_in_salesforce(salesforce)


def test_it_looks_records_up_when_only_part_of_a_lost_batch_comes_back(hub_on_sandboxes, settings):
    salesforce, netsuite = hub_on_sandboxes
    settings.HUB_BREAKER_THRESHOLD = 1000
    settings.HUB_RETRY_BASE_SECONDS = settings.HUB_RETRY_MAX_SECONDS = 600   # nothing comes due inside a run
    netsuite.control(lost_response_rate=1.0, fault_operations="async.submit")
    try:
        sync_run(job_name="push_accounts")
    finally:
        netsuite.control(clear_faults=True)
    lost = list(SyncAttempt.objects.filter(job__name="push_accounts", status="pending").order_by("id"))
    assert len(lost) > 1
    # One record of the batch is elsewhere (changed again meanwhile, say): the key no longer names this batch.
    SyncAttempt.objects.filter(pk=lost[0].pk).update(next_attempt_at=timezone.now() + timedelta(hours=1))
    SyncAttempt.objects.filter(pk__in=[a.pk for a in lost[1:]]).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    run = sync_run(job_name="push_accounts")
    assert run.outcome in ("succeeded", "retrying"), run.message
    checked = SyncAttempt.objects.filter(pk__in=[a.pk for a in lost[1:]])
    # Those that landed were found by external id; the rest (the type never sent) were written under a new key.
    assert {a.status for a in checked} == {"succeeded"}
    assert {a.operation for a in checked} <= {"lookup", "lookup+upsert"} and "lookup" in {a.operation for a in checked}
    assert not {a.idempotency_key for a in checked if a.operation == "lookup+upsert"} & {lost[0].idempotency_key}


def test_it_names_a_refused_login_for_what_it_is(hub_on_sandboxes, settings, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    settings.NETSUITE = {**settings.NETSUITE, "PRIVATE_KEY": other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()}
    run = sync_run(job_name="pull_sales_orders")
    assert run.outcome == "failed"
    assert "invalid_grant" in run.message and "OAuth 2.0 client credentials login" in run.message, run.message


def test_it_spends_no_tries_when_netsuite_refuses_requests_over_its_concurrency_limit(hub_on_sandboxes, settings):
    salesforce, netsuite = hub_on_sandboxes
    settings.HUB_BREAKER_THRESHOLD = 1000
    SyncJob.objects.filter(name="push_accounts").update(batch_size=2)   # twenty batches, ten senders at once
    netsuite.control(concurrency_limit=1, latency_ms=150, reset_stats=True)   # the hub believes it has five
    try:
        run = sync_run(job_name="push_accounts")
    finally:
        netsuite.control(concurrency_limit=5, latency_ms=0)
    assert netsuite.stats()["faults"].get("CONCURRENCY_LIMIT_EXCEEDED"), "some requests should have been refused"
    refused = SyncAttempt.objects.filter(job__name="push_accounts", remote_code="CONCURRENCY_LIMIT_EXCEEDED")
    # The account's fault, not the records': no record's retry window was spent.
    assert refused.exists() and all(a.error_kind == "request" for a in refused)
    for _ in range(5):
        if run.outcome == "succeeded":
            break
        make_due()
        run = sync_run(job_name="push_accounts")
    assert run.outcome == "succeeded", run.message
    counts = netsuite.stats()["records"]
    assert counts["customer"] + counts["vendor"] == accounts_in_salesforce(salesforce)


def test_a_running_hub_moves_from_soap_to_rest_by_its_settings(hub_on_sandboxes, settings):
    salesforce, netsuite = hub_on_sandboxes
    settings.NETSUITE = {**settings.NETSUITE, **netsuite_settings(netsuite, "soap")}
    for name in PUSHES:
        assert sync_run(job_name=name).outcome in ("succeeded", "partial")
    netsuite.pay(days=2, per_day=3, seed=71, backdate=False)
    for name in PULLS:
        assert sync_run(job_name=name).outcome in ("succeeded", "partial")
    links = set(RecordLink.objects.values_list("record_type", "salesforce_id", "netsuite_internal_id"))
    records = netsuite.stats()["records"]
    before = netsuite.stats()["requests"]

    settings.NETSUITE = {**settings.NETSUITE, **netsuite_settings(netsuite, "rest")}
    again = {name: sync_run(job_name=name) for name in PUSHES + PULLS}
    assert all(run.outcome == "succeeded" for run in again.values()), {n: r.message for n, r in again.items()}
    # Same account, same ids: every link stands, and nothing was sent again either way.
    assert all(run.records_written == 0 for run in again.values()), {n: r.records_written for n, r in again.items()}
    assert set(RecordLink.objects.values_list("record_type", "salesforce_id", "netsuite_internal_id")) == links
    assert netsuite.stats()["records"] == records
    after = netsuite.stats()["requests"]
    assert after.get("async.submit", 0) == before.get("async.submit", 0) and after.get("upsertList") == before.get("upsertList")
    assert after.get("suiteql", 0) > before.get("suiteql", 0), "the pulls read over REST"


def test_it_describes_record_types_and_their_lines_from_the_metadata_catalog(hub_on_sandboxes):
    from syncs.clients.netsuite import UnknownRecordType, netsuite_client

    netsuite = netsuite_client()
    assert {"companyName", "email", "externalId", "internalId"} <= netsuite.describe_record_type("customer")
    assert {"item", "amount", "rate", "quantity"} <= netsuite.describe_record_type("salesOrderItem")
    with pytest.raises(UnknownRecordType):
        netsuite.describe_record_type("spaceship")


def test_subsidiary_and_currency_value_mappings_are_checked_by_suiteql(hub_on_sandboxes):
    from mappings.services import value_mapping_check
    from syncs.mapping_schemas import netsuite_record_names

    assert netsuite_record_names("subsidiary", ["2", "9"]) == {"2": "Europe B.V."}
    assert netsuite_record_names("currency", ["1", "3"]) == {"1": "USD", "3": "GBP"}
    assert value_mapping_check(category="subsidiary", source_value="Atlantis", target_value="9").problems == {
        "target_value": "NetSuite has no subsidiary with internal id 9."}
