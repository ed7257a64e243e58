"""The hub's NetSuite client reading the money on both transports against one sandbox: transaction_pages of every
money type with the normalised fields, transactions_created_from and deleted_since. Both transports must read the
same money the same way."""
from datetime import timedelta

import pytest

from syncs.clients.netsuite.rest import RestNetSuiteClient
from syncs.clients.netsuite.soap import SoapNetSuiteClient
from tests.sandboxes.netsuite.conftest import Rest

from .conftest import netsuite_settings

pytestmark = pytest.mark.slow

TYPES = ["invoice", "customerPayment", "customerDeposit", "depositApplication", "creditMemo", "customerRefund",
         "journalEntry"]
CONTRACT_FIELDS = ["internalId", "externalId", "tranId", "customer", "total", "voided", "status", "applied",
                   "unapplied", "salesOrder", "createdFrom", "deposit", "voidJournal", "memo"]


def created(response) -> str:
    assert response.status_code == 204, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


@pytest.fixture(scope="module")
def money(netsuite_sandbox):
    """One funded order's money, written through REST as a client would, voided and deleted by the controls."""
    rest, sandbox = Rest(netsuite_sandbox), netsuite_sandbox
    customer = created(rest.post("customer", {"externalId": "MONEY-ACC", "companyName": "Money Merchant"}))
    order = created(rest.post("salesOrder", {"externalId": "MONEY-APP", "entity": {"id": customer}, "item": {"items": [
        {"item": {"id": "101"}, "amount": 6000.0}, {"item": {"id": "102"}, "amount": 4000.0}]}}))
    deposit = created(rest.post("customerDeposit", {"customer": {"id": customer}, "salesOrder": {"id": order},
                                                    "payment": 1000.0}))
    invoice = sandbox.bill(order, amount=6000.0)["internalId"]
    paid = created(rest.post("customerPayment", {"customer": {"id": customer}, "payment": 2500.0, "apply": {"items": [
        {"doc": {"id": invoice}, "apply": True, "amount": 2500.0}]}}))
    unapplied = created(rest.post("customerPayment", {"customer": {"id": customer}, "payment": 300.0}))
    application = created(rest.post(f"customerDeposit/{deposit}/!transform/depositApplication", {"apply": {"items": [
        {"doc": {"id": invoice}, "apply": True, "amount": 1000.0}]}}))
    memo = created(rest.post("creditMemo", {"createdFrom": {"id": invoice}, "item": {"items": [
        {"item": {"id": "101"}, "amount": 500.0}]}}))
    refund = created(rest.post("customerRefund", {"customer": {"id": customer}, "apply": {"items": [
        {"doc": {"id": unapplied}, "apply": True, "amount": 100.0}]}}))
    returned = created(rest.post("customerPayment", {"customer": {"id": customer}, "payment": 700.0, "apply": {
        "items": [{"doc": {"id": invoice}, "apply": True, "amount": 700.0}]}}))
    mistaken = created(rest.post("customerPayment", {"customer": {"id": customer}, "payment": 50.0}))
    sandbox.void("customerPayment", returned)
    sandbox.control(void_mode="reversing_journal")
    try:
        journal = sandbox.void("customerRefund", refund)["journal"]["internalId"]
    finally:
        sandbox.control(void_mode="direct")
    assert rest.delete(f"customerPayment/{mistaken}").status_code == 204
    return dict(customer=customer, order=order, deposit=deposit, invoice=invoice, paid=paid, unapplied=unapplied,
                application=application, memo=memo, refund=refund, returned=returned, mistaken=mistaken,
                journal=journal)


@pytest.fixture(params=["soap", "rest"])
def client(request, settings, netsuite_sandbox):
    settings.NETSUITE = {**settings.NETSUITE, **netsuite_settings(netsuite_sandbox, request.param)}
    return SoapNetSuiteClient() if request.param == "soap" else RestNetSuiteClient()


def read_all(client, record_type):
    found = {}
    for page in client.transaction_pages(transaction_type=record_type, modified_since=None, body_fields_only=False,
                                         page_size=50):
        for record in page.records:
            found[record["internalId"]] = record
    return found


def test_it_reads_every_money_type_normalised(client, money):
    read = {record_type: read_all(client, record_type) for record_type in TYPES}
    invoice = read["invoice"][money["invoice"]]
    paid = read["customerPayment"][money["paid"]]
    unapplied = read["customerPayment"][money["unapplied"]]
    returned = read["customerPayment"][money["returned"]]
    deposit = read["customerDeposit"][money["deposit"]]
    application = read["depositApplication"][money["application"]]
    memo = read["creditMemo"][money["memo"]]
    refund = read["customerRefund"][money["refund"]]
    journal = read["journalEntry"][money["journal"]]

    assert invoice["customer"]["internalId"] == money["customer"] and invoice["customer"]["name"] == "Money Merchant"
    assert invoice["createdFrom"] == {"internalId": money["order"], "type": "salesOrder"}
    assert (invoice["total"], invoice["status"], invoice["voided"]) == (6000.0, "Open", False)
    assert invoice["lastModifiedDate"].tzinfo is not None and invoice["currency"]["internalId"] == "1"
    assert paid["applyList"]["apply"] == [{"doc": money["invoice"], "type": "invoice", "amount": 2500.0, "apply": True}]
    assert (paid["total"], paid["payment"], paid["applied"], paid["unapplied"]) == (2500.0, 2500.0, 2500.0, 0.0)
    assert (unapplied["applied"], unapplied["unapplied"], unapplied["applyList"]["apply"]) == (0.0, 300.0, []), "the refund of 100 was voided: the credit is back"
    assert (returned["voided"], returned["total"], returned["status"]) == (True, 0.0, "Voided")
    assert [line["amount"] for line in returned["applyList"]["apply"]] == [0.0]
    assert deposit["salesOrder"] == {"internalId": money["order"]} and deposit["total"] == 1000.0
    assert deposit["status"] == "Fully Applied" and "applied" not in deposit
    assert application["deposit"] == {"internalId": money["deposit"]} and application["total"] == 1000.0
    assert application["applyList"]["apply"] == [{"doc": money["invoice"], "type": "invoice", "amount": 1000.0,
                                                  "apply": True}]
    assert memo["createdFrom"] == {"internalId": money["invoice"], "type": "invoice"}
    assert memo["customer"]["internalId"] == money["customer"] and (memo["total"], memo["applied"]) == (500.0, 500.0)
    assert memo["applyList"]["apply"][0]["doc"] == money["invoice"]
    assert (refund["voided"], refund["total"], refund["voidJournal"]) == (True, 100.0, {"internalId": money["journal"]})
    assert refund["applyList"]["apply"] == [{"doc": money["unapplied"], "type": "customerPayment", "amount": 100.0,
                                             "apply": True}]
    assert journal["createdFrom"]["internalId"] == money["refund"] and journal["voided"] is False
    assert money["mistaken"] not in read["customerPayment"]


def test_both_transports_read_the_money_alike(settings, netsuite_sandbox, money):
    readings = []
    for transport in ("soap", "rest"):
        settings.NETSUITE = {**settings.NETSUITE, **netsuite_settings(netsuite_sandbox, transport)}
        client = SoapNetSuiteClient() if transport == "soap" else RestNetSuiteClient()
        reading = {}
        for record_type in TYPES:
            for internal_id, record in read_all(client, record_type).items():
                reading[internal_id] = {field: record.get(field) for field in CONTRACT_FIELDS}
                if record.get("customer"):
                    reading[internal_id]["customer"] = record["customer"]["internalId"]
                reading[internal_id]["applyList"] = sorted((line["doc"], line["type"], line["amount"])
                                                           for line in record.get("applyList", {}).get("apply", []))
        readings.append(reading)
    for key in readings[0]:
        assert readings[0][key] == readings[1].get(key), key
    assert readings[0] == readings[1]


def test_it_maps_transactions_to_what_they_were_created_from(client, money):
    invoices = client.transactions_created_from("invoice", [money["invoice"], "999999", money["paid"]])
    memos = client.transactions_created_from("creditMemo", [money["memo"]])

    assert invoices == {money["invoice"]: money["order"]}
    assert memos == {money["memo"]: money["invoice"]}


def test_it_lists_deletions_since_a_moment(client, money):
    every = client.deleted_since(["customerPayment", "invoice"], None)
    mistaken = [d for d in every if d["internalId"] == money["mistaken"]]

    assert len(mistaken) == 1 and mistaken[0]["type"] == "customerPayment"
    assert mistaken[0]["deletedDate"].tzinfo is not None and mistaken[0]["name"].startswith("Payment #")
    since = mistaken[0]["deletedDate"]
    assert any(d["internalId"] == money["mistaken"] for d in client.deleted_since(["customerPayment"], since))
    assert client.deleted_since(["customerPayment"], since + timedelta(hours=1)) == []
    assert client.deleted_since(["invoice"], None) == [d for d in every if d["type"] == "invoice"]
