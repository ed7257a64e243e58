import pytest

from syncs.models import RecordLink, SyncAttempt
from syncs.services import sync_run

pytestmark = pytest.mark.slow


def test_it_pushes_accounts_as_customers_and_vendors(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    run = sync_run(job_name="push_accounts")
    assert run.outcome == "succeeded", run.message
    sf = salesforce.client()
    accounts = sf.query_all("SELECT Id, Name, Type FROM Account")["records"]
    assert run.records_written == len(accounts)
    links = {link.salesforce_id: link for link in RecordLink.objects.filter(record_type="Account")}
    assert set(links) == {a["Id"] for a in accounts}
    for account in accounts:
        expected = "vendor" if account["Type"] == "Broker" else "customer"
        assert links[account["Id"]].netsuite_record_type == expected

    again = sync_run(job_name="push_accounts")
    assert again.outcome == "succeeded" and again.records_written == 0
    assert SyncAttempt.objects.filter(job__name="push_accounts").count() == len(accounts)
