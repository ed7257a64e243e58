from datetime import timedelta

import pytest
from django.utils import timezone

from syncs.models import RecordLink, SyncAttempt, SyncJob
from syncs.services import sync_sweep

pytestmark = pytest.mark.django_db


def _attempt(job_name, **fields):
    defaults = {"record_type": "Contact", "operation": "upsert", "request_payload": {"record": {}}}
    return SyncAttempt.objects.create(job=SyncJob.objects.get(name=job_name), **{**defaults, **fields})


def test_it_gives_a_held_child_a_new_try_once_its_parent_is_linked():
    child = _attempt("push_contacts", salesforce_id="003000000000001AAA", status="failed", error_kind="permanent",
                     remote_code="PARENT_NOT_SYNCED", waiting_on="001000000000001AAA")
    still_waiting = _attempt("push_contacts", salesforce_id="003000000000002AAA", status="failed", error_kind="permanent",
                             remote_code="PARENT_NOT_SYNCED", waiting_on="001000000000002AAA")
    RecordLink.objects.create(record_type="Account", salesforce_id="001000000000001AAA", netsuite_internal_id="1001")

    sync_sweep()

    retried = SyncAttempt.objects.filter(salesforce_id=child.salesforce_id, status="pending")
    assert retried.count() == 1 and retried.get().attempt_number == 2
    child.refresh_from_db()
    assert child.superseded
    assert not SyncAttempt.objects.filter(salesforce_id=still_waiting.salesforce_id, status="pending").exists()


def test_it_enqueues_jobs_with_due_retries_or_expired_tries_only(django_capture_on_commit_callbacks):
    _attempt("push_accounts", salesforce_id="001000000000009AAA", status="pending", next_attempt_at=timezone.now())
    _attempt("push_contacts", salesforce_id="003000000000009AAA", status="pending",
             next_attempt_at=timezone.now() + timedelta(hours=1))
    _attempt("pull_remittances", netsuite_internal_id="5001", status="running",
             lease_expires_at=timezone.now() - timedelta(minutes=1))
    with django_capture_on_commit_callbacks() as callbacks:
        names = sync_sweep()
    assert names == ["pull_remittances", "push_accounts"]
    assert len(callbacks) == 2
