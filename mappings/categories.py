"""The value-mapping categories the jobs' mappings use, and what each side of a category's values must be.

A category is read by name by a field mapping's value_map transform (syncs/catalog.py), so a category the jobs do not
know maps nothing: ops choose one of these rather than type a name. Each side says where its values come from, so a
value mapping is checked on save against the live system (mappings.services.value_mapping_check): a NetSuite item by
internal id, a Salesforce picklist value from the describe, or one of a fixed set of words the hub itself reads.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class ValueSide:
    """Where the values of one side of a category live."""

    label: str
    # "netsuite_record": an internal id of `record_type` in NetSuite; "salesforce_picklist": a value of
    # `object_name`.`field_name`'s picklist; "choices": one of `choices`; "free": anything (e.g. a product code).
    kind: str = "free"
    record_type: str = ""
    object_name: str = ""
    field_name: str = ""
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class ValueCategory:
    name: str
    title: str
    source: ValueSide
    target: ValueSide


def netsuite_record(label: str, record_type: str) -> ValueSide:
    return ValueSide(label, "netsuite_record", record_type=record_type)


def salesforce_picklist(label: str, object_name: str, field_name: str) -> ValueSide:
    return ValueSide(label, "salesforce_picklist", object_name=object_name, field_name=field_name)


def choices(label: str, *values: str) -> ValueSide:
    return ValueSide(label, "choices", choices=values)


VALUE_CATEGORIES = {category.name: category for category in [
    ValueCategory("account_type", "Account type → NetSuite record",
                  salesforce_picklist("Salesforce Account Type", "Account", "Type"),
                  choices("NetSuite record type", "customer", "vendor")),
    ValueCategory("fee_item", "Fee product code → NetSuite service sale item",
                  ValueSide("Salesforce product code (OpportunityLineItem.ProductCode)"),
                  netsuite_record("NetSuite service sale item (internal id)", "serviceSaleItem")),
    ValueCategory("commission_item", "Commission line → NetSuite service purchase item",
                  ValueSide("The commission line's code"),
                  netsuite_record("NetSuite service purchase item (internal id)", "servicePurchaseItem")),
    ValueCategory("application_stage", "Application stage → what the hub does",
                  salesforce_picklist("Salesforce Application (Opportunity) stage", "Opportunity", "StageName"),
                  # "push": the application becomes a NetSuite order; "never": it stays in Salesforce.
                  choices("What the hub does", "push", "never")),
    ValueCategory("subsidiary", "Country → NetSuite subsidiary",
                  ValueSide("Salesforce billing country (Account.BillingCountry)"),
                  netsuite_record("NetSuite subsidiary (internal id)", "subsidiary")),
    ValueCategory("currency", "Currency ISO code → NetSuite currency",
                  ValueSide("Salesforce currency ISO code (CurrencyIsoCode)"),
                  netsuite_record("NetSuite currency (internal id)", "currency")),
    ValueCategory("fee_type", "Fee product code → the order line's Fee Type (custcol_fee_type)",
                  ValueSide("Salesforce product code (OpportunityLineItem.ProductCode)"),
                  ValueSide("The Fee Type list's value (internal id)")),
    ValueCategory("payment_method", "NetSuite payment method → Remittance method",
                  ValueSide("NetSuite payment method name"),
                  salesforce_picklist("Salesforce Remittance Method", "Remittance__c", "Method__c")),
]}

CATEGORY_CHOICES = [(category.name, category.title) for category in VALUE_CATEGORIES.values()]
