"""The sandbox's custom fields, subsidiaries and currencies over SOAP (every response checked against Oracle's XSDs,
by the sandbox and by the client) and REST: definitions found as a client finds them, values kept as the declared
CustomFieldRef whichever transport wrote them, and NetSuite's refusals for each record alone."""
import datetime as dt

import pytest

from .conftest import error_code

pytestmark = pytest.mark.slow

SETUP = "urn:customization_2023_2.setup.webservices.netsuite.com"


def codes(write_response):
    return [detail.code for detail in write_response.status.statusDetail]


def message(write_response):
    return write_response.status.statusDetail[0].message


def test_a_client_discovers_the_custom_fields_with_get_customization_id_and_get_list(netsuite):
    kind = netsuite.core.CustomizationType(getCustomizationType="transactionBodyCustomField")
    result = netsuite.service.getCustomizationId(customizationType=kind, includeInactives=False,
                                                 _soapheaders=netsuite.headers()).body.getCustomizationIdResult
    refs = {ref.scriptId: ref for ref in result.customizationRefList.customizationRef}
    assert {"custbody_payback_amount", "custbody_funded_date", "custbody_sf_application_id"} <= set(refs)
    assert int(result.totalRecords) == len(refs)

    wanted = [netsuite.ref(internalId=refs[name].internalId, type="transactionBodyCustomField")
              for name in ("custbody_payback_amount", "custbody_funded_date")]
    reads = netsuite.service.getList(baseRef=wanted, _soapheaders=netsuite.headers()).body.readResponseList.readResponse
    payback, funded = (read.record for read in reads)
    assert type(payback).__name__ == "TransactionBodyCustomField"
    assert (payback.label, payback.fieldType, payback.bodySale, payback.isMandatory) == (
        "Payback Amount", "_currency", True, False)
    assert funded.fieldType == "_date"

    column = netsuite.core.CustomizationType(getCustomizationType="transactionColumnCustomField")
    columns = netsuite.service.getCustomizationId(customizationType=column, includeInactives=False,
                                                  _soapheaders=netsuite.headers()).body.getCustomizationIdResult
    fee_type = next(ref for ref in columns.customizationRefList.customizationRef if ref.scriptId == "custcol_fee_type")
    definition = netsuite.get("transactionColumnCustomField", internalId=fee_type.internalId).record
    values = netsuite.get("customList", internalId=definition.selectRecordType.internalId).record
    assert definition.colSale is True and definition.fieldType == "_listRecord"
    assert [(v.valueId, v.value) for v in values.customValueList.customValue][:2] == [(1, "Origination"),
                                                                                     (2, "Underwriting")]


def test_typed_custom_fields_round_trip_on_soap_body_and_lines(netsuite, unique):
    core = netsuite.core
    netsuite.upsert_list([netsuite.customer(f"{unique}-C")])
    order = netsuite.sales_order(
        f"{unique}-SO", f"{unique}-C", [netsuite.fee_line("101", customFieldList=core.CustomFieldList(customField=[
            core.SelectCustomFieldRef(scriptId="custcol_fee_type", value=core.ListOrRecordRef(internalId="1"))]))],
        customFieldList=core.CustomFieldList(customField=[
            core.StringCustomFieldRef(scriptId="custbody_sf_application_id", value="006XYZ"),
            core.DoubleCustomFieldRef(scriptId="custbody_payback_amount", value=13500.5),
            core.DoubleCustomFieldRef(scriptId="custbody_factor_rate", value=1.35),
            core.DoubleCustomFieldRef(scriptId="custbody_holdback_percent", value=12.0),
            core.DateCustomFieldRef(scriptId="custbody_funded_date", value=dt.datetime(2024, 3, 1)),
            core.BooleanCustomFieldRef(scriptId="custbody_ach_debit", value=True)]))
    written = netsuite.upsert_list([order]).writeResponse[0]
    assert written.status.isSuccess, written.status

    record = netsuite.get("salesOrder", externalId=f"{unique}-SO").record
    fields = {f.scriptId: f for f in record.customFieldList.customField}
    assert {name: type(f).__name__ for name, f in fields.items()} == {
        "custbody_sf_application_id": "StringCustomFieldRef", "custbody_payback_amount": "DoubleCustomFieldRef",
        "custbody_factor_rate": "DoubleCustomFieldRef", "custbody_holdback_percent": "DoubleCustomFieldRef",
        "custbody_funded_date": "DateCustomFieldRef", "custbody_ach_debit": "BooleanCustomFieldRef"}
    assert fields["custbody_payback_amount"].value == 13500.5 and fields["custbody_ach_debit"].value is True
    assert fields["custbody_funded_date"].value.date() == dt.date(2024, 3, 1)
    line_field = record.itemList.item[0].customFieldList.customField[0]
    assert (line_field.scriptId, line_field.value.internalId, line_field.value.name) == ("custcol_fee_type", "1",
                                                                                         "Origination")


def test_each_bad_custom_field_fails_its_record_alone_with_netsuites_code(netsuite, unique):
    core = netsuite.core
    netsuite.upsert_list([netsuite.customer(f"{unique}-C")])

    def order(suffix, *fields, line_fields=()):
        line = netsuite.fee_line("102", **({"customFieldList": core.CustomFieldList(customField=list(line_fields))}
                                           if line_fields else {}))
        return netsuite.sales_order(f"{unique}-{suffix}", f"{unique}-C", [line],
                                    customFieldList=core.CustomFieldList(customField=list(fields)) if fields else None)

    responses = netsuite.upsert_list([
        order("UNDECLARED", core.StringCustomFieldRef(scriptId="custbody_nobody", value="x")),
        order("WRONGTYPE", core.StringCustomFieldRef(scriptId="custbody_payback_amount", value="a lot")),
        order("NOTLISTED", line_fields=[core.SelectCustomFieldRef(scriptId="custcol_fee_type",
                                                                  value=core.ListOrRecordRef(internalId="9"))]),
        order("ENTITYFIELD", core.StringCustomFieldRef(scriptId="custentity_sf_account_id", value="001")),
        order("FINE", core.DoubleCustomFieldRef(scriptId="custbody_factor_rate", value=1.2)),
    ]).writeResponse

    assert [codes(r) for r in responses[:4]] == [["INVALID_CSTM_FIELD_REF"], ["INVALID_CSTM_FIELD_DATA_TYP"],
                                                 ["INVALID_KEY_OR_REF"], ["INVALID_CSTM_FIELD_REF"]]
    assert "custbody_nobody" in message(responses[0]) and "Invalid custcol_fee_type reference key 9." == message(responses[2])
    assert responses[4].status.isSuccess
    assert netsuite.get("salesOrder", externalId=f"{unique}-UNDECLARED").record is None


def test_a_mandatory_custom_field_refuses_a_record_without_it_on_both_transports(netsuite, rest, unique):
    netsuite.sandbox.declare_custom_fields({"scriptId": "custentity_risk_tier", "label": "Risk Tier", "type": "integer",
                                            "mandatory": True, "appliesTo": ["vendor"]})
    try:
        soap = netsuite.upsert_list([
            netsuite.rel.Vendor(externalId=f"{unique}-V1", companyName="No tier"),
            netsuite.rel.Vendor(externalId=f"{unique}-V2", companyName="Tiered", customFieldList=netsuite.core.CustomFieldList(
                customField=[netsuite.core.LongCustomFieldRef(scriptId="custentity_risk_tier", value=2)]))]).writeResponse
        missing = rest.put(f"vendor/eid:{unique}-V3", {"companyName": "No tier either"})
        given = rest.put(f"vendor/eid:{unique}-V4", {"companyName": "Tier over REST", "custentity_risk_tier": 3})
    finally:
        netsuite.sandbox.declare_custom_fields({"scriptId": "custentity_risk_tier", "label": "Risk Tier",
                                                "type": "integer", "appliesTo": ["vendor"]})

    assert codes(soap[0]) == ["USER_ERROR"] and message(soap[0]) == "Please enter value(s) for: Risk Tier"
    assert soap[1].status.isSuccess
    assert missing.status_code == 400 and "Please enter value(s) for: Risk Tier" in missing.json()["o:errorDetails"][0]["detail"]
    assert given.status_code == 204, given.text
    tier = netsuite.get("vendor", externalId=f"{unique}-V4").record.customFieldList.customField[0]
    assert (type(tier).__name__, tier.value) == ("LongCustomFieldRef", 3)


def test_rest_writes_and_reads_custom_fields_as_plain_properties_listed_in_the_catalog(rest, netsuite, unique):
    schema = rest.get("metadata-catalog/salesOrder", headers={"Accept": "application/schema+json"}).json()
    payback = schema["properties"]["custbody_payback_amount"]
    line = schema["properties"]["item"]["properties"]["items"]["items"]["properties"]["custcol_fee_type"]
    assert payback["x-ns-custom-field"] is True and payback["type"] == "number" and payback["title"] == "Payback Amount"
    assert schema["properties"]["custbody_funded_date"]["format"] == "date" and line["type"] == "object"

    rest.put(f"customer/eid:{unique}-C", {"companyName": "REST merchant"})
    written = rest.put(f"salesOrder/eid:{unique}-SO", {
        "entity": {"externalId": f"{unique}-C"}, "custbody_payback_amount": 26000, "custbody_funded_date": "2024-03-01",
        "custbody_ach_debit": False, "item": {"items": [{"item": {"id": "103"}, "amount": 150,
                                                         "custcol_fee_type": {"id": "3"}}]}})
    assert written.status_code == 204, written.text

    order = rest.get(f"salesOrder/eid:{unique}-SO", params={"expandSubResources": "true"}).json()
    assert order["custbody_payback_amount"] == 26000.0 and order["custbody_funded_date"] == "2024-03-01"
    assert order["custbody_ach_debit"] is False
    assert order["item"]["items"][0]["custcol_fee_type"] == {"id": "3", "refName": "ACH Program"}
    soap_fields = {f.scriptId: f for f in netsuite.get("salesOrder", externalId=f"{unique}-SO").record.customFieldList.customField}
    assert type(soap_fields["custbody_payback_amount"]).__name__ == "DoubleCustomFieldRef"
    assert soap_fields["custbody_funded_date"].value.date() == dt.date(2024, 3, 1)

    wrong = rest.put(f"salesOrder/eid:{unique}-SO2", {"entity": {"externalId": f"{unique}-C"},
                                                      "custbody_funded_date": "first of March",
                                                      "item": {"items": [{"item": {"id": "103"}, "amount": 150}]}})
    assert wrong.status_code == 400 and "custbody_funded_date" in wrong.json()["o:errorDetails"][0]["detail"]


def test_subsidiaries_and_currencies_follow_oneworlds_rules(netsuite, rest, unique):
    europe, parent = netsuite.ref(internalId="2"), netsuite.ref(internalId="1")
    eur, gbp = netsuite.ref(internalId="2"), netsuite.ref(internalId="3")
    customers = netsuite.upsert_list([
        netsuite.rel.Customer(externalId=f"{unique}-EU", companyName="Bäckerei AG", isPerson=False, subsidiary=europe),
        netsuite.rel.Customer(externalId=f"{unique}-XX", companyName="Nowhere Ltd", isPerson=False,
                              subsidiary=netsuite.ref(internalId="9")),
        netsuite.rel.Customer(externalId=f"{unique}-US", companyName="Austin Tacos", isPerson=False, currency=gbp),
    ]).writeResponse
    assert customers[0].status.isSuccess and customers[2].status.isSuccess
    assert codes(customers[1]) == ["INVALID_KEY_OR_REF"] and message(customers[1]) == "Invalid subsidiary reference key 9."
    customer = netsuite.get("customer", externalId=f"{unique}-EU").record
    assert (customer.subsidiary.name, customer.currency.name) == ("Europe B.V.", "EUR")
    assert [c.currency.name for c in customer.currencyList.currency] == ["EUR"]

    orders = netsuite.upsert_list([
        netsuite.sales_order(f"{unique}-EUR", f"{unique}-EU", [netsuite.fee_line()], currency=eur),
        netsuite.sales_order(f"{unique}-GBP", f"{unique}-EU", [netsuite.fee_line()], currency=gbp),
        netsuite.sales_order(f"{unique}-PAR", f"{unique}-EU", [netsuite.fee_line()], subsidiary=parent),
        netsuite.sales_order(f"{unique}-DEF", f"{unique}-US", [netsuite.fee_line()]),
    ]).writeResponse
    assert orders[0].status.isSuccess and orders[3].status.isSuccess
    assert codes(orders[1]) == ["MISMATCHED_CURRENCY"] and "its currencies: EUR" in message(orders[1])
    assert codes(orders[2]) == ["SUBSIDIARY_MISMATCH"] and "Europe B.V." in message(orders[2])
    euro_order = netsuite.get("salesOrder", externalId=f"{unique}-EUR").record
    pounds_order = netsuite.get("salesOrder", externalId=f"{unique}-DEF").record
    assert (euro_order.subsidiary.internalId, euro_order.currency.name) == ("2", "EUR")
    assert (pounds_order.subsidiary.name, pounds_order.currency.name) == ("Parent Company", "GBP")

    moved = netsuite.upsert_list([netsuite.rel.Customer(externalId=f"{unique}-EU", subsidiary=parent)]).writeResponse[0]
    assert codes(moved) == ["SUBSIDIARY_CHANGE_NOT_ALLOWED"] and "it has transactions" in message(moved)
    moved_over_rest = rest.patch(f"customer/eid:{unique}-EU", {"subsidiary": {"id": "1"}})
    assert moved_over_rest.status_code == 400 and "it has transactions" in moved_over_rest.json()["o:errorDetails"][0]["detail"]

    assert netsuite.get("subsidiary", internalId="2").record.currency.name == "EUR"
    rows = rest.rows("SELECT id, name, currency FROM subsidiary ORDER BY id")
    assert [(r["id"], r["name"], r["currency"]) for r in rows] == [("1", "Parent Company", "1"), ("2", "Europe B.V.", "2")]
    assert rest.get("currency/2").json()["name"] == "EUR"
