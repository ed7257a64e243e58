"""Custom fields on the hub's side of both transports (pure: no server): a mapped value becomes the declared type's
CustomFieldRef on SOAP, as zeep would render it and as Oracle's XSD allows, and a plain typed property on REST; an
undeclared field or a value its type can't take fails that record alone."""
import datetime as dt
from decimal import Decimal

import pytest
from lxml import etree

from sandboxes.netsuite.process import default_wsdl
from sandboxes.netsuite.wsdl import WsdlSet
from syncs.clients.netsuite.custom_fields import CustomField, CustomFieldValueError, DefinitionCache, typed_value
from syncs.clients.netsuite.rest_records import RecordShapeError, record_item
from syncs.clients.netsuite.soap import NS, NSMAP, SoapNetSuiteClient

from .test_netsuite_xml import shape

DECLARED = {
    "salesOrder": {f.script_id: f for f in [
        CustomField("custbody_sf_application_id", "text"), CustomField("custbody_payback_amount", "number"),
        CustomField("custbody_term_days", "integer"), CustomField("custbody_funded_date", "date"),
        CustomField("custbody_ach_debit", "checkbox"), CustomField("custbody_channel", "select")]},
    "salesOrderItem": {"custcol_fee_type": CustomField("custcol_fee_type", "select")},
}
ORDER = {"type": "salesOrder", "externalId": "006CF", "fields": {
    "entity": {"internalId": "7", "type": "customer"}, "currency": {"internalId": "2", "type": "currency"},
    "custbody_sf_application_id": "006000000000001AAA", "custbody_payback_amount": 13500.0,
    "custbody_term_days": "120", "custbody_funded_date": "2024-03-01", "custbody_ach_debit": "yes",
    "custbody_channel": "3",
    "itemList": {"replaceAll": True, "item": [
        {"item": {"internalId": "101", "type": "serviceSaleItem"}, "amount": 250.0, "custcol_fee_type": "1"}]}}}


@pytest.fixture
def client(settings):
    settings.NETSUITE = {**settings.NETSUITE, "ENDPOINT": "http://127.0.0.1:9/unused-custom-fields"}
    soap = SoapNetSuiteClient()
    soap._definitions = DefinitionCache(lambda _all: DECLARED)   # the account's definitions, without a server
    return soap


def test_soap_renders_each_declared_type_as_zeep_would_and_as_the_xsd_allows(client):
    request = etree.Element(f"{{{NS['messages']}}}upsertList", nsmap=NSMAP)
    client.record_element(request, ORDER)
    ours = etree.fromstring(etree.tostring(request))[0]

    core = lambda name, **values: client._type("core", name)(**values)  # noqa: E731
    zeep_order = client._type("sales", "SalesOrder")(
        externalId="006CF", entity=client.record_ref(internalId="7", type="customer"),
        currency=client.record_ref(internalId="2", type="currency"),
        itemList=client._type("sales", "SalesOrderItemList")(replaceAll=True, item=[client._type("sales", "SalesOrderItem")(
            item=client.record_ref(internalId="101", type="serviceSaleItem"), amount=250.0,
            customFieldList=core("CustomFieldList", customField=[core("SelectCustomFieldRef", scriptId="custcol_fee_type",
                                                                      value=core("ListOrRecordRef", internalId="1"))]))]),
        customFieldList=core("CustomFieldList", customField=[
            core("StringCustomFieldRef", scriptId="custbody_sf_application_id", value="006000000000001AAA"),
            core("DoubleCustomFieldRef", scriptId="custbody_payback_amount", value=13500.0),
            core("LongCustomFieldRef", scriptId="custbody_term_days", value=120),
            core("DateCustomFieldRef", scriptId="custbody_funded_date", value=dt.datetime(2024, 3, 1)),
            core("BooleanCustomFieldRef", scriptId="custbody_ach_debit", value=True),
            core("SelectCustomFieldRef", scriptId="custbody_channel", value=core("ListOrRecordRef", internalId="3"))]))
    envelope = client.client.create_message(client.service, "upsertList", _soapheaders=client._headers(),
                                            record=[zeep_order])
    assert shape(ours) == shape(envelope.find(f".//{{{NS['messages']}}}record"))

    body = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
    body.remove(body[0])
    body.append(request)
    validator = WsdlSet(default_wsdl()).compile_validator()
    assert validator.validate(envelope), validator.error_log.last_error
    types = [field.get("{http://www.w3.org/2001/XMLSchema-instance}type").rpartition(":")[2]
             for field in ours.iter(f"{{{NS['core']}}}customField")]
    assert types == ["SelectCustomFieldRef", "StringCustomFieldRef", "DoubleCustomFieldRef", "LongCustomFieldRef",
                     "DateCustomFieldRef", "BooleanCustomFieldRef", "SelectCustomFieldRef"]


def test_soap_fails_alone_a_record_with_an_undeclared_custom_field_or_a_value_its_type_cannot_take(client, monkeypatch):
    sent = []
    monkeypatch.setattr(client, "_write_list", lambda request, hold: sent.append(len(request)) or [])
    undeclared = {**ORDER, "fields": {**ORDER["fields"], "custbody_nobody_declared": "x"}}
    not_a_date = {**ORDER, "fields": {**ORDER["fields"], "custbody_funded_date": "first of March"}}
    results = client.upsert_list([undeclared, not_a_date])

    assert [r.code for r in results] == ["HUB_INVALID_RECORD", "HUB_INVALID_RECORD"]
    assert "no custom field 'custbody_nobody_declared' on salesOrder" in results[0].message
    assert "custbody_funded_date is a date custom field: 'first of March'" in results[1].message
    assert sent == []


def test_rest_sends_custom_fields_as_plain_typed_properties():
    item, replaced = record_item(ORDER, custom_fields=DECLARED.get)

    assert item["custbody_payback_amount"] == 13500.0 and item["custbody_term_days"] == 120
    assert item["custbody_funded_date"] == "2024-03-01" and item["custbody_ach_debit"] is True
    assert item["custbody_channel"] == {"id": "3"} and item["currency"] == {"id": "2"}
    assert item["item"]["items"][0]["custcol_fee_type"] == {"id": "1"}
    assert replaced == ("item",)
    with pytest.raises(RecordShapeError, match="declares no custom field 'custcol_nope' on salesOrderItem"):
        record_item({**ORDER, "fields": {"itemList": {"item": [{"custcol_nope": 1}]}}}, custom_fields=DECLARED.get)


@pytest.mark.parametrize("kind, value, expected", [
    ("number", "1.15", Decimal("1.15")), ("integer", 7.0, 7), ("checkbox", "0", False), ("checkbox", True, True),
    ("date", dt.datetime(2024, 3, 1, 9, 30), dt.date(2024, 3, 1)), ("select", {"internalId": "4"}, "4"),
    ("multiselect", ["1", 2], ["1", "2"]), ("text", Decimal("1.50"), "1.50"),
])
def test_a_mapped_value_becomes_its_custom_field_type(kind, value, expected):
    assert typed_value(CustomField("custbody_x", kind), value) == expected


@pytest.mark.parametrize("kind, value", [("integer", "1.5"), ("number", "a lot"), ("checkbox", "maybe"),
                                         ("select", "Origination"), ("date", "03/01/2024")])
def test_a_value_its_custom_field_type_cannot_take_is_refused_naming_the_field(kind, value):
    with pytest.raises(CustomFieldValueError, match=f"custbody_x is a {kind} custom field"):
        typed_value(CustomField("custbody_x", kind), value)
