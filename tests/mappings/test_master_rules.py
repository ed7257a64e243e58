import pytest
from django.core.exceptions import ValidationError

from mappings.models import FieldMapping, MasterRule
from syncs.models import SyncJob

pytestmark = pytest.mark.django_db


def test_it_refuses_a_second_master_for_one_record_type():
    rival = MasterRule(record_type="Account", master_system="netsuite", read_only_in="salesforce")
    with pytest.raises(ValidationError) as error:
        rival.full_clean()
    assert "record_type" in error.value.message_dict


def test_it_refuses_a_rule_read_only_in_its_own_master():
    rule = MasterRule.objects.get(record_type="Remittance")
    rule.read_only_in = "netsuite"
    with pytest.raises(ValidationError, match="read-only in its own master"):
        rule.full_clean()


def test_it_refuses_owned_fields_that_are_not_a_list_of_names():
    rule = MasterRule.objects.get(record_type="Application")
    rule.fields_owned_by_other = {"NetSuite_Sales_Order_Id__c": True}
    with pytest.raises(ValidationError):
        rule.full_clean()


def test_it_lets_a_pull_write_only_the_fields_netsuite_owns_on_an_application():
    rule = MasterRule.objects.get(record_type="Application")
    assert rule.may_write(system="salesforce", fields=["NetSuite_Sales_Order_Number__c"])
    assert not rule.may_write(system="salesforce", fields=["NetSuite_Sales_Order_Number__c", "StageName"])
    assert not rule.may_write(system="salesforce", fields=[])
    assert rule.may_write(system="netsuite", fields=["anything"])


def test_it_refuses_remittance_writes_into_netsuite():
    rule = MasterRule.objects.get(record_type="Remittance")
    assert not rule.may_write(system="netsuite", fields=["payment"])
    assert rule.may_write(system="salesforce", fields=["Amount__c"])


def test_it_requires_an_argument_for_a_value_map_transform():
    mapping = FieldMapping(job=SyncJob.objects.get(name="push_accounts"), source_field="Type", target_field="x", transform="value_map")
    with pytest.raises(ValidationError, match="needs an argument"):
        mapping.full_clean()
