"""Dry-run previews against the two sandboxes: the exact record a job would send, and nothing written."""
import pytest

from mappings.models import ValueMapping
from syncs.previews import mapping_preview
from syncs.models import SyncAttempt
from syncs.services import sync_run

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_it_previews_a_push_record_without_writing(hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    before = netsuite.stats()["records"]
    preview = mapping_preview(job_name="push_accounts")
    assert preview.error == "" and preview.payload["type"] in ("customer", "vendor")
    assert preview.payload["externalId"] == preview.source_record["Id"]
    assert preview.payload["fields"]["companyName"] == preview.source_record["Name"][:83]
    assert netsuite.stats()["records"] == before and not SyncAttempt.objects.exists()


def test_it_previews_the_deal_terms_as_the_custom_fields_netsuite_declares(hub_on_sandboxes):
    sync_run(job_name="push_accounts")
    preview = mapping_preview(job_name="push_sales_orders")
    assert preview.error == "", preview.error
    fields = preview.payload["fields"]
    assert fields["custbody_sf_application_id"] == preview.source_record["Id"]
    assert fields["custbody_payback_amount"] == round(preview.source_record["Payback_Amount__c"], 2)
    assert fields["custbody_funded_date"] == preview.source_record["Funded_Date__c"]
    assert {"custcol_fee_type"} <= set(fields["itemList"]["item"][0])
    notes = "\n".join(preview.notes)
    assert "Custom field custbody_payback_amount (Payback Amount, number, a body field)" in notes
    assert "Custom field custbody_funded_date (Funded Date, date, a body field): " + fields["custbody_funded_date"] in notes
    assert "Custom field custcol_fee_type (Fee Type, select, a line field)" in notes


def test_it_shows_the_mapping_error_a_record_would_fail_with(hub_on_sandboxes):
    ValueMapping.objects.filter(category="fee_item").delete()
    preview = mapping_preview(job_name="push_sales_orders")
    assert preview.payload is None
    assert preview.error.startswith("MAPPING_ERROR: No value mapping in 'fee_item'")


def test_it_previews_the_salesforce_write_of_a_pull(hub_on_sandboxes):
    for job_name in ("push_accounts", "push_sales_orders"):
        sync_run(job_name=job_name)
    preview = mapping_preview(job_name="pull_sales_orders")
    assert preview.error == "", preview.error
    assert preview.payload["object"] == "Opportunity"
    assert preview.payload["record"]["NetSuite_Sales_Order_Id__c"] == str(preview.source_record["internalId"])
