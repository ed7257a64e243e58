"""The money end to end, on both NetSuite transports: invoices billed from the hub's orders, payments applied to them
(one split over two applications, one unapplied), a deposit and its application, then a void, a refund, a credit
memo and a delete, each corrected within one pull and reported to finance; and the reconciliation of amounts, settled
and with five differences injected. Both sandboxes as processes over real HTTP; the test books money in NetSuite
through SOAP (add, delete) and the sandbox's controls (/_sandbox/bill, /_sandbox/void), as an accountant would."""
import pytest

from syncs.models import FinanceReview, ReconciliationDifference
from syncs.services import sync_run
from tests.syncs.test_pull_jobs import PUSHES, run_all

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["soap", "rest"])
def transport(request):
    """The hub reads the money on both transports."""
    return request.param


class Books:
    """Writes money into the NetSuite sandbox through SOAP, as a NetSuite user's integration would."""

    def __init__(self, netsuite, service):
        from syncs.clients.netsuite.soap import NS, zeep_client

        self.netsuite, self.service, self.client, self.ns = netsuite, service, zeep_client(), NS

    def type(self, namespace, name):
        return self.client.get_type(f"{{{self.ns[namespace]}}}{name}")

    def ref(self, internal_id, record_type=None):
        return self.type("core", "RecordRef")(internalId=str(internal_id), type=record_type)

    def add(self, record) -> str:
        response = self.service.add(record=record, _soapheaders={"tokenPassport": self.netsuite.token_passport()})
        status = response.body.writeResponse.status
        assert status.isSuccess, [(d.code, d.message) for d in status.statusDetail]
        return str(response.body.writeResponse.baseRef.internalId)

    def payment(self, customer, total, applies=()) -> str:
        lines = [self.type("customers", "CustomerPaymentApply")(doc=int(invoice), apply=True, amount=amount)
                 for invoice, amount in applies]
        return self.add(self.type("customers", "CustomerPayment")(
            customer=self.ref(customer), payment=total,
            applyList=self.type("customers", "CustomerPaymentApplyList")(apply=lines) if lines else None))

    def deposit(self, customer, order, total) -> str:
        return self.add(self.type("customers", "CustomerDeposit")(customer=self.ref(customer), salesOrder=self.ref(order),
                                                                  payment=total))

    def deposit_application(self, customer, deposit, invoice, amount) -> str:
        apply = self.type("customers", "DepositApplicationApply")(doc=int(invoice), apply=True, amount=amount)
        return self.add(self.type("customers", "DepositApplication")(
            customer=self.ref(customer), deposit=self.ref(deposit), applied=amount, applyList=self.type("customers", "DepositApplicationApplyList")(apply=[apply])))

    def credit_memo(self, customer, invoice, amount, item="101") -> str:
        line = self.type("customers", "CreditMemoItem")(item=self.ref(item), quantity=1.0, rate=str(amount), amount=amount)
        return self.add(self.type("customers", "CreditMemo")(
            entity=self.ref(customer), createdFrom=self.ref(invoice),
            itemList=self.type("customers", "CreditMemoItemList")(item=[line])))

    def refund(self, customer, payment, amount) -> str:
        apply = self.type("customers", "CustomerRefundApply")(doc=int(payment), apply=True, amount=amount, type="Payment")
        return self.add(self.type("customers", "CustomerRefund")(
            customer=self.ref(customer), applyList=self.type("customers", "CustomerRefundApplyList")(apply=[apply])))

    def delete(self, record_type, internal_id) -> None:
        response = self.service.delete(baseRef=self.ref(internal_id, record_type),
                                       _soapheaders={"tokenPassport": self.netsuite.token_passport()})
        assert response.body.writeResponse.status.isSuccess


def two_applications_of_one_merchant(sf):
    """A funded application and a second one funded for the same merchant (a payment pays one customer's invoices)."""
    first = sf.query_all("SELECT Id, AccountId, Amount, Payback_Amount__c, Pricebook2Id, CloseDate, Funded_Date__c "
                         "FROM Opportunity WHERE StageName = 'Funded' AND Broker__c = null ORDER BY Id LIMIT 1")["records"][0]
    line = sf.query_all(f"SELECT PricebookEntryId, UnitPrice FROM OpportunityLineItem WHERE OpportunityId = '{first['Id']}' "
                        "ORDER BY Id LIMIT 1")["records"][0]
    second = sf.Opportunity.create({"Name": "Second funding", "AccountId": first["AccountId"], "StageName": "Funded",
                                    "CloseDate": first["CloseDate"], "Funded_Date__c": first["Funded_Date__c"],
                                    "Amount": 20000, "Payback_Amount__c": 26000, "Pricebook2Id": first["Pricebook2Id"]})["id"]
    sf.OpportunityLineItem.create({"OpportunityId": second, "PricebookEntryId": line["PricebookEntryId"], "Quantity": 1,
                                   "UnitPrice": 900})
    return first["Id"], second


def applications(sf, ids):
    rows = sf.query_all("SELECT Id, Name, Payback_Amount__c, NetSuite_Sales_Order_Id__c, Total_Remitted__c, "
                        "Total_Credited__c, Remittance_Balance__c FROM Opportunity WHERE Id IN ('" + "','".join(ids) + "')")
    return {r["Id"]: r for r in rows["records"]}


def remittances(sf):
    rows = sf.query_all("SELECT Id, Application__c, Account__c, Amount__c, Original_Amount__c, Type__c, Status__c, "
                        "NetSuite_Payment_Id__c FROM Remittance__c")["records"]
    return {r["NetSuite_Payment_Id__c"]: r for r in rows}


def customer_of(netsuite_service, netsuite, order_id):
    books = Books(netsuite, netsuite_service)
    record = netsuite_service.get(baseRef=books.ref(order_id, "salesOrder"),
                                  _soapheaders={"tokenPassport": netsuite.token_passport()}).body.readResponse.record
    return str(record.entity.internalId)


def test_it_follows_the_money_and_corrects_what_comes_back_within_one_pull(hub_on_sandboxes, netsuite_service):
    salesforce, netsuite = hub_on_sandboxes
    sf = salesforce.client()
    first, second = two_applications_of_one_merchant(sf)
    run_all(PUSHES)
    run_all(["pull_sales_orders"])
    apps = applications(sf, [first, second])
    order_a, order_b = apps[first]["NetSuite_Sales_Order_Id__c"], apps[second]["NetSuite_Sales_Order_Id__c"]
    customer = customer_of(netsuite_service, netsuite, order_a)
    invoice_a, invoice_b = netsuite.bill(order_a)["internalId"], netsuite.bill(order_b)["internalId"]
    books = Books(netsuite, netsuite_service)
    whole = books.payment(customer, 100.0, [(invoice_a, 100.0)])
    split = books.payment(customer, 150.0, [(invoice_a, 90.0), (invoice_b, 60.0)])
    unapplied = books.payment(customer, 80.0)
    voided = books.payment(customer, 50.0, [(invoice_a, 50.0)])
    refunded = books.payment(customer, 70.0, [(invoice_b, 30.0)])   # 40.00 of it unapplied, refunded below
    deleted = books.payment(customer, 20.0, [(invoice_b, 20.0)])
    deposit = books.deposit(customer, order_a, 200.0)
    books.deposit_application(customer, deposit, invoice_a, 200.0)

    run = sync_run(job_name="pull_remittances")
    assert run.outcome == "succeeded", run.message
    rows = remittances(sf)
    assert {key: (rows[key]["Application__c"], rows[key]["Amount__c"]) for key in (
        whole, split, f"{split}-{order_b}", unapplied, voided, refunded, f"{refunded}-U", deleted, deposit)} == {
        whole: (first, 100.0), split: (first, 90.0), f"{split}-{order_b}": (second, 60.0), unapplied: (None, 80.0),
        voided: (first, 50.0), refunded: (second, 30.0), f"{refunded}-U": (None, 40.0), deleted: (second, 20.0),
        deposit: (first, 200.0)}
    assert rows[deposit]["Type__c"] == "Deposit" and all(rows[k]["Account__c"] for k in (whole, unapplied))
    apps = applications(sf, [first, second])
    assert apps[first]["Total_Remitted__c"] == pytest.approx(440.0), "the deposit application counts nothing again"
    assert apps[second]["Total_Remitted__c"] == pytest.approx(110.0)
    assert apps[second]["Remittance_Balance__c"] == pytest.approx(26000 - 110.0)
    queue = {r.netsuite_internal_id: r for r in FinanceReview.objects.filter(kind="unapplied_cash")}
    assert set(queue) == {unapplied, refunded} and float(queue[unapplied].amount_after) == 80.0

    netsuite.void("customerPayment", voided)
    books.refund(customer, refunded, 40.0)
    memo = books.credit_memo(customer, invoice_b, 25.0)
    books.delete("customerPayment", deleted)
    run = sync_run(job_name="pull_remittances")
    assert run.outcome == "succeeded", run.message
    rows = remittances(sf)
    assert (rows[voided]["Amount__c"], rows[voided]["Original_Amount__c"], rows[voided]["Status__c"],
            rows[voided]["Application__c"]) == (0.0, 50.0, "Voided", first)
    assert (rows[f"{refunded}-U"]["Amount__c"], rows[f"{refunded}-U"]["Status__c"]) == (0.0, "Refunded")
    assert rows[refunded]["Amount__c"] == 30.0
    assert (rows[memo]["Type__c"], rows[memo]["Amount__c"], rows[memo]["Application__c"]) == ("Credit Memo", 25.0, second)
    assert (rows[deleted]["Amount__c"], rows[deleted]["Status__c"]) == (0.0, "Deleted in NetSuite")
    apps = applications(sf, [first, second])
    assert apps[first]["Total_Remitted__c"] == pytest.approx(390.0)
    assert (apps[second]["Total_Remitted__c"], apps[second]["Total_Credited__c"]) == (pytest.approx(90.0), pytest.approx(25.0))
    assert apps[second]["Remittance_Balance__c"] == pytest.approx(26000 - 90.0 - 25.0)
    reviews = {r.netsuite_internal_id: r for r in FinanceReview.objects.filter(kind="reversal")}
    assert set(reviews) == {voided, refunded, memo, deleted}
    assert f"voided in NetSuite: remitted on {apps[first]['Name']} down 50.00 to 390.00" in reviews[voided].summary
    assert "deleted in NetSuite" in reviews[deleted].summary and "refunded in NetSuite" in reviews[refunded].summary

    again = sync_run(job_name="pull_remittances")
    assert again.outcome == "succeeded" and again.records_written == 0, again.message
    assert FinanceReview.objects.count() == 6, "a rerun files nothing"

    # Settled, voids, refunds, credit memos and deletes included: the reconciliation of amounts finds nothing.
    from syncs.reconcile_amounts import amounts_reconcile

    settled = amounts_reconcile()
    assert settled.outcome == "agreed", list(settled.differences.values_list("description", flat=True))


def test_it_reconciles_the_amounts_of_a_settled_demo_and_names_five_injected_differences(hub_on_sandboxes, netsuite_service):
    from syncs.reconcile_amounts import amounts_reconcile

    salesforce, netsuite = hub_on_sandboxes
    sf = salesforce.client()
    run_all(PUSHES)
    paid = netsuite.pay(days=2, per_day=4, seed=71, backdate=False)["created"]
    run_all(["pull_sales_orders", "pull_purchase_orders", "pull_remittances"])
    settled = amounts_reconcile()
    assert settled.outcome == "agreed", list(settled.differences.values_list("description", flat=True))
    assert settled.applications_checked > 0 and settled.remittances_checked > 0

    brokered = sf.query_all("SELECT Id, Commission_Percent__c FROM Opportunity WHERE StageName = 'Funded' AND "
                            "Broker__c != null AND NetSuite_Commission_PO_Id__c != null ORDER BY Id LIMIT 1")["records"][0]
    sf.Opportunity.update(brokered["Id"], {"Commission_Percent__c": brokered["Commission_Percent__c"] + 1})   # not pushed
    unbrokered = sf.query_all("SELECT Id FROM Opportunity WHERE StageName = 'Funded' AND Broker__c = null AND "
                              "NetSuite_Sales_Order_Id__c != null ORDER BY Id LIMIT 1")["records"][0]["Id"]
    line = sf.query_all(f"SELECT Id, OpportunityId, UnitPrice FROM OpportunityLineItem WHERE OpportunityId = '{unbrokered}' "
                        "ORDER BY Id LIMIT 1")["records"][0]
    sf.OpportunityLineItem.update(line["Id"], {"UnitPrice": line["UnitPrice"] + 10})
    void_key = str(paid[0]["internalId"])
    netsuite.void("customerPayment", void_key)                                  # a void not yet pulled
    customer = customer_of(netsuite_service, netsuite, str(paid[0]["salesOrder"]))
    missing = Books(netsuite, netsuite_service).payment(customer, 5.0)           # a payment missing in Salesforce
    orphan = sf.Remittance__c.create({"NetSuite_Payment_Id__c": "999999", "Amount__c": 75.0})["id"]   # no payment

    run = amounts_reconcile()
    found = {}
    for difference in ReconciliationDifference.objects.filter(run=run):
        found.setdefault(difference.kind, []).append(difference)
    assert {kind: len(rows) for kind, rows in found.items()} == {
        "fees": 1, "commission": 1, "missing_remittance": 1, "orphan_remittance": 1, "remittance_amount": 1}, \
        [d.description for rows in found.values() for d in rows]
    assert found["fees"][0].application_id == line["OpportunityId"]
    assert found["commission"][0].application_id == brokered["Id"]
    assert found["missing_remittance"][0].remittance_key == missing
    assert (found["orphan_remittance"][0].remittance_key, found["orphan_remittance"][0].salesforce_record_id) == ("999999", orphan)
    assert (found["remittance_amount"][0].remittance_key, float(found["remittance_amount"][0].netsuite_amount)) == (void_key, 0.0)
    assert FinanceReview.objects.filter(kind="reconciliation_difference").count() == 5
    again = amounts_reconcile()
    assert again.differences_found == 5 and FinanceReview.objects.filter(kind="reconciliation_difference").count() == 5

    from io import StringIO

    from django.core.management import CommandError, call_command

    said = StringIO()
    with pytest.raises(CommandError):
        call_command("sync", "reconcile", stdout=said)
    assert "BAD Amounts: 5 differences" in said.getvalue() and "999999" in said.getvalue()
