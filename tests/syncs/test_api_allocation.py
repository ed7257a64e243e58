"""Running low on Salesforce's daily API allocation pauses a run, as it goes, and the job goes on by itself once
the allocation allows; a refusal for the allocation is never reported as Salesforce being unreachable."""
import pytest

from syncs.models import SyncJob, SyncRun
from syncs.services import sync_run

pytestmark = pytest.mark.slow

PUSHES = ["push_accounts", "push_contacts", "push_sales_orders", "push_purchase_orders"]


def test_a_run_refused_for_the_allocation_is_paused_not_failed(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    salesforce.control(api_daily_limit=50, api_usage=50)
    try:
        for job_name in ("push_accounts", "pull_remittances"):
            run = sync_run(job_name=job_name)
            assert run.outcome == "paused", run.message
            assert "REQUEST_LIMIT_EXCEEDED" in run.message and "could not be reached" not in run.message
            assert "allocation" in SyncJob.objects.get(name=job_name).paused_reason
    finally:
        salesforce.control(api_daily_limit=100000, api_usage=0)


def test_a_pull_pauses_between_pages_when_the_allocation_runs_low_and_resumes_later(hub_on_sandboxes, settings):
    salesforce, netsuite = hub_on_sandboxes
    for job_name in PUSHES:
        assert sync_run(job_name=job_name).outcome in ("succeeded", "partial")
    paid = len(netsuite.pay(days=20, per_day=2, seed=53, backdate=True)["created"])
    settings.HUB_NETSUITE_PAGE_SIZE = 5   # several pages, each written to Salesforce before the next is read
    # 10% of 1,000 is the reserve: the run starts just above it, and its own writes take it there.
    salesforce.control(api_daily_limit=1000, api_usage=896)
    try:
        paused = sync_run(job_name="pull_remittances")
    finally:
        salesforce.control(api_daily_limit=100000, api_usage=0)
    assert paused.outcome == "paused", paused.message
    assert "nearly spent" in paused.message and paused.records_read < paid
    job = SyncJob.objects.get(name="pull_remittances")
    assert job.watermark_timestamp is None   # the sweep did not finish: the next run reads again from the start

    resumed = sync_run(job_name="pull_remittances", trigger=SyncRun.Trigger.SCHEDULE)
    assert resumed.outcome == "succeeded", resumed.message
    remitted = salesforce.client().query_all("SELECT Id FROM Remittance__c")["records"]
    assert len(remitted) == paid
    assert SyncJob.objects.get(name="pull_remittances").paused_reason == ""
