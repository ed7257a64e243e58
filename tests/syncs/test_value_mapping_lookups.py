"""The lookups a value mapping is checked against, over real HTTP against both sandboxes."""
import pytest

from mappings.services import value_mapping_check
from syncs.mapping_schemas import netsuite_record_names, salesforce_picklist

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_it_finds_netsuite_items_by_internal_id_and_salesforce_picklists(hub_on_sandboxes):
    assert netsuite_record_names("servicePurchaseItem", ["201", "999"]) == {"201": "BROKER-COMMISSION"}
    assert netsuite_record_names("serviceSaleItem", ["101"]) == {"101": "FEE-ORIG"}
    values, restricted = salesforce_picklist("Opportunity", "StageName")
    assert "Funded" in values and restricted


def test_it_refuses_a_fee_item_netsuite_does_not_have(hub_on_sandboxes):
    check = value_mapping_check(category="fee_item", source_value="FEE-WIRE", target_value="999")
    assert check.problems == {"target_value": "NetSuite has no service sale item with internal id 999."}
    assert value_mapping_check(category="fee_item", source_value="FEE-WIRE", target_value="104").ok


def test_it_checks_subsidiary_and_currency_mappings_against_the_account(hub_on_sandboxes):
    assert netsuite_record_names("subsidiary", ["1", "2", "9"]) == {"1": "Parent Company", "2": "Europe B.V."}
    assert netsuite_record_names("currency", ["2"]) == {"2": "EUR"}
    assert value_mapping_check(category="subsidiary", source_value="Germany", target_value="2").ok
    check = value_mapping_check(category="currency", source_value="JPY", target_value="7")
    assert check.problems == {"target_value": "NetSuite has no currency with internal id 7."}
