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


def test_it_logs_one_json_line_per_attempt_and_stores_no_secret(hub_on_sandboxes, settings):
    import io
    import json
    import logging

    from integration_hub.logging import JsonFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger("hub.attempts").addHandler(handler)
    try:
        run = sync_run(job_name="push_accounts")
    finally:
        logging.getLogger("hub.attempts").removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    outcomes = [line for line in lines if line.get("event") == "attempt"]
    assert len(outcomes) == SyncAttempt.objects.filter(run=run).count()
    assert all(line["job"] == "push_accounts" and line["run_id"] == run.pk and line["salesforce_id"] for line in outcomes)

    # The private key whole, and a line of it: a PEM body is 64-character lines.
    private_key = settings.SALESFORCE["PRIVATE_KEY"]
    secrets = [private_key, private_key.splitlines()[1], settings.NETSUITE["CONSUMER_SECRET"],
               settings.NETSUITE["TOKEN_SECRET"], settings.NETSUITE["TOKEN_ID"]]
    stored = json.dumps([[a.request_payload, a.response_payload] for a in SyncAttempt.objects.all()])
    logged = json.dumps(lines)
    for secret in secrets:
        assert secret not in stored and secret not in logged


def test_it_logs_in_again_when_the_salesforce_session_expires(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    sync_run(job_name="push_accounts")
    logins = salesforce.stats()["counts"]["logins"]
    salesforce.control(expire_sessions=True)
    sf = salesforce.client()
    sf.Account.create({"Name": "After The Expiry Ltd", "Type": "Merchant"})
    run = sync_run(job_name="push_accounts")
    assert run.outcome == "succeeded", run.message
    assert run.records_written >= 1
    assert salesforce.stats()["counts"]["logins"] > logins


def test_it_pauses_when_the_daily_api_allocation_is_nearly_spent(hub_on_sandboxes):
    from syncs.models import SyncJob

    salesforce, netsuite = hub_on_sandboxes
    salesforce.control(api_usage=0, api_daily_limit=1000)
    salesforce.control(api_usage=950)
    run = sync_run(job_name="push_accounts")
    assert run.outcome == "paused"
    assert "API requests nearly spent" in run.message and "1000" in run.message
    assert "nearly spent" in SyncJob.objects.get(name="push_accounts").paused_reason
    assert not SyncAttempt.objects.filter(run=run).exists()

    salesforce.control(api_usage=0, api_daily_limit=100000)
    resumed = sync_run(job_name="push_accounts")
    assert resumed.outcome == "succeeded", resumed.message
    assert SyncJob.objects.get(name="push_accounts").paused_reason == ""
