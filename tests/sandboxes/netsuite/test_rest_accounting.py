"""The money over SuiteTalk REST, on the store SOAP uses: the record service (POST/GET/PATCH/DELETE, the apply
sublist) and SuiteQL's transaction type codes, voided column, transaction links and deletedrecord."""
import pytest

from .conftest import error_code

pytestmark = pytest.mark.slow


def created(response) -> str:
    assert response.status_code == 204, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def funded(rest, unique):
    customer = created(rest.post("customer", {"externalId": f"{unique}-ACC", "companyName": f"{unique} Merchant"}))
    order = created(rest.post("salesOrder", {"entity": {"id": customer}, "item": {"items": [
        {"item": {"id": "101"}, "amount": 8000.0}]}}))
    return customer, order


def test_it_books_an_invoice_and_its_payment_through_the_record_service(rest, unique):
    customer, order = funded(rest, unique)
    invoice = created(rest.post(f"salesOrder/{order}/!transform/invoice", {"item": {"items": [
        {"item": {"id": "101"}, "amount": 5000.0, "orderLine": 1}]}}))
    payment = created(rest.post("customerPayment", {"customer": {"id": customer}, "payment": 1200.0, "apply": {
        "items": [{"doc": {"id": invoice}, "apply": True, "amount": 1200.0}, {"doc": {"id": order}, "apply": True,
                                                                                "amount": 1.0}]}}))
    read = rest.get(f"customerPayment/{payment}", params={"expandSubResources": "true"}).json()
    billed = rest.get(f"invoice/{invoice}").json()
    patched = rest.patch(f"customerPayment/{payment}", {"apply": {"items": [
        {"doc": {"id": invoice}, "apply": True, "amount": 1000.0}]}}, params={"replace": "apply"})
    after = rest.get(f"invoice/{invoice}").json()

    assert [(line["doc"]["id"], line["amount"], line["type"]) for line in read["apply"]["items"]] == [
        (invoice, 1200.0, "Invoice")], "the line naming the order applies nothing"
    assert (read["applied"], read["unapplied"]) == (1200.0, 0.0)
    assert billed["createdFrom"]["id"] == order and billed["amountRemaining"] == 3800.0 and billed["status"] == "Open"
    assert patched.status_code == 204 and after["amountRemaining"] == 4000.0
    assert rest.get(f"salesOrder/{order}").json()["status"] == "Pending Billing"
    refused = rest.delete(f"invoice/{invoice}")
    assert refused.status_code == 400 and error_code(refused) == "CANT_DELETE_TRANS"
    assert rest.delete(f"customerPayment/{payment}").status_code == 204
    assert rest.delete(f"invoice/{invoice}").status_code == 204


def test_it_answers_the_money_in_suiteql(rest, sandbox, unique):
    customer, order = funded(rest, unique)
    deposit = created(rest.post("customerDeposit", {"customer": {"id": customer}, "salesOrder": {"id": order},
                                                    "payment": 500.0}))
    invoice = sandbox.bill(order)["internalId"]
    application = created(rest.post(f"customerDeposit/{deposit}/!transform/depositApplication", {"apply": {"items": [
        {"doc": {"id": invoice}, "apply": True}]}}))
    payment = created(rest.post("customerPayment", {"customer": {"id": customer}, "payment": 300.0, "apply": {
        "items": [{"doc": {"id": invoice}, "apply": True, "amount": 300.0}]}}))
    voided = created(rest.post("customerPayment", {"customer": {"id": customer}, "payment": 40.0}))
    sandbox.void("customerPayment", voided)
    mistaken = created(rest.post("customerPayment", {"customer": {"id": customer}, "payment": 9.0}))
    rest.delete(f"customerPayment/{mistaken}")

    direct = rest.post("depositApplication", {"deposit": {"id": deposit}})
    assert direct.status_code == 400 and "!transform" in direct.text, "created only by transforming the deposit"
    ids = ", ".join([deposit, invoice, application, payment, voided])
    rows = {row["id"]: row for row in rest.rows(
        "SELECT id, type, status, voided, foreigntotal, createdfrom, foreignamountunpaid, foreignpaymentamountunused "
        f"FROM transaction WHERE id IN ({ids})")}
    links = rest.rows("SELECT previousdoc, nextdoc, linktype, foreignamount FROM previoustransactionlink "
                      f"WHERE nextdoc IN ({ids}) ORDER BY nextdoc, linktype")
    deleted = rest.rows(f"SELECT recordid, recordtype, name FROM deletedrecord WHERE recordid = {mistaken}")

    assert {rows[i]["type"] for i in rows} == {"CustDep", "CustInvc", "DepAppl", "CustPymt"}
    assert rows[invoice]["createdfrom"] == order and rows[invoice]["foreignamountunpaid"] == "7200"
    assert rows[invoice]["status"] == "A" and rows[deposit]["status"] == "C"
    assert (rows[voided]["voided"], rows[voided]["foreigntotal"]) == ("T", "0")
    assert rows[payment]["voided"] == "F" and rows[payment]["foreignpaymentamountunused"] == "0"
    assert {(l["previousdoc"], l["nextdoc"], l["linktype"], l["foreignamount"]) for l in links} == {
        (order, deposit, "OrdDep", "500"), (order, invoice, "OrdBill", "8000"),
        (deposit, application, "DepAppl", "500"), (invoice, application, "Payment", "500"),
        (invoice, payment, "Payment", "300")}
    assert deleted == [{"links": [], "recordid": mistaken, "recordtype": "customerpayment",
                        "name": deleted[0]["name"]}] and deleted[0]["name"].startswith("Payment #")
