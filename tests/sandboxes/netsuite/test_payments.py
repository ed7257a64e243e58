import datetime as dt
from zoneinfo import ZoneInfo

from sandboxes.netsuite import cli, payments, records, seeding
from sandboxes.netsuite.store import Store

LOS_ANGELES = ZoneInfo("America/Los_Angeles")


def funded(netsuite, prefix, count=2):
    netsuite.upsert_list([netsuite.customer(f"{prefix}-ACC-{n}") for n in range(count)])
    orders = [netsuite.sales_order(f"{prefix}-APP-{n}", f"{prefix}-ACC-{n}", [netsuite.fee_line("101", 10000.0)])
              for n in range(count)]
    return [r.baseRef.internalId for r in netsuite.upsert_list(orders).writeResponse]


def payments_search(netsuite):
    criteria = netsuite.common.TransactionSearchBasic(type=netsuite.core.SearchEnumMultiSelectField(
        operator="anyOf", searchValue=["_customerPayment"]))
    return netsuite.search(criteria, body_fields_only=False).recordList.record


def test_it_bills_funded_orders_and_applies_the_remittances_to_their_invoices(netsuite):
    order_ids = funded(netsuite, "PAY")
    result = netsuite.sandbox.pay(days=5, per_day=2, seed=7)
    found = payments_search(netsuite)

    assert result["payments"] == 10 and len(found) == 10
    invoices = {}
    for payment in found:
        line = payment.applyList.apply[0]
        assert line.type == "Invoice" and line.apply is True
        invoice = invoices.get(line.doc) or netsuite.get("invoice", internalId=str(line.doc)).record
        invoices[line.doc] = invoice
        assert invoice.createdFrom.internalId in order_ids and invoice.entity.internalId == payment.customer.internalId
        assert line.amount == payment.payment == payment.applied and payment.unapplied == 0
        assert payment.tranId.startswith("PYMT")
    assert len(invoices) == 2, "each order billed once, its remittances applied to that invoice"
    days = {p.lastModifiedDate.astimezone(LOS_ANGELES).date() for p in found}
    assert len(days) >= 4
    assert [p.lastModifiedDate for p in found] == sorted(p.lastModifiedDate for p in found)


def test_it_takes_a_customer_payment_with_an_apply_list(netsuite):
    order_id = funded(netsuite, "CP", count=1)[0]
    invoice_id = netsuite.sandbox.bill(order_id)["internalId"]
    payment = netsuite.customers.CustomerPayment(
        externalId="CP-PAY-1", customer=netsuite.ref(externalId="CP-ACC-0", type="customer"), payment=600.0,
        applyList=netsuite.customers.CustomerPaymentApplyList(apply=[
            netsuite.customers.CustomerPaymentApply(apply=True, doc=int(invoice_id), amount=450.0)]))
    written = netsuite.service.add(record=payment, _soapheaders=netsuite.headers()).body.writeResponse
    record = netsuite.get("customerPayment", internalId=written.baseRef.internalId).record

    assert (record.total, record.applied, record.unapplied) == (600.0, 450.0, 150.0)
    assert record.applyList.apply[0].refNum.startswith("INV")


def test_it_applies_nothing_to_another_customers_invoice_or_to_a_sales_order(netsuite):
    orders = funded(netsuite, "CPX", count=2)
    other_invoice = netsuite.sandbox.bill(orders[1])["internalId"]
    payment = netsuite.customers.CustomerPayment(
        customer=netsuite.ref(externalId="CPX-ACC-0", type="customer"), payment=10.0,
        applyList=netsuite.customers.CustomerPaymentApplyList(apply=[
            netsuite.customers.CustomerPaymentApply(apply=True, doc=int(other_invoice), amount=5.0),
            netsuite.customers.CustomerPaymentApply(apply=True, doc=int(orders[0]), amount=5.0)]))
    written = netsuite.service.add(record=payment, _soapheaders=netsuite.headers()).body.writeResponse
    record = netsuite.get("customerPayment", internalId=written.baseRef.internalId).record

    # Neither line is in the customer's apply sublist: the payment is kept, all of it unapplied.
    assert written.status.isSuccess and (record.applied, record.unapplied) == (0.0, 10.0)
    assert record.applyList is None and record.status == "Not Deposited"


def generated_amounts(tmp_path, name, seed):
    store = Store(tmp_path / name)
    records.seed_items(store)
    seeding.seed(store, customers=3, sales_orders=6)
    result = payments.generate(store, days=10, per_day=3, seed=seed, zone=LOS_ANGELES, today=dt.date(2024, 3, 31))
    store.close()
    return [(p["salesOrder"], p["amount"], p["date"]) for p in result["created"]]


def test_it_generates_the_same_payments_for_the_same_seed(tmp_path):
    first = generated_amounts(tmp_path, "a", seed=3)
    assert first == generated_amounts(tmp_path, "b", seed=3)
    assert first != generated_amounts(tmp_path, "c", seed=4)
    assert len(first) == 30


def test_it_seeds_and_pays_from_the_command_line(tmp_path, capsys):
    data_dir = str(tmp_path / "cli")
    assert cli.main(["seed", "--customers", "4", "--sales-orders", "4", "--data-dir", data_dir]) == 0
    assert cli.main(["pay", "--days", "3", "--per-day", "2", "--data-dir", data_dir]) == 0
    assert "created 6 customer payments" in capsys.readouterr().out


def test_it_stops_paying_an_order_once_payments_cover_it(netsuite):
    order_id = funded(netsuite, "FULL", count=1)[0]
    invoice_id = netsuite.sandbox.bill(order_id)["internalId"]
    payment = netsuite.customers.CustomerPayment(
        customer=netsuite.ref(externalId="FULL-ACC-0", type="customer"), payment=10000.0,
        applyList=netsuite.customers.CustomerPaymentApplyList(apply=[
            netsuite.customers.CustomerPaymentApply(apply=True, doc=int(invoice_id))]))
    written = netsuite.service.add(record=payment, _soapheaders=netsuite.headers()).body.writeResponse
    applied = netsuite.get("customerPayment", internalId=written.baseRef.internalId).record
    invoice = netsuite.get("invoice", internalId=invoice_id).record

    assert applied.applyList.apply[0].amount == 10000.0 and applied.unapplied == 0
    assert (invoice.status, invoice.amountRemaining, invoice.amountPaid) == ("Paid In Full", 0.0, 10000.0)
    assert all(str(p["salesOrder"]) != order_id for p in netsuite.sandbox.pay(days=3, per_day=50)["created"])


def test_it_seeds_payments_applied_to_seeded_orders_that_a_search_returns(tmp_path, zeep_client):
    from .conftest import NetSuite
    from sandboxes.netsuite.process import run_netsuite_sandbox

    store = Store(tmp_path / "seeded")
    records.seed_items(store)
    seeding.seed(store, customers=3, sales_orders=4, payments=40, payment_days=5, random_seed=5,
                 customer_external_ids=["001A", "001B", "001C"], order_external_ids=["006A", "006B", "006C", "006D"])
    store.close()
    with run_netsuite_sandbox(tmp_path / "seeded", check_responses=True) as sandbox:
        netsuite = NetSuite(sandbox, zeep_client)
        found = payments_search(netsuite)
        orders = {o.internalId: o for o in netsuite.search(netsuite.common.TransactionSearchBasic(
            type=netsuite.core.SearchEnumMultiSelectField(operator="anyOf", searchValue=["_salesOrder"]))).recordList.record}
        invoices = {i.internalId: i for i in netsuite.search(netsuite.common.TransactionSearchBasic(
            type=netsuite.core.SearchEnumMultiSelectField(operator="anyOf", searchValue=["_invoice"]))).recordList.record}

    assert len(found) == 40 and {o.externalId for o in orders.values()} == {"006A", "006B", "006C", "006D"}
    paid = {}
    for payment in found:
        line = payment.applyList.apply[0]
        order = orders[invoices[str(line.doc)].createdFrom.internalId]
        assert order.entity.internalId == payment.customer.internalId
        assert line.amount == payment.payment == payment.applied > 0 and payment.unapplied == 0
        paid[order.internalId] = paid.get(order.internalId, 0) + line.amount
    assert all(paid[i] < orders[i].total for i in paid), "no order is paid more than it owes"
    assert len(paid) == 4, "every order gets its share"
    moments = [p.lastModifiedDate for p in found]
    assert moments == sorted(moments) and len({m.date() for m in moments}) == 5
    assert min(moments) > max(o.lastModifiedDate for o in orders.values()), "payments come after their orders"


def test_it_seeds_payments_from_the_command_line(tmp_path, capsys):
    data_dir = str(tmp_path / "cli-payments")
    assert cli.main(["seed", "--customers", "2", "--sales-orders", "3", "--payments", "9", "--payment-days", "3",
                     "--data-dir", data_dir]) == 0
    assert "9 customer payments" in capsys.readouterr().out
    assert Store(data_dir).counts()["customerPayment"] == 9
