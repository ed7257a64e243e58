"""A run says what it did: never "Succeeded" while records it touched failed or wait for another try."""
import pytest

from syncs.jobs.base import outcome_of
from syncs.models import SyncAttempt
from syncs.services import sync_run


@pytest.mark.parametrize("written, failed, waiting, outcome", [
    (10, 0, 0, "succeeded"),
    (0, 0, 0, "succeeded"),      # nothing changed: nothing to do is a success
    (8, 0, 2, "retrying"),
    (0, 0, 12, "retrying"),
    (8, 2, 0, "partial"),
    (8, 2, 5, "partial"),
    (0, 12, 0, "failed"),
])
def test_it_names_the_outcome_by_what_happened(written, failed, waiting, outcome):
    assert outcome_of(written=written, failed=failed, waiting=waiting) == outcome


@pytest.mark.slow
def test_a_run_whose_writes_all_wait_to_retry_is_not_shown_as_succeeded(hub_on_sandboxes, settings):
    salesforce, netsuite = hub_on_sandboxes
    settings.HUB_RETRY_BASE_SECONDS = settings.HUB_RETRY_MAX_SECONDS = 600   # the retries come due after the run
    netsuite.control(http_503_rate=1.0, fault_operations="upsertList")
    try:
        run = sync_run(job_name="push_accounts")
    finally:
        netsuite.control(clear_faults=True)
    assert run.records_written == 0
    assert run.outcome == "retrying" and run.get_outcome_display() == "Records waiting to retry", run.message
    waiting = SyncAttempt.objects.filter(job__name="push_accounts", status="pending", superseded=False)
    assert waiting.exists() and f"{waiting.count()} waiting to retry" in run.message
    assert run.job.__class__.objects.get(pk=run.job.pk).last_outcome == "retrying"
