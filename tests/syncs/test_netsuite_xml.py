"""The hub renders upsertList records itself (syncs/clients/netsuite/soap_xml.py): the XML must be what zeep would send for
the same record, and a record that can't be rendered must fail alone."""
import datetime as dt

import pytest
from lxml import etree

from syncs.clients.netsuite.soap import NS, NSMAP, RECORD_TYPES, SoapNetSuiteClient as NetSuiteClient

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

RECORDS = [
    {"type": "customer", "externalId": "001A", "fields": {
        "companyName": "O'Brien & Sons <Café> 株式会社", "phone": "+1 (555) 123-4567", "url": "https://example.com",
        "comments": "line one\nline two\ttabbed", "isPerson": False}},
    {"type": "vendor", "externalId": "001B", "internalId": "42", "fields": {"companyName": "Broker", "is1099Eligible": True}},
    {"type": "contact", "externalId": "003A", "fields": {
        "company": {"externalId": "001A", "type": "customer"}, "firstName": "Zoë", "lastName": "D'Angelo",
        "email": "z@example.com", "title": ""}},
    {"type": "salesOrder", "externalId": "006A", "fields": {
        "entity": {"internalId": "7", "type": "customer"}, "tranDate": dt.date(2024, 2, 29), "memo": "Application X",
        "itemList": {"replaceAll": True, "item": [
            {"item": {"internalId": "101", "type": "serviceSaleItem"}, "quantity": 1.0, "rate": "250.5",
             "amount": 250.5, "description": "Origination"},
            {"item": {"internalId": "102", "type": "serviceSaleItem"}, "quantity": 2, "rate": "0.1", "amount": 0.2}]}}},
    {"type": "purchaseOrder", "externalId": "006A-COMMISSION", "fields": {
        "entity": {"externalId": "001B", "type": "vendor"}, "tranDate": dt.datetime(2024, 3, 1, 0, 0),
        "itemList": {"replaceAll": False, "item": [
            {"item": {"internalId": "201", "type": "servicePurchaseItem"}, "quantity": 1, "rate": "1234.56",
             "amount": 1234.56}]}}},
]


LINE_TYPES = {"salesOrder": ("sales", "SalesOrderItem", "SalesOrderItemList"),
              "purchaseOrder": ("purchases", "PurchaseOrderItem", "PurchaseOrderItemList")}


def zeep_record(client, record: dict):
    """The same record as zeep's own value object, built the way zeep's users build one: the reference."""
    def value(field_value):
        if isinstance(field_value, dict) and ({"internalId", "externalId"} & field_value.keys()):
            return client.record_ref(**field_value)
        if isinstance(field_value, dt.date) and not isinstance(field_value, dt.datetime):
            return dt.datetime(field_value.year, field_value.month, field_value.day)
        return field_value

    fields = {}
    for name, field_value in record.get("fields", {}).items():
        if name == "itemList":
            namespace, line_type, list_type = LINE_TYPES[record["type"]]
            lines = [client._type(namespace, line_type)(**{k: value(v) for k, v in line.items()}) for line in field_value["item"]]
            fields[name] = client._type(namespace, list_type)(item=lines, replaceAll=field_value.get("replaceAll", True))
        else:
            fields[name] = value(field_value)
    namespace, type_name = RECORD_TYPES[record["type"]]
    return client._type(namespace, type_name)(externalId=record.get("externalId"), internalId=record.get("internalId"), **fields)


def shape(element) -> tuple:
    """An element as comparable data: namespace-qualified tag, attributes (xsi:type resolved to a QName), text and
    children; prefixes, which differ between renderers, play no part."""
    attributes = {}
    for name, value in element.attrib.items():
        if name == XSI_TYPE:
            prefix, _, local = value.rpartition(":")
            value = f"{{{element.nsmap[prefix or None]}}}{local}"
        attributes[name] = value
    return (element.tag, tuple(sorted(attributes.items())), (element.text or "").strip() if not len(element) else "",
            tuple(shape(child) for child in element))


@pytest.fixture
def client(settings):
    settings.NETSUITE = {**settings.NETSUITE, "ENDPOINT": "http://127.0.0.1:9/unused"}
    return NetSuiteClient()


@pytest.mark.parametrize("record", RECORDS, ids=[r["type"] for r in RECORDS])
def test_rendered_record_is_what_zeep_renders(client, record):
    request = etree.Element(f"{{{NS['messages']}}}upsertList", nsmap=NSMAP)
    ours = client.record_element(request, record)
    # Serialised and parsed back, as NetSuite reads it.
    ours = etree.fromstring(etree.tostring(request))[0]

    envelope = client.client.create_message(client.service, "upsertList", _soapheaders=client._headers(),
                                            record=[zeep_record(client, record)])
    zeeps = envelope.find(f".//{{{NS['messages']}}}record")
    assert shape(ours) == shape(zeeps)


def test_a_field_the_type_lacks_fails_that_record_only(client):
    request = etree.Element(f"{{{NS['messages']}}}upsertList", nsmap=NSMAP)
    client.record_element(request, RECORDS[0])
    with pytest.raises(ValueError, match="Customer has no field 'favouriteColour'"):
        client.record_element(request, {"type": "customer", "externalId": "X", "fields": {"favouriteColour": "red"}})
    with pytest.raises(ValueError, match="Unknown NetSuite record type 'vendorBill'"):
        client.record_element(request, {"type": "vendorBill", "externalId": "Z", "fields": {}})
    assert len(request) == 1  # nothing half-rendered is left in the request


def test_upsert_list_sends_the_good_records_and_fails_the_bad_one_unsent(client, settings, tmp_path):
    from sandboxes.netsuite.process import run_netsuite_sandbox

    with run_netsuite_sandbox(tmp_path / "netsuite", latency_ms=0) as netsuite:
        settings.NETSUITE = {**settings.NETSUITE, "ENDPOINT": netsuite.endpoint, "ACCOUNT": netsuite.account,
                             "CONSUMER_KEY": netsuite.consumer_key, "CONSUMER_SECRET": netsuite.consumer_secret,
                             "TOKEN_ID": netsuite.token_id, "TOKEN_SECRET": netsuite.token_secret}
        results = NetSuiteClient().upsert_list([
            RECORDS[0],
            {"type": "customer", "externalId": "BAD", "fields": {"companyName": "Two", "favouriteColour": "red"}},
            {"type": "customer", "externalId": "003", "fields": {"companyName": "Nul\x00Bell\x07Third"}},
        ])
        stats = netsuite.stats()
    assert [r.success for r in results] == [True, False, True]
    assert results[1].code == "HUB_INVALID_RECORD" and "has no field 'favouriteColour'" in results[1].message
    assert results[0].external_id == "001A" and results[2].external_id == "003" and results[2].internal_id
    # What XML cannot carry is removed, and the result says so rather than refusing the record.
    assert "companyName: removed 2 character(s) XML cannot carry" in results[2].note and not results[0].note
    assert stats["requests"]["upsertList"] == 1 and stats["records"]["customer"] == 2


def _without_none(value):
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value


def test_search_records_read_as_zeep_reads_them(client, settings, tmp_path):
    from sandboxes.netsuite.process import run_netsuite_sandbox
    from syncs.clients.netsuite.soap import plain

    with run_netsuite_sandbox(tmp_path / "netsuite", latency_ms=0) as netsuite:
        settings.NETSUITE = {**settings.NETSUITE, "ENDPOINT": netsuite.endpoint, "ACCOUNT": netsuite.account,
                             "CONSUMER_KEY": netsuite.consumer_key, "CONSUMER_SECRET": netsuite.consumer_secret,
                             "TOKEN_ID": netsuite.token_id, "TOKEN_SECRET": netsuite.token_secret}
        ours = NetSuiteClient()
        written = ours.upsert_list(RECORDS[:2] + [dict(RECORDS[3], fields={**RECORDS[3]["fields"], "entity": {"externalId": "001A", "type": "customer"}}),
                                                  RECORDS[4]])
        assert all(result.success for result in written), written
        netsuite.pay(days=1, per_day=1, seed=3, backdate=False)
        for transaction_type, bodies_only in (("salesOrder", True), ("purchaseOrder", False), ("customerPayment", False)):
            page = ours.search_transactions(transaction_type=transaction_type, modified_since=None,
                                            body_fields_only=bodies_only)
            assert page.records, transaction_type
            search = ours._type("common", "TransactionSearchBasic")(
                type=ours._type("core", "SearchEnumMultiSelectField")(operator="anyOf", searchValue=[f"_{transaction_type}"]))
            response = ours.service.search(searchRecord=search, _soapheaders=ours._headers(
                searchPreferences=ours._search_preferences(1000, bodies_only)))
            zeeps = [_without_none(plain(record)) for record in response.body.searchResult.recordList.record]
            for mine, theirs in zip([_without_none(record) for record in page.records], zeeps):
                assert set(mine) == set(theirs), (set(mine) ^ set(theirs))
                for key in mine:
                    assert mine[key] == theirs[key], (key, mine[key], theirs[key])
            assert len(page.records) == len(zeeps)
            assert (page.total_records, page.total_pages, page.page_index) == (len(zeeps), 1, 1)
