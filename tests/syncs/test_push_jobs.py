"""The six pushes end to end: both sandboxes as processes over real HTTP, seeded with the awkward values."""
import pytest
from django.utils import timezone
from django.db.models import Count

from mappings.models import MasterRule, ValueMapping
from syncs.clients.salesforce import SalesforceClient
from syncs.models import RecordLink, SyncAttempt, SyncJob
from syncs.services import sync_run

pytestmark = pytest.mark.slow

# The operation that carries the pushes' writes, as the sandbox's fault_operations names it.
WRITE_OPERATION = {"soap": "upsertList", "rest": "async.submit"}


@pytest.fixture(scope="module", params=["soap", "rest"])
def transport(request):
    """Every push runs on both NetSuite transports."""
    return request.param

PUSH_ORDER = ["push_accounts", "push_contacts", "push_sales_orders", "push_purchase_orders",
              "push_sales_order_lines", "push_purchase_order_lines"]


def push_all():
    return {name: sync_run(job_name=name) for name in PUSH_ORDER}


def get_record(service, netsuite, record_type, external_id):
    from syncs.clients.netsuite.soap import NS, zeep_client

    ref = zeep_client().get_type(f"{{{NS['core']}}}RecordRef")(externalId=external_id, type=record_type)
    response = service.get(baseRef=ref, _soapheaders={"tokenPassport": netsuite.token_passport()})
    read = response.body.readResponse
    return read.record if read.status.isSuccess else None


def test_it_moves_every_push_with_the_mapped_values(hub_on_sandboxes, netsuite_service):
    salesforce, netsuite = hub_on_sandboxes
    runs = push_all()
    for name, run in runs.items():
        assert run.outcome == "succeeded", f"{name}: {run.message}"

    sf = salesforce.client()
    accounts = sf.query_all("SELECT Id, Name, Type FROM Account")["records"]
    contacts = sf.query_all("SELECT Id FROM Contact")["records"]
    funded = sf.query_all(
        "SELECT Id, Name, AccountId, Amount, Broker__c, Commission_Percent__c, Funded_Date__c, "
        "(SELECT ProductCode, Quantity, UnitPrice, TotalPrice FROM OpportunityLineItems) "
        "FROM Opportunity WHERE StageName = 'Funded'")["records"]
    brokered = [app for app in funded if app["Broker__c"]]
    assert funded and brokered

    counts = netsuite.stats()["records"]
    brokers = sum(1 for a in accounts if a["Type"] == "Broker")
    assert counts.get("vendor", 0) == brokers
    assert counts.get("customer", 0) == len(accounts) - brokers
    assert counts.get("contact", 0) == len(contacts)
    assert counts.get("salesOrder", 0) == len(funded)
    assert counts.get("purchaseOrder", 0) == len(brokered)

    awkward = next(a for a in accounts if a["Name"] == "O'Brien & Sons")
    customer = get_record(netsuite_service, netsuite, "customer", awkward["Id"])
    assert customer.companyName == "O'Brien & Sons"

    fee_items = dict(ValueMapping.objects.filter(category="fee_item").values_list("source_value", "target_value"))
    application = max(funded, key=lambda app: len(app["OpportunityLineItems"]["records"] if app["OpportunityLineItems"] else []))
    order = get_record(netsuite_service, netsuite, "salesOrder", application["Id"])
    assert order.entity.internalId == RecordLink.objects.get(record_type="Account", salesforce_id=application["AccountId"]).netsuite_internal_id
    assert order.tranDate.date().isoformat() == application["Funded_Date__c"]
    lines = sorted((line.item.internalId, line.amount) for line in order.itemList.item)
    expected = sorted((fee_items[fee["ProductCode"]], fee["TotalPrice"]) for fee in application["OpportunityLineItems"]["records"])
    assert lines == expected

    deal = brokered[0]
    purchase_order = get_record(netsuite_service, netsuite, "purchaseOrder", f"{deal['Id']}-COMMISSION")
    assert purchase_order.entity.internalId == RecordLink.objects.get(record_type="Account", salesforce_id=deal["Broker__c"]).netsuite_internal_id
    assert [line.amount for line in purchase_order.itemList.item] == [round(deal["Amount"] * deal["Commission_Percent__c"] / 100, 2)]


def test_it_creates_nothing_for_an_application_below_funded(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    push_all()
    sf = salesforce.client()
    unfunded = sf.query_all("SELECT Id FROM Opportunity WHERE StageName != 'Funded'")["records"]
    assert unfunded
    unfunded_ids = {app["Id"] for app in unfunded}
    assert not SyncAttempt.objects.filter(job__name__in=PUSH_ORDER[2:], salesforce_id__in=unfunded_ids).exists()
    assert not RecordLink.objects.filter(record_type__in=["SalesOrder", "PurchaseOrder"], salesforce_id__in=unfunded_ids).exists()


def test_it_leaves_the_same_remote_state_when_run_twice(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    push_all()
    before = netsuite.stats()["records"]
    attempts = SyncAttempt.objects.count()
    again = push_all()
    assert netsuite.stats()["records"] == before
    assert SyncAttempt.objects.count() == attempts
    assert all(run.records_written == 0 for run in again.values())


def test_it_keeps_fee_lines_in_step_when_fees_change(hub_on_sandboxes, netsuite_service):
    salesforce, netsuite = hub_on_sandboxes
    push_all()
    sf = salesforce.client()
    app = next(a for a in sf.query_all(
        "SELECT Id, (SELECT Id, UnitPrice, Quantity FROM OpportunityLineItems) FROM Opportunity WHERE StageName = 'Funded'")["records"]
        if a["OpportunityLineItems"] and a["OpportunityLineItems"]["totalSize"] >= 2)
    fees = app["OpportunityLineItems"]["records"]
    sf.OpportunityLineItem.update(fees[0]["Id"], {"UnitPrice": 777.0})
    sf.OpportunityLineItem.delete(fees[1]["Id"])

    run = sync_run(job_name="push_sales_order_lines")
    assert run.outcome == "succeeded", run.message
    order = get_record(netsuite_service, netsuite, "salesOrder", app["Id"])
    assert len(order.itemList.item) == len(fees) - 1
    assert 777.0 in [line.amount / line.quantity for line in order.itemList.item]
    assert netsuite.stats()["records"]["salesOrder"] == len(sf.query_all("SELECT Id FROM Opportunity WHERE StageName = 'Funded'")["records"])


@pytest.mark.transports("soap")
def test_it_leaves_no_duplicate_when_netsuite_loses_the_answer(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    netsuite.control(lost_response_next=1, fault_operations="upsertList")
    run = sync_run(job_name="push_accounts")
    assert netsuite.stats()["injected"].get("lost_response") == 1
    lost = SyncAttempt.objects.filter(job__name="push_accounts", status="failed", error_kind="request")
    assert lost.exists() and lost.first().remote_code == "CONNECTION_ERROR", run.message
    # The retry may already have happened inside the run (its backoff is short here); if not, let it come due.
    SyncAttempt.objects.filter(job__name="push_accounts", status="pending").update(next_attempt_at=run.started_at)
    retry = sync_run(job_name="push_accounts")
    assert retry.outcome == "succeeded", retry.message
    sf = salesforce.client()
    accounts = sf.query_all("SELECT Id FROM Account")["records"]
    counts = netsuite.stats()["records"]
    assert counts["customer"] + counts["vendor"] == len(accounts)
    retried = SyncAttempt.objects.filter(job__name="push_accounts", verify_before_write=True)
    assert retried.count() == lost.count()
    # The lost answer's write had landed: each retry found its record by external id and wrote nothing again.
    assert all(a.status == "succeeded" and a.operation == "lookup" for a in retried)
    assert all(a.netsuite_internal_id for a in retried)
    assert RecordLink.objects.filter(record_type="Account", salesforce_id__in=[a.salesforce_id for a in retried],
                                     netsuite_internal_id__gt="").count() == retried.count()


@pytest.mark.transports("soap")   # REST asks for the batch again instead: test_rest_transport.py
def test_it_writes_again_after_a_lost_answer_when_the_record_was_in_netsuite_before(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    assert sync_run(job_name="push_accounts").outcome == "succeeded"
    sf = salesforce.client()
    account = sf.query_all("SELECT Id FROM Account WHERE Type = 'Merchant' LIMIT 1")["records"][0]
    sf.Account.update(account["Id"], {"Phone": "555-0199"})
    writes_before = netsuite.stats()["requests"].get("upsertList", 0)
    netsuite.control(lost_response_next=1, fault_operations="upsertList")
    sync_run(job_name="push_accounts")
    # The retry may already have happened inside that run; if not, let it come due.
    SyncAttempt.objects.filter(job__name="push_accounts", status="pending").update(next_attempt_at=timezone.now())
    retry = sync_run(job_name="push_accounts")
    assert retry.outcome == "succeeded", retry.message
    # NetSuite held the record before the lost write, so what it holds may be the old content: written again.
    again = SyncAttempt.objects.get(job__name="push_accounts", salesforce_id=account["Id"], status="succeeded",
                                    verify_before_write=True)
    assert again.operation == "lookup+upsert"
    assert netsuite.stats()["requests"].get("upsertList", 0) == writes_before + 2   # the lost write and the new one


def test_it_syncs_every_record_sharing_one_timestamp_across_a_crash_between_pages(hub_on_sandboxes, settings, monkeypatch):
    salesforce, netsuite = hub_on_sandboxes
    sync_run(job_name="push_accounts")
    sf = salesforce.client()
    new_accounts = [{"attributes": {"type": "Account"}, "Name": f"Same Stamp Bakery {n}", "Type": "Merchant"} for n in range(200)]
    created = sf.restful("composite/sobjects", method="POST", json={"allOrNone": False, "records": new_accounts})
    ids = {result["id"] for result in created}
    stamps = {r["SystemModstamp"] for r in sf.query_all("SELECT SystemModstamp FROM Account WHERE Name LIKE 'Same Stamp Bakery%'")["records"]}
    assert len(stamps) == 1, "the sandbox should stamp one collection call with one SystemModstamp"

    real_pages = SalesforceClient.query_pages

    def crash_after_first_page(self, soql, **kwargs):
        kwargs["page_size"] = 200
        pages = real_pages(self, soql, **kwargs)
        yield next(pages)
        raise RuntimeError("worker crashed between pages")

    monkeypatch.setattr(SalesforceClient, "query_pages", crash_after_first_page)
    crashed = sync_run(job_name="push_accounts")
    assert crashed.outcome == "failed"
    monkeypatch.setattr(SalesforceClient, "query_pages", real_pages)
    SyncJob.objects.filter(name="push_accounts").update(run_lease_expires_at=None)
    resumed = sync_run(job_name="push_accounts")
    assert resumed.outcome == "succeeded", resumed.message
    linked = set(RecordLink.objects.filter(record_type="Account", salesforce_id__in=ids).values_list("salesforce_id", flat=True))
    assert linked == ids
    assert not SyncAttempt.objects.filter(salesforce_id__in=ids).values("salesforce_id").annotate(n=Count("id")).filter(
        n__gt=1, status="succeeded").exists()


def test_it_fails_one_bad_record_alone_with_the_remote_message(hub_on_sandboxes, transport):
    salesforce, netsuite = hub_on_sandboxes
    for name in PUSH_ORDER[:2]:
        sync_run(job_name=name)
    ValueMapping.objects.filter(category="fee_item", source_value="FEE-WIRE").update(target_value="999")
    run = sync_run(job_name="push_sales_orders")
    failed = SyncAttempt.objects.filter(run=run, status="failed")
    succeeded = SyncAttempt.objects.filter(run=run, status="succeeded")
    assert failed.exists() and succeeded.exists(), run.message
    assert run.outcome == "partial"
    # NetSuite's own code for an unknown reference: SOAP's statusDetail, REST's o:errorCode.
    assert {a.remote_code for a in failed} == {"INVALID_KEY_OR_REF" if transport == "soap" else "USER_ERROR"}
    assert all("999" in a.remote_message for a in failed)
    batch_sizes = {a.response_payload["batchSize"] for a in failed}
    assert max(batch_sizes) > 1, "the bad record should have been in a batch with good ones"


def test_it_holds_back_children_of_a_failed_parent_and_releases_them(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    sf = salesforce.client()
    account = sf.Account.create({"Name": "Parent That Fails Ltd", "Type": "Partner"})
    sf.Contact.create({"LastName": "Child", "FirstName": "Held", "AccountId": account["id"]})
    sync_run(job_name="push_accounts")
    parent = SyncAttempt.objects.get(salesforce_id=account["id"])
    assert parent.status == "failed" and "Partner" in parent.remote_message

    run = sync_run(job_name="push_contacts")
    child = SyncAttempt.objects.get(job__name="push_contacts", waiting_on=account["id"])
    assert child.status == "failed" and child.remote_code == "PARENT_FAILED"
    assert account["id"] in child.remote_message and "Partner" in child.remote_message
    # The child is not the one to fix: its run says it is held back, and is not shown as failed or succeeded.
    assert run.outcome == "retrying" and "1 held back until their parent is in NetSuite" in run.message, run.message

    ValueMapping.objects.create(category="account_type", source_value="Partner", target_value="customer")
    from syncs.attempts import attempts_retry

    attempts_retry(attempt_ids=[parent.pk])
    sync_run(job_name="push_accounts")
    sync_run(job_name="push_contacts")
    latest = SyncAttempt.objects.filter(job__name="push_contacts", waiting_on=account["id"]).order_by("-id").first()
    assert latest.status == "succeeded"
    assert RecordLink.objects.filter(record_type="Contact", salesforce_id=latest.salesforce_id).exists()


def test_it_refuses_a_master_rule_violation_before_any_call(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    MasterRule.objects.filter(record_type="Account").update(master_system="netsuite", read_only_in="salesforce")
    before_ns = netsuite.stats()["requests"]
    before_sf = salesforce.stats()
    run = sync_run(job_name="push_accounts")
    assert run.outcome == "failed"
    assert "master" in run.message.lower() and "Refused before any remote call" in run.message
    assert netsuite.stats()["requests"] == before_ns
    after_sf = salesforce.stats()
    assert after_sf["counts"].get("logins", 0) == before_sf["counts"].get("logins", 0)
    assert after_sf["requests"] - before_sf["requests"] == 1  # the stats request itself
    assert not SyncAttempt.objects.filter(job__name="push_accounts").exists()


def test_a_fee_changed_while_its_order_is_still_on_its_way_is_not_lost(hub_on_sandboxes, netsuite_service, transport):
    salesforce, netsuite = hub_on_sandboxes
    sync_run(job_name="push_accounts")
    netsuite.control(http_503_rate=1.0, fault_operations=WRITE_OPERATION[transport])  # the orders can't land yet
    try:
        sync_run(job_name="push_sales_orders")
    finally:
        netsuite.control(clear_faults=True)
    assert not RecordLink.objects.filter(record_type="SalesOrder").exists()
    sync_run(job_name="push_sales_order_lines")  # the orders' tries carry these very lines: nothing more to send
    assert not SyncAttempt.objects.filter(job__name="push_sales_order_lines").exists()

    sf = salesforce.client()
    app = next(a for a in sf.query_all(
        "SELECT Id, (SELECT Id FROM OpportunityLineItems) FROM Opportunity WHERE StageName = 'Funded'")["records"]
        if a["OpportunityLineItems"])
    sf.OpportunityLineItem.update(app["OpportunityLineItems"]["records"][0]["Id"], {"UnitPrice": 999.0})
    sync_run(job_name="push_sales_order_lines")
    held = SyncAttempt.objects.get(job__name="push_sales_order_lines", salesforce_id=app["Id"], superseded=False)
    assert held.waiting_on == app["Id"] and held.status in ("pending", "failed"), (held.status, held.remote_message)

    # The order's own try goes through, with the lines it read before the change. The outage is over: on a slow
    # machine the 503s may have opened NetSuite's breaker, whose cool-down this test does not wait out.
    from syncs.attempts import attempts_retry
    from syncs.models import CircuitBreaker

    CircuitBreaker.objects.all().delete()

    attempts_retry(attempt_ids=list(SyncAttempt.objects.filter(
        job__name="push_sales_orders", status__in=["failed", "dead"], superseded=False).values_list("id", flat=True)))
    SyncAttempt.objects.filter(status="pending").update(next_attempt_at=held.created_at)
    assert sync_run(job_name="push_sales_orders").outcome == "succeeded"
    SyncAttempt.objects.filter(status="pending").update(next_attempt_at=held.created_at)
    assert sync_run(job_name="push_sales_order_lines").outcome == "succeeded"

    order = get_record(netsuite_service, netsuite, "salesOrder", app["Id"])
    assert 999.0 in [line.amount / line.quantity for line in order.itemList.item]
    assert not SyncAttempt.objects.filter(job__name="push_sales_order_lines", salesforce_id=app["Id"],
                                          superseded=False).exclude(status="succeeded").exists()


def test_the_lines_job_reads_no_application_whose_lines_went_with_its_order(hub_on_sandboxes, netsuite_service):
    salesforce, netsuite = hub_on_sandboxes
    push_all()
    assert RecordLink.objects.filter(record_type="SalesOrder", lines_modstamp__isnull=False).exists()
    SyncJob.objects.filter(name="push_sales_order_lines").update(watermark_timestamp=None, watermark_record_id="")
    before = salesforce.stats()["by_route"].get("query", 0) + salesforce.stats()["by_route"].get("queryAll", 0)
    run = sync_run(job_name="push_sales_order_lines")
    after = salesforce.stats()["by_route"].get("query", 0) + salesforce.stats()["by_route"].get("queryAll", 0)
    assert run.outcome == "succeeded" and run.records_read > 0 and run.records_written == 0, run.message
    assert after - before == 1, "only the line items themselves were read"

    # A fee changed afterwards is still seen, and its order's lines follow it.
    sf = salesforce.client()
    app = next(a for a in sf.query_all(
        "SELECT Id, (SELECT Id FROM OpportunityLineItems) FROM Opportunity WHERE StageName = 'Funded'")["records"]
        if a["OpportunityLineItems"])
    sf.OpportunityLineItem.update(app["OpportunityLineItems"]["records"][0]["Id"], {"UnitPrice": 4321.0})
    run = sync_run(job_name="push_sales_order_lines")
    assert run.records_written == 1, run.message
    order = get_record(netsuite_service, netsuite, "salesOrder", app["Id"])
    assert 4321.0 in [line.amount / line.quantity for line in order.itemList.item]


def test_a_persons_retry_sends_todays_mapping_not_the_failed_payload(hub_on_sandboxes):
    sync_run(job_name="push_accounts")
    commission = ValueMapping.objects.get(category="commission_item")
    commission.target_value = "999"
    commission.save()
    sync_run(job_name="push_purchase_orders")
    failed = list(SyncAttempt.objects.filter(job__name="push_purchase_orders", status="failed", superseded=False))
    # NetSuite's code for an unknown reference: INVALID_KEY_OR_REF over SOAP, USER_ERROR (naming the field) over REST.
    assert failed and len({a.remote_code for a in failed}) == 1 and failed[0].remote_code in ("INVALID_KEY_OR_REF", "USER_ERROR")
    assert all(a.request_payload["record"]["fields"]["itemList"]["item"][0]["item"]["internalId"] == "999" for a in failed)

    commission.target_value = "201"
    commission.save()
    from syncs.attempts import attempts_retry

    attempts_retry(attempt_ids=[a.pk for a in failed])
    run = sync_run(job_name="push_purchase_orders", trigger="retry")
    assert run.outcome == "succeeded", run.message
    for old in failed:
        later = list(SyncAttempt.objects.filter(job=old.job, salesforce_id=old.salesforce_id, id__gt=old.id).order_by("id"))
        # The retry, and any re-read of the record in the watermark's overlap, send today's item.
        assert later[0].attempt_number == old.attempt_number + 1 and later[0].status == "succeeded"
        assert {a.request_payload["record"]["fields"]["itemList"]["item"][0]["item"]["internalId"] for a in later} == {"201"}
        old.refresh_from_db()
        assert old.resolved_at is not None and "went through" in old.resolution_note


def _custom_fields_of(record) -> dict:
    return {f.scriptId: (type(f).__name__, f.value) for f in (record.customFieldList.customField
                                                              if record.customFieldList is not None else [])}


def test_deal_terms_subsidiaries_and_currencies_reach_netsuite_and_wrong_ones_fail_alone(
        hub_on_sandboxes, netsuite_service, transport):
    """Issue #19 on either transport: the default mappings put the deal's terms on the sales order as custom body
    fields and the fee type on each line as a custom column field (read back over the sandbox's SOAP API); a merchant
    in the European subsidiary with a EUR order goes through; a subsidiary the account lacks, a currency the customer
    may not use, a subsidiary change after transactions and a mandatory custom field the mapping leaves empty each
    fail that record alone with NetSuite's code and message; a mapping to an undeclared custom field is refused."""
    from mappings.models import FieldMapping
    from mappings.services import mapping_check
    from mappings.transforms import MappingRow
    from syncs.clients.netsuite import rest as rest_transport
    from syncs.clients.netsuite import soap as soap_transport

    salesforce, netsuite = hub_on_sandboxes
    sf = salesforce.client()
    funded = sf.query_all(
        "SELECT Id, AccountId, Broker__c, Payback_Amount__c, Factor_Rate__c, Holdback_Percent__c, Funded_Date__c, "
        "(SELECT ProductCode FROM OpportunityLineItems) FROM Opportunity WHERE StageName = 'Funded' "
        "ORDER BY Id")["records"]
    deal = next(app for app in funded if app["OpportunityLineItems"] and app["Payback_Amount__c"])
    in_pounds = next(a for a in funded if a["AccountId"] != deal["AccountId"])
    # A merchant new to NetSuite (no orders yet, so its subsidiary is still free), funded in euros.
    merchants = [a["Id"] for a in sf.query_all("SELECT Id FROM Account WHERE Type = 'Merchant' ORDER BY Id")["records"]]
    with_orders = {app["AccountId"] for app in funded}
    newcomer, offshore = [merchant for merchant in merchants if merchant not in with_orders][:2]
    sf.Account.update(newcomer, {"BillingCountry": "Switzerland", "CurrencyIsoCode": "EUR"})
    pricebook = sf.query("SELECT Id, Pricebook2Id FROM PricebookEntry WHERE ProductCode = 'FEE-ORIG'")["records"][0]
    european = {"Id": sf.Opportunity.create({
        "Name": "Zürich bakery - MCA", "AccountId": newcomer, "StageName": "Funded", "CloseDate": "2024-03-01",
        "Amount": 20000, "Payback_Amount__c": 26000, "Factor_Rate__c": 1.3, "Holdback_Percent__c": 12,
        "Funded_Date__c": "2024-03-01", "CurrencyIsoCode": "EUR", "Pricebook2Id": pricebook["Pricebook2Id"]})["id"],
        "AccountId": newcomer}
    sf.OpportunityLineItem.create({"OpportunityId": european["Id"], "PricebookEntryId": pricebook["Id"], "Quantity": 1})
    sf.Opportunity.update(in_pounds["Id"], {"CurrencyIsoCode": "GBP"})
    sf.Account.update(offshore, {"BillingCountry": "Atlantis"})
    ValueMapping.objects.create(category="subsidiary", source_value="Atlantis", target_value="9")
    FieldMapping.objects.create(job=SyncJob.objects.get(name="push_sales_orders"), target_field="custbody_ach_debit",
                                transform="boolean", default="true", order=500)

    runs = {name: sync_run(job_name=name) for name in PUSH_ORDER[:3]}

    order = get_record(netsuite_service, netsuite, "salesOrder", deal["Id"])
    fields = _custom_fields_of(order)
    assert fields["custbody_sf_application_id"] == ("StringCustomFieldRef", deal["Id"])
    assert fields["custbody_payback_amount"] == ("DoubleCustomFieldRef", deal["Payback_Amount__c"])
    assert fields["custbody_factor_rate"] == ("DoubleCustomFieldRef", round(deal["Factor_Rate__c"], 4))
    assert fields["custbody_holdback_percent"] == ("DoubleCustomFieldRef", deal["Holdback_Percent__c"])
    assert fields["custbody_funded_date"][0] == "DateCustomFieldRef"
    assert fields["custbody_funded_date"][1].date().isoformat() == deal["Funded_Date__c"]
    assert fields["custbody_ach_debit"] == ("BooleanCustomFieldRef", True)
    fee_types = dict(ValueMapping.objects.filter(category="fee_type").values_list("source_value", "target_value"))
    line_types = sorted(_custom_fields_of(line)["custcol_fee_type"][1].internalId for line in order.itemList.item)
    assert line_types == sorted(fee_types[fee["ProductCode"]] for fee in deal["OpportunityLineItems"]["records"])
    assert {type(_custom_fields_of(line)["custcol_fee_type"][1]).__name__ for line in order.itemList.item} == {"ListOrRecordRef"}

    customer = get_record(netsuite_service, netsuite, "customer", european["AccountId"])
    euro_order = get_record(netsuite_service, netsuite, "salesOrder", european["Id"])
    assert (customer.subsidiary.internalId, customer.currency.internalId) == ("2", "2")
    assert (euro_order.subsidiary.internalId, euro_order.currency.name) == ("2", "EUR")

    def failure(job_name, salesforce_id):
        attempt = SyncAttempt.objects.get(run=runs[job_name], salesforce_id=salesforce_id)
        assert attempt.status == "failed", attempt.status
        return attempt.remote_code, attempt.remote_message

    code, message = failure("push_accounts", offshore)
    assert code == ("INVALID_KEY_OR_REF" if transport == "soap" else "USER_ERROR")
    assert "Invalid subsidiary reference key 9" in message
    code, message = failure("push_sales_orders", in_pounds["Id"])
    assert code == ("MISMATCHED_CURRENCY" if transport == "soap" else "USER_ERROR")
    assert "The currency GBP is not one" in message and "its currencies: USD" in message
    assert runs["push_sales_orders"].outcome == "partial"
    kept = get_record(netsuite_service, netsuite, "salesOrder", in_pounds["Id"])   # an earlier test's, if any
    assert kept is None or kept.currency.name == "USD"

    # The European merchant has transactions now: its subsidiary is fixed.
    sf.Account.update(european["AccountId"], {"BillingCountry": "United States", "Phone": "+41 44 000 00 00"})
    runs["push_accounts"] = sync_run(job_name="push_accounts")
    code, message = failure("push_accounts", european["AccountId"])
    assert code == ("SUBSIDIARY_CHANGE_NOT_ALLOWED" if transport == "soap" else "USER_ERROR")
    assert "cannot be changed from Europe B.V. to Parent Company: it has transactions" in message

    # A mandatory custom field, mapped from a field some applications leave empty.
    netsuite.declare_custom_fields({"scriptId": "custbody_broker_id", "label": "Broker", "type": "text",
                                    "mandatory": True, "appliesTo": ["salesOrder"]})
    soap_transport._definitions.clear()   # the hub reads definitions every few minutes; the test can't wait
    rest_transport._definitions.clear()
    try:
        job = SyncJob.objects.get(name="push_sales_orders")
        refused = mapping_check(job=job, rows=[MappingRow("Broker__c", "custbody_broker_id"),
                                               MappingRow("Name", "custbody_not_declared")])
        assert [p.row for p in refused.problems] == [1] and not refused.unreachable
        assert "declares no custom field 'custbody_not_declared'" in refused.problems[0].message
        FieldMapping.objects.create(job=job, source_field="Broker__c", target_field="custbody_broker_id", order=510)
        brokered = next(a for a in funded if a["Broker__c"] and a["Id"] not in (european["Id"], in_pounds["Id"]))
        direct = next(a for a in funded if not a["Broker__c"] and a["Id"] not in (european["Id"], in_pounds["Id"]))
        for application in (brokered, direct):
            sf.Opportunity.update(application["Id"], {"Factor_Rate__c": 1.31})
        runs["push_sales_orders"] = sync_run(job_name="push_sales_orders")
        code, message = failure("push_sales_orders", direct["Id"])
        assert code == "USER_ERROR" and "Please enter value(s) for: Broker" in message
        written = SyncAttempt.objects.get(run=runs["push_sales_orders"], salesforce_id=brokered["Id"])
        assert written.status == "succeeded"
        assert _custom_fields_of(get_record(netsuite_service, netsuite, "salesOrder", brokered["Id"]))[
            "custbody_broker_id"] == ("StringCustomFieldRef", brokered["Broker__c"])
    finally:
        netsuite.declare_custom_fields({"scriptId": "custbody_broker_id", "label": "Broker", "type": "text",
                                        "appliesTo": ["salesOrder"]})
