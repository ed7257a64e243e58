"""Value mappings checked against what each side of their category is: NetSuite items by internal id, Salesforce
picklists, the hub's own fixed words."""
import pytest

from mappings import services
from mappings.services import LookupUnreachable, ValueLookups, value_mapping_check


@pytest.fixture
def lookups(monkeypatch):
    asked = []

    def netsuite_names(record_type, ids):
        asked.append((record_type, ids))
        return {"201": "BROKER-COMMISSION"} if record_type == "servicePurchaseItem" else {"101": "FEE-ORIG"}

    def picklist(object_name, field_name):
        return {("Opportunity", "StageName"): (["Approved", "Funded", "Declined"], True),
                ("Account", "Type"): (["Merchant", "Broker"], False)}.get((object_name, field_name), ([], False))

    monkeypatch.setattr(services, "_value_lookups", ValueLookups(netsuite_names, picklist))
    return asked


def test_it_refuses_a_netsuite_item_that_does_not_exist_naming_it(lookups):
    check = value_mapping_check(category="commission_item", source_value="BROKER-COMMISSION", target_value="999")
    assert check.problems == {"target_value": "NetSuite has no service purchase item with internal id 999."}
    assert lookups == [("servicePurchaseItem", ["999"])]


def test_it_accepts_an_item_netsuite_has(lookups):
    assert value_mapping_check(category="commission_item", source_value="BROKER-COMMISSION", target_value="201").ok


def test_it_refuses_a_word_the_hub_does_not_read_and_a_restricted_picklist_value(lookups):
    check = value_mapping_check(category="application_stage", source_value="Funded-ish", target_value="later")
    assert "has no value 'Funded-ish'" in check.problems["source_value"]
    assert check.problems["target_value"] == "What the hub does must be one of push, never; 'later' is not."


def test_it_lets_an_unrestricted_picklist_carry_other_values(lookups):
    assert value_mapping_check(category="account_type", source_value="Partner", target_value="customer").ok


def test_it_says_so_when_netsuite_cannot_be_asked(monkeypatch):
    def unreachable(record_type, ids):
        raise LookupUnreachable("NetSuite could not be asked for fee items (timeout).")

    monkeypatch.setattr(services, "_value_lookups", ValueLookups(unreachable, lambda o, f: ([], False)))
    check = value_mapping_check(category="fee_item", source_value="FEE-ORIG", target_value="101")
    assert not check.ok and check.unreachable == ["NetSuite could not be asked for fee items (timeout)."]
