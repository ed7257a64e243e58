"""The remittance pull follows the money as NetSuite books it (fake NetSuite and Salesforce, per the #16 contract):
payments through invoices to their applications, splits, deposits, unapplied cash, and money that comes back."""
import pytest
from django.utils import timezone

from syncs.jobs.registry import job_spec
from syncs.models import FinanceReview, RecordLink, SyncJob, SyncRun
from tests.syncs.money_fakes import FakeNetSuite, FakeSalesforce

CUSTOMER = "77"
ACCOUNT = "001000000000077AAA"


def pull(salesforce, netsuite) -> SyncRun:
    job = SyncJob.objects.get(name="pull_remittances")
    run = SyncRun.objects.create(job=job, started_at=timezone.now())
    outcome, message = job_spec(job.name).run(run=run, salesforce=salesforce, netsuite=netsuite)
    run.refresh_from_db()
    run.outcome, run.message = outcome, message
    assert outcome == "succeeded", message
    return run


@pytest.fixture
def books(seeded_hub):
    """Two funded applications of one merchant, their orders in NetSuite (linked as the pushes link them), one
    invoice billed from each."""
    salesforce, netsuite = FakeSalesforce(), FakeNetSuite()
    first = salesforce.application(Payback_Amount__c=10000.0)
    second = salesforce.application(Payback_Amount__c=5000.0)
    orders = {}
    for application in (first, second):
        order = netsuite.sales_order(customer=CUSTOMER, external_id=application["Id"], total=100.0)
        RecordLink.objects.create(record_type="SalesOrder", salesforce_id=application["Id"],
                                  netsuite_record_type="salesOrder", netsuite_internal_id=order["internalId"])
        orders[application["Id"]] = order
    RecordLink.objects.create(record_type="Account", salesforce_id=ACCOUNT, netsuite_record_type="customer",
                              netsuite_internal_id=CUSTOMER)
    invoices = [netsuite.invoice(order=orders[first["Id"]], total=10000.0),
                netsuite.invoice(order=orders[second["Id"]], total=5000.0)]
    return salesforce, netsuite, first, second, orders, invoices


def opportunity(salesforce, application):
    return salesforce.objects["Opportunity"][application["Id"]]


def test_it_follows_payments_through_invoices_splits_them_and_keeps_unapplied_cash_on_the_account(books):
    salesforce, netsuite, first, second, orders, (invoice_a, invoice_b) = books
    whole = netsuite.payment(customer=CUSTOMER, total=1250.0, applies=[(invoice_a, 1250.0)])
    split = netsuite.payment(customer=CUSTOMER, total=1000.0, applies=[(invoice_a, 600.0), (invoice_b, 400.0)])
    partly = netsuite.payment(customer=CUSTOMER, total=300.0, applies=[(invoice_b, 200.0)])
    unapplied = netsuite.payment(customer=CUSTOMER, total=500.0)
    deposit = netsuite.deposit(order=orders[first["Id"]], total=2000.0)
    netsuite.deposit_application(deposit=deposit, invoice=invoice_a, amount=2000.0)

    pull(salesforce, netsuite)

    rows = salesforce.remittances()
    second_order = orders[second["Id"]]["internalId"]
    assert {key: (r["Application__c"], r["Amount__c"], r["Type__c"]) for key, r in rows.items()} == {
        whole["internalId"]: (first["Id"], 1250.0, "Payment"),
        split["internalId"]: (first["Id"], 600.0, "Payment"),
        f"{split['internalId']}-{second_order}": (second["Id"], 400.0, "Payment"),
        partly["internalId"]: (second["Id"], 200.0, "Payment"),
        f"{partly['internalId']}-U": (None, 100.0, "Payment"),
        unapplied["internalId"]: (None, 500.0, "Payment"),
        deposit["internalId"]: (first["Id"], 2000.0, "Deposit"),
    }, "the deposit application moves the deposit onto the invoice and counts nothing again"
    assert all(r["Account__c"] == ACCOUNT for r in rows.values())
    assert rows[whole["internalId"]]["NetSuite_Payment_Number__c"] == whole["tranId"]
    assert rows[whole["internalId"]]["Method__c"] == "ACH" and rows[whole["internalId"]]["Currency__c"] == "USD"
    assert (opportunity(salesforce, first)["Total_Remitted__c"], opportunity(salesforce, first)["Remittance_Balance__c"]) == (3850.0, 6150.0)
    assert (opportunity(salesforce, second)["Total_Remitted__c"], opportunity(salesforce, second)["Remittance_Balance__c"]) == (600.0, 4400.0)
    # One request for the orders of the page's invoices, not one per payment.
    assert [c for c in netsuite.calls if c.startswith("transactions_created_from")] == ["transactions_created_from:2"]

    queue = FinanceReview.objects.filter(kind="unapplied_cash").order_by("netsuite_internal_id")
    assert [(r.netsuite_internal_id, float(r.amount_after), r.status) for r in queue] == [
        (partly["internalId"], 100.0, "open"), (unapplied["internalId"], 500.0, "open")]
    assert "500.00 USD unapplied" in queue[1].summary and queue[1].salesforce_record_id

    writes = salesforce.writes
    pull(salesforce, netsuite)
    assert salesforce.writes == writes, "a second run writes nothing"
    assert FinanceReview.objects.count() == 2


def test_it_corrects_a_void_a_refund_a_credit_memo_and_a_delete_in_one_pull_and_tells_finance(books):
    salesforce, netsuite, first, second, orders, (invoice_a, invoice_b) = books
    voided = netsuite.payment(customer=CUSTOMER, total=1250.0, applies=[(invoice_a, 1250.0)])
    kept = netsuite.payment(customer=CUSTOMER, total=8750.0, applies=[(invoice_a, 8750.0)])
    refunded = netsuite.payment(customer=CUSTOMER, total=1000.0, applies=[(invoice_a, 600.0), (invoice_b, 400.0)])
    deleted = netsuite.payment(customer=CUSTOMER, total=700.0, applies=[(invoice_b, 700.0)])
    pull(salesforce, netsuite)
    assert opportunity(salesforce, first)["Total_Remitted__c"] == 10600.0
    assert opportunity(salesforce, second)["Total_Remitted__c"] == 1100.0
    assert not FinanceReview.objects.exists()

    netsuite.void(voided["internalId"])
    netsuite.refund(customer=CUSTOMER, lines=[("customerPayment", refunded, 300.0)])
    memo = netsuite.credit_memo(invoice=invoice_b, total=150.0)
    netsuite.delete(deleted["internalId"])
    pull(salesforce, netsuite)

    rows = salesforce.remittances()
    assert (rows[voided["internalId"]]["Amount__c"], rows[voided["internalId"]]["Status__c"],
            rows[voided["internalId"]]["Original_Amount__c"]) == (0.0, "Voided", 1250.0)
    assert rows[voided["internalId"]]["Application__c"] == first["Id"], "a voided remittance stays where it was"
    split_key = f"{refunded['internalId']}-{orders[second['Id']]['internalId']}"
    assert (rows[split_key]["Amount__c"], rows[split_key]["Status__c"], rows[split_key]["Original_Amount__c"]) == (100.0, "Partly refunded", 400.0)
    assert rows[refunded["internalId"]]["Amount__c"] == 600.0
    assert (rows[memo["internalId"]]["Type__c"], rows[memo["internalId"]]["Amount__c"],
            rows[memo["internalId"]]["Application__c"]) == ("Credit Memo", 150.0, second["Id"])
    assert (rows[deleted["internalId"]]["Amount__c"], rows[deleted["internalId"]]["Status__c"]) == (0.0, "Deleted in NetSuite")
    assert rows[kept["internalId"]]["Amount__c"] == 8750.0
    a, b = opportunity(salesforce, first), opportunity(salesforce, second)
    assert (a["Total_Remitted__c"], a["Remittance_Balance__c"]) == (9350.0, 650.0)
    assert (b["Total_Remitted__c"], b["Total_Credited__c"], b["Remittance_Balance__c"]) == (100.0, 150.0, 4750.0)

    reviews = {r.netsuite_internal_id: r for r in FinanceReview.objects.filter(kind="reversal")}
    assert set(reviews) == {voided["internalId"], refunded["internalId"], memo["internalId"], deleted["internalId"]}
    assert reviews[voided["internalId"]].summary.startswith(
        f"Payment {voided['tranId']} voided in NetSuite: remitted on {a['Name']} down 1,250.00 to 9,350.00")
    assert (float(reviews[voided["internalId"]].amount_before), float(reviews[voided["internalId"]].amount_after)) == (1250.0, 0.0)
    assert reviews[voided["internalId"]].application_id == first["Id"]
    assert f"partly refunded in NetSuite: remitted on {b['Name']} down 300.00 to 100.00" in reviews[refunded["internalId"]].summary
    assert "deleted in NetSuite" in reviews[deleted["internalId"]].summary
    assert "balance now 4,750.00" in reviews[memo["internalId"]].summary

    writes = salesforce.writes
    pull(salesforce, netsuite)
    assert salesforce.writes == writes and FinanceReview.objects.count() == 4, "a rerun writes and files nothing"

    # The refund deleted in its turn: the payment has its money back.
    refund_id = next(i for i, r in netsuite.records["customerRefund"].items())
    netsuite.delete(refund_id)
    pull(salesforce, netsuite)
    assert salesforce.remittances()[split_key]["Amount__c"] == 400.0
    assert opportunity(salesforce, second)["Total_Remitted__c"] == 400.0


def test_it_gives_a_payment_its_money_back_when_its_refund_is_voided_with_a_reversing_journal(books):
    salesforce, netsuite, first, second, orders, (invoice_a, invoice_b) = books
    payment = netsuite.payment(customer=CUSTOMER, total=900.0, applies=[(invoice_a, 600.0)])
    refund = netsuite.refund(customer=CUSTOMER, lines=[("customerPayment", payment, 300.0)])
    pull(salesforce, netsuite)
    rest = salesforce.remittances()[f"{payment['internalId']}-U"]
    assert (rest["Amount__c"], rest["Original_Amount__c"], rest["Status__c"]) == (0.0, 300.0, "Refunded")
    # NetSuite voids a refund by a reversing journal: the refund keeps its amounts, voided, and refunds nothing.
    netsuite.void(refund["internalId"], mode="reversing_journal")
    pull(salesforce, netsuite)
    rest = salesforce.remittances()[f"{payment['internalId']}-U"]
    assert (rest["Amount__c"], rest["Status__c"]) == (300.0, "Deposited")
    assert salesforce.remittances()[payment["internalId"]]["Amount__c"] == 600.0
    assert opportunity(salesforce, first)["Total_Remitted__c"] == 600.0


def test_it_reconciles_amounts_finding_nothing_when_settled_and_each_injected_difference(books):
    from syncs.models import ReconciliationDifference
    from syncs.reconcile_amounts import amounts_reconcile

    salesforce, netsuite, first, second, orders, (invoice_a, invoice_b) = books
    for application in (first, second):
        salesforce.fee_line(application, 60.0)
        salesforce.fee_line(application, 40.0)   # the orders total 100.00
    opportunity(salesforce, second).update(Broker__c="001000000000099AAA", Amount=20000.0, Commission_Percent__c=5.0)
    commission = netsuite.purchase_order(vendor="99", external_id=f"{second['Id']}-COMMISSION", total=1000.0)
    pulled = netsuite.payment(customer=CUSTOMER, total=1250.0, applies=[(invoice_a, 1250.0)])
    netsuite.payment(customer=CUSTOMER, total=1000.0, applies=[(invoice_a, 600.0), (invoice_b, 400.0)])
    netsuite.deposit(order=orders[first["Id"]], total=2000.0)
    netsuite.payment(customer=CUSTOMER, total=500.0)
    netsuite.void(netsuite.payment(customer=CUSTOMER, total=80.0, applies=[(invoice_b, 80.0)])["internalId"])
    pull(salesforce, netsuite)
    FinanceReview.objects.all().delete()

    settled = amounts_reconcile(salesforce=salesforce, netsuite=netsuite)
    assert (settled.outcome, settled.differences_found) == ("agreed", 0), list(settled.differences.values_list("description", flat=True))
    assert settled.applications_checked == 2 and settled.remittances_checked >= 5

    fee = next(iter(salesforce.objects["OpportunityLineItem"].values()))
    fee["TotalPrice"] = 65.0                                              # a wrong fee line
    netsuite.change(commission["internalId"], total=1100.0)               # a wrong commission
    missing = netsuite.payment(customer=CUSTOMER, total=300.0, applies=[(invoice_b, 300.0)])   # not pulled yet
    salesforce.upsert_collection("Remittance__c", "NetSuite_Payment_Id__c", [
        {"NetSuite_Payment_Id__c": "990001", "Amount__c": 75.0, "Application__c": second["Id"]}])  # no payment
    netsuite.void(pulled["internalId"])                                   # a void not yet pulled

    run = amounts_reconcile(salesforce=salesforce, netsuite=netsuite)
    found = {d.kind: d for d in ReconciliationDifference.objects.filter(run=run)}
    assert run.outcome == "differences" and set(found) == {
        "fees", "commission", "missing_remittance", "orphan_remittance", "remittance_amount"}, [d.description for d in found.values()]
    assert run.differences_found == 5
    fees_app = fee["OpportunityId"]
    assert (found["fees"].application_id, float(found["fees"].salesforce_amount), float(found["fees"].netsuite_amount)) == (fees_app, 105.0, 100.0)
    assert found["fees"].netsuite_internal_id == orders[fees_app]["internalId"]
    assert (found["commission"].netsuite_internal_id, float(found["commission"].salesforce_amount),
            float(found["commission"].netsuite_amount)) == (commission["internalId"], 1000.0, 1100.0)
    assert (found["missing_remittance"].remittance_key, found["missing_remittance"].application_id) == (missing["internalId"], second["Id"])
    assert missing["tranId"] in found["missing_remittance"].description
    assert found["orphan_remittance"].remittance_key == "990001" and found["orphan_remittance"].salesforce_record_id
    void = found["remittance_amount"]
    assert (void.remittance_key, float(void.salesforce_amount), float(void.netsuite_amount), void.application_id) == (
        pulled["internalId"], 1250.0, 0.0, first["Id"])
    assert "Voided" in void.description
    assert FinanceReview.objects.filter(kind="reconciliation_difference").count() == 5

    again = amounts_reconcile(salesforce=salesforce, netsuite=netsuite)
    assert again.differences_found == 5 and FinanceReview.objects.count() == 5, "one review item per cause"
