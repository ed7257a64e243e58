"""The REST record service against the sandbox as a process, sharing its store with SOAP."""
import pytest

from .conftest import error_code

pytestmark = pytest.mark.slow


def created_id(response):
    assert response.status_code == 204, response.text
    return response.headers["Location"].rsplit("/", 1)[1]


def test_it_creates_a_record_and_answers_its_location(rest, unique):
    response = rest.post("customer", {"externalId": f"{unique}-C", "companyName": "Acme Funding", "isPerson": False,
                                      "email": "ops@acme.test", "subsidiary": {"id": "1"}})

    assert response.status_code == 204 and response.text == ""
    assert response.headers["Location"].startswith(rest.records + "/customer/")
    customer = rest.get(response.headers["Location"]).json()
    assert customer["companyName"] == "Acme Funding" and customer["isPerson"] is False
    assert customer["id"] == created_id(response)
    assert customer["subsidiary"]["id"] == "1" and customer["subsidiary"]["refName"] == "Parent Company"
    assert customer["lastModifiedDate"].endswith("Z")


def test_it_reads_by_internal_and_external_id(rest, unique):
    internal_id = created_id(rest.post("customer", {"externalId": f"{unique}-E", "companyName": "By Key"}))

    by_id = rest.get(f"customer/{internal_id}")
    by_eid = rest.get(f"customer/eid:{unique}-E")

    assert by_id.status_code == by_eid.status_code == 200
    assert by_id.headers["Content-Type"] == "application/vnd.oracle.resource+json; type=singular"
    assert by_id.json() == by_eid.json()
    assert by_eid.json()["externalId"] == f"{unique}-E"


def test_it_upserts_by_external_id_with_put(rest, unique):
    first = rest.put(f"customer/eid:{unique}-U", {"companyName": "Upsert One"})
    second = rest.put(f"customer/eid:{unique}-U", {"companyName": "Upsert Two"})

    assert created_id(first) == created_id(second)
    assert rest.get(f"customer/eid:{unique}-U").json()["companyName"] == "Upsert Two"


def test_it_updates_only_the_fields_a_patch_names(rest, unique):
    internal_id = created_id(rest.post("customer", {"externalId": f"{unique}-P", "companyName": "Patch Me",
                                                    "email": "keep@acme.test", "phone": "555-0100"}))

    response = rest.patch(f"customer/{internal_id}", {"phone": "555-0199", "email": None})

    assert response.status_code == 204
    customer = rest.get(f"customer/{internal_id}").json()
    assert customer["phone"] == "555-0199" and customer["companyName"] == "Patch Me"
    assert "email" not in customer


def test_it_deletes_a_record(rest, unique):
    internal_id = created_id(rest.post("customer", {"externalId": f"{unique}-D", "companyName": "Gone Soon"}))

    assert rest.delete(f"customer/eid:{unique}-D").status_code == 204
    missing = rest.get(f"customer/{internal_id}")
    assert missing.status_code == 404 and error_code(missing) == "NONEXISTENT_ID"
    assert rest.delete(f"customer/{internal_id}").status_code == 404


def test_it_writes_sales_order_lines_and_expands_them_on_request(rest, unique):
    rest.put(f"customer/eid:{unique}-SC", {"companyName": "Line Buyer"})
    response = rest.put(f"salesOrder/eid:{unique}-SO", {
        "entity": {"externalId": f"{unique}-SC"}, "tranDate": "2024-03-01", "memo": "fees",
        "item": {"items": [{"item": {"id": "101"}, "quantity": 1, "rate": 1500},
                           {"item": {"id": "103"}, "quantity": 2, "amount": 50}]}})
    order_id = created_id(response)

    plain = rest.get(f"salesOrder/{order_id}").json()
    expanded = rest.get(f"salesOrder/{order_id}", params={"expandSubResources": "true"}).json()

    assert "items" not in plain["item"] and plain["item"]["links"][0]["href"].endswith(f"/salesOrder/{order_id}/item")
    lines = expanded["item"]["items"]
    assert [(line["item"]["id"], line["amount"], line["line"]) for line in lines] == [("101", 1500.0, 1), ("103", 50.0, 2)]
    assert expanded["total"] == 1550.0 and expanded["tranDate"] == "2024-03-01"
    assert expanded["entity"]["refName"] == "Line Buyer" and expanded["status"] == "Pending Fulfillment"


def test_it_merges_lines_on_update_unless_asked_to_replace_them(rest, unique):
    rest.put(f"customer/eid:{unique}-MC", {"companyName": "Merge Buyer"})
    path = f"salesOrder/eid:{unique}-MS"
    rest.put(path, {"entity": {"externalId": f"{unique}-MC"},
                    "item": {"items": [{"item": {"id": "101"}, "quantity": 1, "rate": 100}]}})

    rest.patch(path, {"item": {"items": [{"item": {"id": "102"}, "quantity": 1, "rate": 20}]}})
    merged = rest.get(path, params={"expandSubResources": "true"}).json()
    rest.patch(path, {"item": {"items": [{"item": {"id": "104"}, "quantity": 1, "rate": 5}]}}, params={"replace": "item"})
    replaced = rest.get(path, params={"expandSubResources": "true"}).json()

    assert [line["item"]["id"] for line in merged["item"]["items"]] == ["101", "102"]
    assert [line["item"]["id"] for line in replaced["item"]["items"]] == ["104"] and replaced["total"] == 5.0


def test_it_writes_purchase_orders_for_vendors(rest, unique):
    rest.put(f"vendor/eid:{unique}-V", {"companyName": "Broker LLC", "is1099Eligible": True})
    order_id = created_id(rest.put(f"purchaseOrder/eid:{unique}-PO", {
        "entity": {"externalId": f"{unique}-V"}, "item": {"items": [{"item": {"id": "201"}, "quantity": 1,
                                                                     "rate": 300, "customer": None}]}}))

    order = rest.get(f"purchaseOrder/{order_id}", params={"expandSubResources": "true"}).json()
    vendor = rest.get(f"vendor/eid:{unique}-V").json()

    assert order["entity"]["id"] == vendor["id"] and order["status"] == "Pending Receipt"
    assert order["item"]["items"][0]["item"]["refName"] == "BROKER-COMMISSION"
    assert vendor["is1099Eligible"] is True


def test_it_attaches_a_contact_to_its_company_and_keeps_custom_fields(rest, sandbox, unique):
    sandbox.declare_custom_fields({"scriptId": "custentity_hub_score", "type": "integer", "appliesTo": ["contact"]},
                                  {"scriptId": "custentity_hub_note", "type": "text", "appliesTo": ["contact"]})
    company_id = created_id(rest.put(f"customer/eid:{unique}-CC", {"companyName": "Contact Co"}))
    rest.put(f"contact/eid:{unique}-K", {"firstName": "Jane", "lastName": "Doe", "company": {"id": company_id},
                                         "custentity_hub_score": 7, "custentity_hub_note": "vip"})

    contact = rest.get(f"contact/eid:{unique}-K").json()

    assert contact["company"]["id"] == company_id and contact["company"]["refName"] == "Contact Co"
    assert contact["custentity_hub_score"] == 7 and contact["custentity_hub_note"] == "vip"


def test_it_reads_customer_payments(rest, sandbox, unique):
    rest.put(f"customer/eid:{unique}-PC", {"companyName": "Payer"})
    rest.put(f"salesOrder/eid:{unique}-PS", {"entity": {"externalId": f"{unique}-PC"},
                                             "item": {"items": [{"item": {"id": "101"}, "rate": 100}]}})
    sandbox.pay(days=1, per_day=50, seed=3, backdate=False)
    payment_id = rest.rows("SELECT id FROM transaction WHERE type = 'CustPymt' ORDER BY id")[0]["id"]

    payment = rest.get(f"customerPayment/{payment_id}", params={"expandSubResources": "true"}).json()

    assert payment["customer"]["id"] and payment["payment"] > 0
    assert payment["apply"]["items"][0]["doc"]["id"] and payment["apply"]["items"][0]["apply"] is True


def test_it_answers_errors_in_the_rest_error_format(rest, unique):
    missing_field = rest.post("customer", {"externalId": f"{unique}-X", "isPerson": False})
    bad_reference = rest.post("salesOrder", {"entity": {"externalId": "nobody"},
                                             "item": {"items": [{"item": {"id": "101"}, "rate": 1}]}})
    unknown_type = rest.get("noSuchRecord/1")
    put_without_eid = rest.put("customer/123", {"companyName": "x"})

    body = missing_field.json()
    assert missing_field.status_code == 400
    assert set(body) == {"type", "title", "status", "o:errorDetails"} and body["status"] == 400
    assert body["o:errorDetails"][0]["o:errorCode"] == "USER_ERROR"
    assert body["o:errorDetails"][0]["o:errorPath"] == "companyName"
    assert bad_reference.status_code == 400 and "entity" in bad_reference.json()["o:errorDetails"][0]["detail"]
    assert unknown_type.status_code == 404
    assert put_without_eid.status_code == 400


def test_it_refuses_a_second_record_with_the_same_external_id(rest, unique):
    rest.post("customer", {"externalId": f"{unique}-DUP", "companyName": "First"})

    again = rest.post("customer", {"externalId": f"{unique}-DUP", "companyName": "Second"})

    assert again.status_code == 400 and "already exists" in again.json()["o:errorDetails"][0]["detail"]


def test_it_reads_over_rest_what_soap_wrote(rest, netsuite, unique):
    written = netsuite.upsert_list([netsuite.customer(f"{unique}-SOAP", "Written Over SOAP")]).writeResponse[0]

    customer = rest.get(f"customer/eid:{unique}-SOAP").json()

    assert customer["id"] == written.baseRef.internalId
    assert customer["companyName"] == "Written Over SOAP"


def test_it_reads_over_soap_what_rest_wrote(rest, netsuite, unique):
    netsuite.sandbox.declare_custom_fields({"scriptId": "custentity_hub_flag", "type": "checkbox",
                                            "appliesTo": ["customer"]})
    rest.put(f"customer/eid:{unique}-RC", {"companyName": "Written Over REST", "custentity_hub_flag": True})
    order_id = created_id(rest.put(f"salesOrder/eid:{unique}-RS", {
        "entity": {"externalId": f"{unique}-RC"}, "tranDate": "2024-05-02",
        "item": {"items": [{"item": {"id": "102"}, "quantity": 2, "rate": 40}]}}))

    order = netsuite.get("salesOrder", externalId=f"{unique}-RS").record
    customer = netsuite.get("customer", externalId=f"{unique}-RC").record

    assert order.internalId == order_id
    assert order.entity.name == "Written Over REST" and float(order.total) == 80.0
    assert order.itemList.item[0].item.internalId == "102"
    assert customer.customFieldList.customField[0].scriptId == "custentity_hub_flag"
    assert customer.customFieldList.customField[0].value is True
