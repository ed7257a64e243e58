"""Mappings that target NetSuite custom fields by script id are checked against what the account declares (the schema
reader puts the declared script ids among each record type's fields): one it doesn't declare is refused, naming it."""
from mappings.services import LookupUnreachable, MappingSchemas, mapping_validate
from mappings.transforms import MappingRow

ORDER_FIELDS = {"externalId", "entity", "tranDate", "memo", "currency", "subsidiary", "custbody_payback_amount"}


def schemas(**netsuite_fields) -> MappingSchemas:
    return MappingSchemas(push=True, salesforce_object="Opportunity",
                          salesforce_fields={"Id", "Payback_Amount__c", "Factor_Rate__c", "CurrencyIsoCode"},
                          netsuite_fields=netsuite_fields, routing_fields=("externalId",))


def test_a_declared_custom_field_and_subsidiary_and_currency_pass():
    check = mapping_validate(schemas=schemas(salesOrder=ORDER_FIELDS), rows=[
        MappingRow("Payback_Amount__c", "custbody_payback_amount", "decimal", "2"),
        MappingRow("CurrencyIsoCode", "currency", "netsuite_ref", "currency")])
    assert check.ok, check.problems


def test_a_custom_field_the_account_does_not_declare_is_refused_naming_it():
    check = mapping_validate(schemas=schemas(salesOrder=ORDER_FIELDS), rows=[
        MappingRow("Payback_Amount__c", "custbody_payback_amount", "decimal", "2"),
        MappingRow("Factor_Rate__c", "custbody_factor_rte", "decimal", "4")])

    assert [(p.row, p.field) for p in check.problems] == [(1, "target_field")]
    assert check.problems[0].message.startswith("NetSuite SalesOrder declares no custom field 'custbody_factor_rte'")


def test_a_line_custom_field_is_checked_on_the_line_type_and_a_customfieldlist_path_is_refused():
    check = mapping_validate(schemas=schemas(salesOrderItem={"item", "amount", "custcol_fee_type"}), rows=[
        MappingRow("Id", "custcol_fee_type", "value_map", "fee_type"),
        MappingRow("Id", "custcol_fee_kind"),
        MappingRow("Id", "customFieldList.custcol_fee_type")])

    assert [p.row for p in check.problems] == [1, 2]
    assert "SalesOrderItem declares no custom field 'custcol_fee_kind'" in check.problems[0].message
    assert "by its script id alone: 'custcol_fee_type'" in check.problems[1].message


def test_the_declared_custom_fields_are_asked_for_only_when_a_row_names_one_and_an_unreachable_account_is_said():
    asked = []

    def unreachable(record_type):
        asked.append(record_type)
        raise LookupUnreachable(f"NetSuite's custom fields of {record_type} could not be read (timeout).")

    standard = schemas(salesOrder={"externalId", "memo"})
    standard.netsuite_custom_fields = unreachable
    assert mapping_validate(schemas=standard, rows=[MappingRow("Id", "memo")]).ok and asked == []

    check = mapping_validate(schemas=standard, rows=[MappingRow("Payback_Amount__c", "custbody_payback_amount")])
    assert asked == ["salesOrder"] and not check.problems
    assert check.unreachable == ["NetSuite's custom fields of salesOrder could not be read (timeout)."]
