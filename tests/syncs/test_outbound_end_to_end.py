"""Near-real-time: with no beat at all, records saved in the Salesforce sandbox reach NetSuite within seconds,
through the sandbox's outbound messages, the hub's web process and a real Celery worker."""
import datetime as dt
import time

import pytest
import requests

from demo.outbound import hook_url, outbound_messages
from sandboxes.processes import free_port
from syncs.models import RecordLink, SyncAttempt, SyncRun
from tests.hub_workers import start_worker

pytestmark = pytest.mark.slow
TOKEN = "end-to-end-outbound-token"


def start_web(hub_processes, env) -> str:
    port = free_port()
    env["HUB_OUTBOUND_TOKEN"] = TOKEN
    web = hub_processes.start("web", "-m", "gunicorn", "integration_hub.wsgi", "--bind", f"127.0.0.1:{port}",
                              "--workers", "1", "--threads", "4")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert web.poll() is None, hub_processes.log("web")
        try:
            requests.get(url + "/healthz", timeout=1)
            return url
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError("the hub's web process did not start\n" + hub_processes.log("web"))


def test_an_account_a_contact_and_a_funded_application_reach_netsuite_within_seconds(
        worker_env, hub_processes, salesforce_sandbox, netsuite_sandbox):
    url = start_web(hub_processes, worker_env)
    start_worker(hub_processes, "worker1", concurrency=2)
    salesforce_sandbox.control(outbound_messages=outbound_messages(hook_url(url, TOKEN)), outbound_retry_base_seconds=1)
    sf = salesforce_sandbox.client()
    # A warm worker (logged in to both systems, the WSDL read), as in a hub that has been running: not timed.
    warm_up = sf.Account.create({"Name": "Warm-up Ltd", "Type": "Merchant"})["id"]
    deadline = time.monotonic() + 60
    while not RecordLink.objects.filter(salesforce_id=warm_up).exists():
        assert time.monotonic() < deadline, hub_processes.log("worker1")[-3000:]
        time.sleep(0.2)
    before = netsuite_sandbox.stats()["records"]
    entry = sf.query("SELECT Id, UnitPrice FROM PricebookEntry WHERE IsActive = true LIMIT 1")["records"][0]
    pricebook = sf.query("SELECT Id FROM Pricebook2 LIMIT 1")["records"][0]["Id"]

    merchant = sf.Account.create({"Name": "Seconds Later Bakery", "Type": "Merchant"})["id"]
    broker = sf.Account.create({"Name": "Quick Brokers", "Type": "Broker"})["id"]
    contact = sf.Contact.create({"AccountId": merchant, "FirstName": "Ana", "LastName": "Núñez"})["id"]
    application = sf.Opportunity.create({"Name": "Seconds Later – funding", "AccountId": merchant, "Amount": 40000.0,
                                         "StageName": "Contract Signed", "Pricebook2Id": pricebook,
                                         "CloseDate": dt.date.today().isoformat()})["id"]
    sf.OpportunityLineItem.create({"OpportunityId": application, "PricebookEntryId": entry["Id"], "Quantity": 1,
                                   "UnitPrice": entry["UnitPrice"]})
    sf.Opportunity.update(application, {"StageName": "Funded", "Funded_Date__c": dt.date.today().isoformat(),
                                        "Broker__c": broker, "Commission_Percent__c": 6.0})
    funded_at = time.monotonic()

    wanted = {("Account", merchant), ("Account", broker), ("Contact", contact), ("SalesOrder", application),
              ("PurchaseOrder", application)}
    linked = set()
    while time.monotonic() - funded_at < 10 and linked != wanted:
        linked = set(RecordLink.objects.exclude(netsuite_internal_id="").values_list("record_type", "salesforce_id"))
        linked &= wanted
        time.sleep(0.1)
    elapsed = time.monotonic() - funded_at
    runs = "\n".join(f"{r.job.name} {r.trigger} {r.outcome}: {r.message}" for r in SyncRun.objects.select_related("job"))
    assert linked == wanted, (f"missing after {elapsed:.1f}s: {wanted - linked}\n{runs}\n"
                              f"{salesforce_sandbox.stats()['outbound']}\n{hub_processes.log('worker1')[-3000:]}")

    after = netsuite_sandbox.stats()["records"]
    grown = {kind: after.get(kind, 0) - before.get(kind, 0) for kind in after}
    # Only what was notified moved: none of the org's other records (no sweep ran).
    assert {k: v for k, v in grown.items() if v} == {"customer": 1, "vendor": 1, "contact": 1, "salesOrder": 1,
                                                     "purchaseOrder": 1}, grown
    assert set(SyncRun.objects.values_list("trigger", flat=True)) == {SyncRun.Trigger.OUTBOUND}
    assert set(SyncAttempt.objects.values_list("trigger", flat=True)) == {SyncRun.Trigger.OUTBOUND}
    assert salesforce_sandbox.stats()["outbound"]["deliveries_failed"] == 0
