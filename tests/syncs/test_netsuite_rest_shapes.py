"""The REST transport's pure parts: records as REST JSON, task results as WriteResults, SuiteQL rows as the records
the pull mappings read, the batch keys and the assertion. Unit tests: no server."""
import datetime as dt
from zoneinfo import ZoneInfo

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from syncs.clients.errors import PermanentError
from syncs.clients.netsuite import rest_reads
from syncs.clients.netsuite.rest import batch_key
from syncs.clients.netsuite.rest_auth import M2MCredentials
from syncs.clients.netsuite.rest_records import RecordShapeError, record_item, task_result

ZONE = ZoneInfo("America/Los_Angeles")


def test_it_writes_a_sales_order_as_rest_shapes_it():
    item, replaced = record_item({"type": "salesOrder", "externalId": "006A", "internalId": "77", "fields": {
        "entity": {"internalId": "1001", "type": "customer"}, "tranDate": "2024-03-01T00:00:00", "memo": "Application X",
        "itemList": {"replaceAll": True, "item": [
            {"item": {"internalId": "101", "type": "serviceSaleItem"}, "quantity": 2.0, "rate": "150.25", "amount": 300.5}]},
    }})
    assert item == {"externalId": "006A", "entity": {"id": "1001"}, "tranDate": "2024-03-01", "memo": "Application X",
                    "item": {"items": [{"item": {"id": "101"}, "quantity": 2.0, "rate": 150.25, "amount": 300.5}]}}
    assert replaced == ("item",)


def test_it_keeps_a_reference_by_external_id_and_merges_lines_unless_asked_to_replace_them():
    item, replaced = record_item({"type": "contact", "externalId": "003A", "fields": {
        "company": {"externalId": "001A", "type": "customer"}, "lastName": "O'Brien",
        "itemList": {"replaceAll": False, "item": []}}})
    assert item["company"] == {"externalId": "001A"} and item["lastName"] == "O'Brien"
    assert replaced == ()


@pytest.mark.parametrize("record, reason", [
    ({"type": "spaceship", "externalId": "x", "fields": {}}, "record type"),
    ({"type": "customer", "externalId": "", "fields": {}}, "externalId"),
    ({"type": "customer", "externalId": "x", "fields": {"creditLimit": "lots"}}, "not a number"),
    ({"type": "customer", "externalId": "x", "fields": {"comments": object()}}, "JSON"),
])
def test_it_refuses_a_record_rest_cannot_express(record, reason):
    with pytest.raises(RecordShapeError, match=reason):
        record_item(record)


def test_it_reads_a_task_result_with_the_new_records_address():
    result = task_result("001A", 204, "https://acct.suitetalk.api.netsuite.com/services/rest/record/v1/customer/1042", None)
    assert (result.success, result.internal_id, result.external_id) == (True, "1042", "001A")


def test_it_reads_a_task_error_with_the_field_whose_reference_failed():
    body = {"type": "x", "title": "Bad Request", "status": 400, "o:errorDetails": [{
        "detail": "Error while accessing a resource. Invalid entity reference key 001Z.", "o:errorCode": "USER_ERROR",
        "o:errorPath": "entity"}]}
    result = task_result("006A", 400, "", body)
    assert (result.success, result.code, result.missing_reference, result.transient) == (False, "USER_ERROR", "entity", False)
    assert "001Z" in result.message


def test_it_leaves_missing_reference_empty_for_a_missing_value():
    body = {"o:errorDetails": [{"detail": "Please enter value(s) for: lastName", "o:errorCode": "USER_ERROR",
                                "o:errorPath": "lastName"}]}
    assert task_result("x", 400, "", body).missing_reference == ""


def test_it_marks_a_record_changed_meanwhile_transient():
    body = {"o:errorDetails": [{"detail": "Record has been changed", "o:errorCode": "RCRD_HAS_BEEN_CHANGED"}]}
    assert task_result("x", 400, "", body).transient


def test_it_derives_the_same_job_keys_from_the_same_batch_key():
    assert batch_key("k", "customer", ()) == batch_key("k", "customer", ())
    assert len({batch_key("k", "customer", ()), batch_key("k", "vendor", ()), batch_key("j", "customer", ())}) == 3


def test_it_reads_a_payment_row_as_the_soap_search_record():
    row = {"links": [], "id": "2001", "tranid": "PYMT1001", "status": "B", "foreigntotal": "250.5", "entity": "1001",
           "trandate": "2024-03-01", "createddate": "2024-03-01 23:59:30", "lastmodifieddate": "2024-03-02 00:00:01",
           "foreignpaymentamountused": "250.5", "paymentmethod": "3", "paymentmethodname": "ACH"}
    record = rest_reads.transaction_record(row, "customerPayment", ZONE)
    # A money record's normalised shape (interface.transaction_pages): "" for no external id, the customer's name
    # when the row has it.
    assert record["internalId"] == "2001" and record["externalId"] == "" and record["tranId"] == "PYMT1001"
    assert record["status"] == "Not Deposited" and record["payment"] == 250.5 and record["voided"] is False
    assert record["customer"] == {"internalId": "1001", "name": None} and record["paymentMethod"]["name"] == "ACH"
    assert record["tranDate"] == dt.datetime(2024, 3, 1, tzinfo=ZONE)
    assert record["lastModifiedDate"] == dt.datetime(2024, 3, 2, 0, 0, 1, tzinfo=ZONE)
    assert record["createdDate"].utcoffset() == dt.timedelta(hours=-8)


@pytest.mark.parametrize("transaction_type, letter, name", [
    ("salesOrder", "B", "Pending Fulfillment"), ("salesOrder", "G", "Billed"),
    ("purchaseOrder", "B", "Pending Receipt"), ("purchaseOrder", "F", "Pending Bill"),
])
def test_it_names_a_status_letter_as_soap_names_the_status(transaction_type, letter, name):
    row = {"id": "1", "status": letter, "createddate": "2024-01-01 00:00:00", "lastmodifieddate": "2024-01-01 00:00:00"}
    assert rest_reads.transaction_record(row, transaction_type, ZONE)["status"] == name


def test_it_pages_by_a_keyset_in_the_accounts_zone():
    since = dt.datetime(2024, 3, 1, 8, 0, 0, 500000, tzinfo=dt.timezone.utc)
    query = rest_reads.page_query(transaction_type="salesOrder", modified_since=since, created_since=None,
                                  position=(dt.datetime(2024, 3, 1, 9, 30, tzinfo=dt.timezone.utc), 1042),
                                  body_fields_only=True, zone=ZONE)
    assert "t.type = 'SalesOrd'" in query
    assert "t.lastmodifieddate >= TO_TIMESTAMP('2024-03-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')" in query
    assert ("(t.lastmodifieddate > TO_TIMESTAMP('2024-03-01 01:30:00', 'YYYY-MM-DD HH24:MI:SS') OR "
            "(t.lastmodifieddate = TO_TIMESTAMP('2024-03-01 01:30:00', 'YYYY-MM-DD HH24:MI:SS') AND t.id > 1042))") in query
    assert query.endswith("ORDER BY t.lastmodifieddate, t.id")


def test_it_splits_a_sweep_into_id_ranges_that_hold_every_id():
    assert rest_reads.id_ranges(100, 199, 4) == [(None, 125), (125, 150), (150, 175), (175, None)]
    assert rest_reads.id_ranges(5, 6, 4) == [(None, 6), (6, None)]   # no more ranges than ids
    assert rest_reads.id_ranges(7, 7, 3) == [(None, None)]
    query = rest_reads.page_query(transaction_type="customerPayment", modified_since=None, created_since=None,
                                  position=None, body_fields_only=False, zone=ZONE, ids=(125, 150))
    assert "t.id >= 125 AND t.id < 150 ORDER BY t.lastmodifieddate, t.id" in query


def test_it_quotes_external_ids_in_a_lookup():
    query = rest_reads.by_external_ids_query("customer", ["001A", "O'Brien"])
    assert query == "SELECT id, externalid FROM customer WHERE externalid IN ('001A', 'O''Brien')"


def test_it_reads_field_names_and_line_fields_from_the_metadata_catalog():
    schema = {"properties": {"id": {}, "companyName": {}, "item": {"properties": {"items": {"items": {
        "properties": {"item": {}, "amount": {}, "rate": {}}}}}}}}
    assert rest_reads.catalog_fields(schema) == {"id", "internalId", "companyName", "item"}
    assert rest_reads.catalog_fields(schema, "item") == {"item", "amount", "rate"}


def _pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.parametrize("key, algorithm", [
    (rsa.generate_private_key(public_exponent=65537, key_size=2048), "PS256"),
    (ec.generate_private_key(ec.SECP256R1()), "ES256"),
    (ec.generate_private_key(ec.SECP384R1()), "ES384"),
])
def test_it_signs_the_client_assertion_as_netsuite_asks(key, algorithm):
    credentials = M2MCredentials("https://a.example/services/rest/auth/oauth2/v1/token", "client", "cert", _pem(key))
    assertion = credentials.assertion()
    header = jwt.get_unverified_header(assertion)
    assert (header["alg"], header["kid"], header["typ"]) == (algorithm, "cert", "JWT")
    claims = jwt.decode(assertion, key.public_key(), algorithms=[algorithm], audience=credentials.token_url)
    assert claims["iss"] == "client" and claims["scope"] == ["rest_webservices"] and claims["jti"]
    assert 0 < claims["exp"] - claims["iat"] <= 3600


def test_it_names_a_missing_private_key():
    with pytest.raises(PermanentError, match="NETSUITE_PRIVATE_KEY"):
        M2MCredentials("https://a.example/token", "client", "cert", "").assertion()


def test_it_follows_the_catalogs_links_to_a_sublists_line_schema():
    parts = {"/c": {"properties": {"items": {"$ref": "/e-list"}}}, "/e-list": {"items": {"$ref": "/e"}},
             "/e": {"properties": {"item": {}, "rate": {}}}}
    schema = {"properties": {"item": {"$ref": "/c"}}}
    resolve = lambda part: parts[part["$ref"]] if "$ref" in part else part   # noqa: E731
    assert rest_reads.catalog_fields(schema, "item", resolve) == {"item", "rate"}
