"""The money as NetSuite books it, over SOAP (every response checked against the XSDs by the conftest's plugin):
invoices billed from orders, payments applied to invoices, deposits and their applications, credit memos, refunds,
voids, deletes and the deleted-record list, getAll, and internal ids per record group."""
import datetime as dt

import pytest
from zeep.exceptions import Fault

from sandboxes.netsuite import records
from sandboxes.netsuite.records import KINDS, Writer
from sandboxes.netsuite.store import Store


def funded(netsuite, unique, amounts=(6000.0, 4000.0)):
    netsuite.upsert_list([netsuite.customer(f"{unique}-ACC")])
    lines = [netsuite.fee_line("101" if n == 0 else "102", amount) for n, amount in enumerate(amounts)]
    order = netsuite.sales_order(f"{unique}-APP", f"{unique}-ACC", lines)
    return netsuite.upsert_list([order]).writeResponse[0].baseRef.internalId


def add(netsuite, record):
    response = netsuite.service.add(record=record, _soapheaders=netsuite.headers()).body.writeResponse
    assert response.status.isSuccess, response.status.statusDetail
    return response.baseRef.internalId


def add_refused(netsuite, record):
    response = netsuite.service.add(record=record, _soapheaders=netsuite.headers()).body.writeResponse
    assert not response.status.isSuccess
    return response.status.statusDetail[0].code


def initialize(netsuite, record_type, reference_type, internal_id):
    wanted = netsuite.core.InitializeRecord(type=record_type, reference=netsuite.core.InitializeRef(
        type=reference_type, internalId=internal_id))
    return netsuite.service.initialize(initializeRecord=wanted, _soapheaders=netsuite.headers()).body.readResponse


def invoice_of(netsuite, initialized, **fields):
    record = initialized.record
    items = [netsuite.sales.InvoiceItem(item=netsuite.ref(internalId=line.item.internalId), amount=line.amount,
                                        quantity=1, orderLine=line.orderLine) for line in record.itemList.item]
    return netsuite.sales.Invoice(createdFrom=netsuite.ref(internalId=record.createdFrom.internalId),
                                  entity=netsuite.ref(internalId=record.entity.internalId),
                                  itemList=netsuite.sales.InvoiceItemList(item=items), **fields)


def payment(netsuite, customer_id, amount, applies):
    lines = [netsuite.customers.CustomerPaymentApply(apply=True, doc=int(doc), amount=value) for doc, value in applies]
    return netsuite.customers.CustomerPayment(
        customer=netsuite.ref(internalId=customer_id), payment=amount,
        applyList=netsuite.customers.CustomerPaymentApplyList(apply=lines) if lines else None)


def bill_all(netsuite, unique):
    order_id = funded(netsuite, unique)
    invoice_id = add(netsuite, invoice_of(netsuite, initialize(netsuite, "invoice", "salesOrder", order_id)))
    invoice = netsuite.get("invoice", internalId=invoice_id).record
    return order_id, invoice


def test_it_numbers_internal_ids_per_record_group_and_moves_an_old_data_dir_to_it(tmp_path):
    store = Store(tmp_path / "old")
    with store.write() as connection:
        connection.execute("INSERT INTO counters VALUES ('internal_id', 5000)")
    store.close()

    store = Store(tmp_path / "old")   # opened again: the account-wide counter becomes one per family
    records.seed_items(store)
    with store.write() as connection:
        writer = Writer(connection)
        customer = writer.write("add", KINDS["customer"], {"companyName": "Shared Id Co"})
        order = writer.write("add", KINDS["salesOrder"], {
            "entity": {"internalId": str(customer.internal_id)},
            "itemList": {"item": [{"item": {"internalId": "101"}, "amount": "100.0"}]}})
        payment_ = writer.write("add", KINDS["customerPayment"], {
            "customer": {"internalId": str(customer.internal_id)}, "payment": "10.0"})
        same_id_as_customer = writer.find(KINDS["customerPayment"], str(customer.internal_id), None)

    assert customer.internal_id == order.internal_id == 5000 and payment_.internal_id == 5001
    assert order.body["entity"]["internalId"] == "5000" and payment_.parent_id == customer.internal_id
    assert same_id_as_customer is None, "an id is looked up within its record's group, never across groups"
    assert "internal_id" not in dict(store.connection().execute("SELECT name, value FROM counters").fetchall())


def test_it_initializes_an_invoice_from_an_order_and_bills_it_in_parts(netsuite, unique):
    order_id = funded(netsuite, unique)
    proposed = initialize(netsuite, "invoice", "salesOrder", order_id)
    assert proposed.status.isSuccess and proposed.record.createdFrom.internalId == order_id
    assert [line.amount for line in proposed.record.itemList.item] == [6000.0, 4000.0]

    first = invoice_of(netsuite, proposed)
    first.itemList.item = first.itemList.item[:1]   # bill the first line only
    first_id = add(netsuite, first)
    order = netsuite.get("salesOrder", internalId=order_id).record
    rest = initialize(netsuite, "invoice", "salesOrder", order_id)
    assert order.status == "Pending Billing" and [line.amount for line in rest.record.itemList.item] == [4000.0]

    add(netsuite, invoice_of(netsuite, rest))
    order = netsuite.get("salesOrder", internalId=order_id).record
    invoice = netsuite.get("invoice", internalId=first_id).record
    assert order.status == "Billed" and order.orderStatus == "_fullyBilled"
    assert (invoice.status, invoice.total, invoice.amountRemaining) == ("Open", 6000.0, 6000.0)
    assert invoice.createdFrom.internalId == order_id and invoice.tranId.startswith("INV")
    nothing_left = initialize(netsuite, "invoice", "salesOrder", order_id)
    assert nothing_left.status.statusDetail[0].code == "INVALID_REF_CANT_INITIALIZE"
    overbilled = invoice_of(netsuite, proposed)
    assert add_refused(netsuite, overbilled) == "USER_ERROR"


def test_it_applies_payments_to_invoices_and_keeps_the_rest_unapplied(netsuite, unique):
    order_id, invoice = bill_all(netsuite, unique)
    customer_id = invoice.entity.internalId
    first = add(netsuite, payment(netsuite, customer_id, 2500.0, [(invoice.internalId, 2500.0)]))
    open_invoice = netsuite.get("invoice", internalId=invoice.internalId).record
    second = add(netsuite, payment(netsuite, customer_id, 9000.0, [(invoice.internalId, None)]))
    paid = netsuite.get("invoice", internalId=invoice.internalId).record
    overpaid = netsuite.get("customerPayment", internalId=second).record
    found = netsuite.search(netsuite.common.TransactionSearchBasic(
        type=netsuite.core.SearchEnumMultiSelectField(operator="anyOf", searchValue=["_invoice", "_customerPayment"]),
        entity=netsuite.core.SearchMultiSelectField(operator="anyOf", searchValue=[netsuite.ref(internalId=customer_id)])),
        body_fields_only=False).recordList.record

    assert (open_invoice.status, open_invoice.amountRemaining, open_invoice.amountPaid) == ("Open", 7500.0, 2500.0)
    assert (paid.status, paid.amountRemaining) == ("Paid In Full", 0.0)
    assert (overpaid.applied, overpaid.unapplied, overpaid.status) == (7500.0, 1500.0, "Not Deposited")
    assert overpaid.applyList.apply[0].due == 7500.0 and overpaid.applyList.apply[0].type == "Invoice"
    assert sorted(r.internalId for r in found) == sorted([invoice.internalId, first, second])


def test_it_applies_a_deposit_for_an_order_to_its_invoice(netsuite, unique):
    order_id = funded(netsuite, unique)
    customer_id = netsuite.get("salesOrder", internalId=order_id).record.entity.internalId
    deposit_id = add(netsuite, netsuite.customers.CustomerDeposit(
        customer=netsuite.ref(internalId=customer_id), salesOrder=netsuite.ref(internalId=order_id), payment=3000.0))
    assert add_refused(netsuite, netsuite.customers.CustomerDeposit(
        customer=netsuite.ref(internalId=customer_id), salesOrder=netsuite.ref(internalId=deposit_id),
        payment=1.0)) == "INVALID_KEY_OR_REF"
    invoice_id = add(netsuite, invoice_of(netsuite, initialize(netsuite, "invoice", "salesOrder", order_id)))
    proposed = initialize(netsuite, "depositApplication", "customerDeposit", deposit_id).record
    assert (proposed.deposit.internalId, proposed.customer.internalId, proposed.unapplied) == (deposit_id, customer_id, 3000.0)
    application_id = add(netsuite, netsuite.customers.DepositApplication(
        deposit=netsuite.ref(internalId=deposit_id), applyList=netsuite.customers.DepositApplicationApplyList(
            apply=[netsuite.customers.DepositApplicationApply(apply=True, doc=int(invoice_id))])))

    deposit = netsuite.get("customerDeposit", internalId=deposit_id).record
    application = netsuite.get("depositApplication", internalId=application_id).record
    invoice = netsuite.get("invoice", internalId=invoice_id).record
    assert deposit.salesOrder.internalId == order_id and deposit.status == "Fully Applied"
    assert (application.applied, application.total, application.customer.internalId) == (3000.0, 3000.0, customer_id)
    assert application.deposit.internalId == deposit_id and application.applyList.apply[0].amount == 3000.0
    assert (invoice.amountPaid, invoice.amountRemaining) == (3000.0, 7000.0)


def test_it_credits_an_invoice_and_refunds_a_payments_credit_and_a_deposit(netsuite, unique):
    order_id, invoice = bill_all(netsuite, unique)
    customer_id = invoice.entity.internalId
    memo_id = add(netsuite, netsuite.customers.CreditMemo(
        createdFrom=netsuite.ref(internalId=invoice.internalId), itemList=netsuite.customers.CreditMemoItemList(
            item=[netsuite.customers.CreditMemoItem(item=netsuite.ref(internalId="101"), amount=1000.0)])))
    over = add(netsuite, payment(netsuite, customer_id, 9500.0, [(invoice.internalId, None)]))
    deposit_id = add(netsuite, netsuite.customers.CustomerDeposit(customer=netsuite.ref(internalId=customer_id),
                                                                  payment=200.0))
    refund_id = add(netsuite, netsuite.customers.CustomerRefund(
        customer=netsuite.ref(internalId=customer_id),
        applyList=netsuite.customers.CustomerRefundApplyList(apply=[
            netsuite.customers.CustomerRefundApply(apply=True, doc=int(over), amount=500.0)]),
        depositList=netsuite.customers.CustomerRefundDepositList(customerRefundDeposit=[
            netsuite.customers.CustomerRefundDeposit(apply=True, doc=int(deposit_id), amount=200.0)])))

    memo = netsuite.get("creditMemo", internalId=memo_id).record
    refund = netsuite.get("customerRefund", internalId=refund_id).record
    refunded_payment = netsuite.get("customerPayment", internalId=over).record
    assert memo.createdFrom.internalId == invoice.internalId and memo.entity.internalId == customer_id
    assert (memo.applied, memo.unapplied, memo.status) == (1000.0, 0.0, "Fully Applied")
    assert memo.applyList.apply[0].doc == int(invoice.internalId)
    assert netsuite.get("invoice", internalId=invoice.internalId).record.status == "Paid In Full"
    assert (refunded_payment.applied, refunded_payment.unapplied) == (9000.0, 0.0)
    assert refund.total == 700.0 and refund.applyList.apply[0].type == "Payment"
    assert refund.depositList.customerRefundDeposit[0].doc == int(deposit_id)
    assert netsuite.get("customerDeposit", internalId=deposit_id).record.status == "Fully Applied"
    too_much = netsuite.customers.CustomerRefund(customer=netsuite.ref(internalId=customer_id),
        applyList=netsuite.customers.CustomerRefundApplyList(apply=[
            netsuite.customers.CustomerRefundApply(apply=True, doc=int(over), amount=1.0)]))
    assert add_refused(netsuite, too_much) == "USER_ERROR"


def test_it_voids_directly_or_by_reversing_journal_as_the_account_is_set(netsuite, unique):
    order_id, invoice = bill_all(netsuite, unique)
    customer_id = invoice.entity.internalId
    paid = add(netsuite, payment(netsuite, customer_id, 10500.0, [(invoice.internalId, None)]))
    voided = netsuite.sandbox.void("customerPayment", paid)
    record = netsuite.get("customerPayment", internalId=paid).record
    reopened = netsuite.get("invoice", internalId=invoice.internalId).record

    assert voided["voided"] and voided["mode"] == "direct" and voided["total"] == 0
    assert (record.payment, record.total, record.applied, record.status, record.memo) == (0.0, 0.0, 0.0, "Voided", "VOID")
    assert [line.amount for line in record.applyList.apply] == [0.0]
    assert (reopened.status, reopened.amountRemaining) == ("Open", 10000.0)
    with pytest.raises(Exception) as again:
        netsuite.sandbox.void("customerPayment", paid)
    assert "409" in str(again.value)
    changed = netsuite.service.update(record=netsuite.customers.CustomerPayment(internalId=paid, payment=5.0),
                                      _soapheaders=netsuite.headers()).body.writeResponse
    assert changed.status.statusDetail[0].code == "CANT_MODIFY_VOID_TRANS"

    credit = add(netsuite, payment(netsuite, customer_id, 300.0, []))
    refund_id = add(netsuite, netsuite.customers.CustomerRefund(
        customer=netsuite.ref(internalId=customer_id), applyList=netsuite.customers.CustomerRefundApplyList(
            apply=[netsuite.customers.CustomerRefundApply(apply=True, doc=int(credit), amount=300.0)])))
    netsuite.sandbox.control(void_mode="reversing_journal")
    try:
        with pytest.raises(Exception) as direct_only:
            netsuite.sandbox.void("customerPayment", credit)
        reversed_ = netsuite.sandbox.void("customerRefund", refund_id)
    finally:
        netsuite.sandbox.control(void_mode="direct")
    refund = netsuite.get("customerRefund", internalId=refund_id).record
    journal = netsuite.get("journalEntry", internalId=reversed_["journal"]["internalId"]).record

    assert "409" in str(direct_only.value)
    assert refund.total == 300.0 and refund.status == "Voided" and refund.voidJournal.internalId == journal.internalId
    assert journal.createdFrom.internalId == refund_id
    assert [(line.debit, line.credit) for line in journal.lineList.line] == [(300.0, None), (None, 300.0)]
    assert netsuite.get("customerPayment", internalId=credit).record.unapplied == 300.0, "the credit is back"


def test_it_deletes_what_nothing_depends_on_and_lists_the_deletions(netsuite, unique):
    before = netsuite.service.getServerTime(_soapheaders=netsuite.headers()).body.getServerTimeResult.serverTime
    order_id, invoice = bill_all(netsuite, unique)
    paid = add(netsuite, payment(netsuite, invoice.entity.internalId, 400.0, [(invoice.internalId, 400.0)]))
    refs = [netsuite.ref(type="invoice", internalId=invoice.internalId), netsuite.ref(type="customerPayment", internalId=paid),
            netsuite.ref(type="customerPayment", internalId="999999")]
    results = netsuite.service.deleteList(baseRef=refs, _soapheaders=netsuite.headers()).body.writeResponseList.writeResponse
    then = netsuite.service.delete(baseRef=refs[0], _soapheaders=netsuite.headers()).body.writeResponse

    assert [r.status.isSuccess for r in results] == [False, True, False]
    assert results[0].status.statusDetail[0].code == "CANT_DELETE_TRANS"
    assert results[2].status.statusDetail[0].code == "RCRD_DSNT_EXIST"
    assert then.status.isSuccess, "once its payment is gone the invoice can go"
    assert netsuite.get("salesOrder", internalId=order_id).record.status == "Pending Fulfillment"

    def deleted(types, since, page=1):
        wanted = netsuite.core.GetDeletedFilter(
            type=netsuite.core.SearchEnumMultiSelectField(operator="anyOf", searchValue=types),
            deletedDate=netsuite.core.SearchDateField(operator="onOrAfter", searchValue=since))
        return netsuite.service.getDeleted(getDeletedFilter=wanted, pageIndex=page,
                                           _soapheaders=netsuite.headers()).body.getDeletedResult

    both = deleted(["customerPayment", "invoice"], before - dt.timedelta(seconds=1))
    payments_only = deleted(["customerPayment"], before - dt.timedelta(seconds=1))
    later = deleted(["invoice"], before + dt.timedelta(hours=1))
    assert sorted((r.record.type, r.record.internalId) for r in both.deletedRecordList.deletedRecord) == [
        ("customerPayment", paid), ("invoice", invoice.internalId)]
    assert both.totalRecords == 2 and both.totalPages == 1 and both.pageIndex == 1
    assert {r.record.name.split(" #")[0] for r in both.deletedRecordList.deletedRecord} == {"Payment", "Invoice"}
    assert [r.record.internalId for r in payments_only.deletedRecordList.deletedRecord] == [paid]
    assert later.totalRecords == 0
    assert not deleted(["invoice"], before, page=3).status.isSuccess


def test_it_gets_all_currencies_and_no_other_type(netsuite):
    answer = netsuite.service.getAll(record=netsuite.core.GetAllRecord(recordType="currency"),
                                     _soapheaders=netsuite.headers()).body.getAllResult
    other = netsuite.service.getAll(record=netsuite.core.GetAllRecord(recordType="state"),
                                    _soapheaders=netsuite.headers()).body.getAllResult

    # The OneWorld account's currencies (chart.py): the subsidiaries' USD and EUR are base currencies.
    assert answer.status.isSuccess and answer.totalRecords == 4
    assert [(c.symbol, c.isBaseCurrency) for c in answer.recordList.record] == [
        ("USD", True), ("EUR", True), ("GBP", False), ("CAD", False)]
    assert not other.status.isSuccess and other.status.statusDetail[0].code == "INVALID_RCRD_TYPE"
    with pytest.raises(Fault):   # a type getAll does not take is refused by the schema itself
        netsuite.service.getAll(record=netsuite.core.GetAllRecord(recordType="customer"), _soapheaders=netsuite.headers())


def test_it_tells_the_storys_money_events_through_the_controls(netsuite, unique):
    import random

    from demo.story.cli import Story

    order_id = funded(netsuite, unique)
    said = []
    story = Story.__new__(Story)
    story.netsuite_url, story.rng, story.log = netsuite.sandbox.url, random.Random(3), said.append
    story.recent_payments, story.unapplied = [], []
    story.remit_payments = None
    deposit = netsuite.sandbox._request("POST", "/_sandbox/deposit", {"salesOrder": order_id})
    paid = netsuite.sandbox.pay(days=1, per_day=1, seed=5, backdate=False)["created"][0]["internalId"]
    story.recent_payments = [str(paid)]
    for event in ("ach_return", "unapplied", "refund", "mistake"):
        story.rng.choices = lambda events, weights, event=event: [event]
        story.money_comes_back()

    assert netsuite.get("customerDeposit", internalId=deposit["internalId"]).record.salesOrder.internalId == order_id
    assert netsuite.get("customerPayment", internalId=str(paid)).record.status == "Voided"
    assert [s.split(":")[0].split(" ")[0] for s in said] == ["ACH", "a", "unapplied", "payment"], said
    refunds = netsuite.search(netsuite.common.TransactionSearchBasic(
        type=netsuite.core.SearchEnumMultiSelectField(operator="anyOf", searchValue=["_customerRefund"])),
        body_fields_only=False).recordList.record
    assert any(r.memo and r.memo.startswith("Refund of PYMT") for r in refunds)
