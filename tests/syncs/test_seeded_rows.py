import pytest

from mappings.models import FieldMapping, MasterRule, ValueMapping
from syncs.models import SyncJob

pytestmark = pytest.mark.django_db

NINE_JOBS = [
    "push_accounts", "push_contacts", "push_sales_orders", "push_sales_order_lines", "push_purchase_orders",
    "push_purchase_order_lines", "pull_sales_orders", "pull_purchase_orders", "pull_remittances",
]


def test_it_seeds_the_nine_jobs_with_their_directions():
    jobs = {job.name: job for job in SyncJob.objects.all()}
    assert sorted(jobs) == sorted(NINE_JOBS)
    assert {name for name, job in jobs.items() if job.direction == "push"} == set(NINE_JOBS[:6])
    assert all(job.source_system == "salesforce" and job.target_system == "netsuite" for job in jobs.values() if job.direction == "push")
    assert all(job.source_system == "netsuite" and job.target_system == "salesforce" for job in jobs.values() if job.direction == "pull")
    assert all(job.enabled and job.watermark_timestamp is None for job in jobs.values())


def test_it_orders_customers_before_contacts_before_orders():
    stage = dict(SyncJob.objects.values_list("name", "stage"))
    assert stage["push_accounts"] < stage["push_contacts"] < stage["push_sales_orders"] < stage["push_sales_order_lines"]
    assert stage["push_purchase_orders"] < stage["push_purchase_order_lines"]


def test_it_seeds_field_mappings_for_every_job():
    for name in NINE_JOBS:
        mappings = FieldMapping.objects.filter(job__name=name)
        assert mappings.exists(), name
        assert mappings.filter(required=True).exists(), f"{name} has no required field"
    # By target: one source field may feed several targets (the Id is the external id and a custom field too).
    account = dict(FieldMapping.objects.filter(job__name="push_accounts").values_list("target_field", "source_field"))
    assert account["externalId"] == "Id" and account["companyName"] == "Name"
    assert account["subsidiary"] == "BillingCountry" and account["currency"] == "CurrencyIsoCode"
    order = dict(FieldMapping.objects.filter(job__name="push_sales_orders").values_list("target_field", "source_field"))
    assert {target: order[target] for target in order if target.startswith("custbody_")} == {
        "custbody_sf_application_id": "Id", "custbody_payback_amount": "Payback_Amount__c",
        "custbody_factor_rate": "Factor_Rate__c", "custbody_holdback_percent": "Holdback_Percent__c",
        "custbody_funded_date": "Funded_Date__c"}


def test_it_seeds_fee_items_and_account_types():
    fee_items = dict(ValueMapping.objects.filter(category="fee_item").values_list("source_value", "target_value"))
    assert fee_items == {"FEE-ORIG": "101", "FEE-UW": "102", "FEE-ACH": "103", "FEE-WIRE": "104"}
    assert ValueMapping.objects.get(category="account_type", source_value="Broker").target_value == "vendor"


def test_it_seeds_the_case_studys_master_rules():
    rules = {rule.record_type: (rule.master_system, rule.read_only_in) for rule in MasterRule.objects.all()}
    assert rules == {
        "Account": ("salesforce", "netsuite"),
        "Contact": ("salesforce", "netsuite"),
        "Application": ("salesforce", "netsuite"),
        "SalesOrder": ("salesforce", "netsuite"),
        "PurchaseOrder": ("salesforce", "netsuite"),
        "Remittance": ("netsuite", "salesforce"),
    }
