"""Ops and finance in a real browser: the dashboard after real runs, a failed record fixed and retried, a dry-run
preview, a watermark reset, and finance's commission queue."""
import re

import pytest
from playwright.sync_api import expect

from mappings.models import FieldMapping, ValueMapping
from syncs.models import SyncAttempt, SyncJob
from syncs.services import sync_run

from .conftest import log_in, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_it_takes_ops_from_the_dashboard_to_a_fixed_and_retried_record(hub_on_sandboxes, ops_user, console, enqueued_runs):
    page = console
    ValueMapping.objects.filter(category="account_type", source_value="Prospect").delete()
    accounts = sync_run(job_name="push_accounts")
    sync_run(job_name="push_contacts")
    failed = SyncAttempt.objects.filter(job__name="push_accounts", status="failed", remote_code="MAPPING_ERROR")
    assert accounts.records_written > 0 and failed.exists(), accounts.message

    log_in(page, "olivia-ops")
    row = page.locator('#job-health tr[data-job="push_accounts"]')
    expect(row.locator("td.moved")).to_have_text(str(accounts.records_written))
    expect(row.locator("td.failed")).to_have_text(str(failed.count()))
    expect(page.locator('#job-health tr[data-job="push_contacts"] td.moved')).not_to_have_text("0")
    screenshot(page, "dashboard")

    row.locator("td.failed a").click()
    page.locator("#result_list tbody tr th a, #result_list tbody tr td a").first.click()
    expect(page.locator("#attempt-reason")).to_contain_text("No value mapping in 'account_type'")
    expect(page.locator("#request-json")).to_contain_text('"Type": "Prospect"')
    attempt_url = page.url

    page.click("#fix-value-mapping")   # the add form, with the category and the value filled in
    expect(page.locator("#id_category")).to_have_value("account_type")
    expect(page.locator("#id_source_value")).to_have_value("Prospect")
    page.fill("#id_target_value", "customer")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    page.goto(attempt_url)
    page.click("#retry-attempt")
    expect(page.locator(".messagelist")).to_contain_text("queued for another try")
    expect(page.locator("#attempt-status")).to_have_text("Pending")
    assert enqueued_runs == [("push_accounts", "retry")]
    sync_run(job_name="push_accounts", trigger="retry")
    page.reload()
    expect(page.locator("#attempt-status")).to_have_text("Succeeded")
    expect(page.locator("#story-attempts tbody tr")).to_have_count(2)
    screenshot(page, "attempt")


def test_it_refuses_a_mapping_field_the_real_schemas_lack_then_previews_and_resets_the_watermark(hub_on_sandboxes, ops_user, console):
    page = console
    log_in(page, "olivia-ops")
    accounts = SyncJob.objects.get(name="push_accounts")
    page.goto(f"{page.base}/admin/syncs/syncjob/{accounts.pk}/change/")
    phone_row = page.locator(".hub-mappings tr.form-row").filter(has=page.locator('input[value="phone"]'))
    phone_row.locator('input[name$="-source_field"]').fill("Phone_Number__c")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist").first).to_contain_text("Salesforce Account has no field 'Phone_Number__c'.")
    assert FieldMapping.objects.get(job=accounts, target_field="phone").source_field == "Phone"

    job = SyncJob.objects.get(name="push_purchase_orders")
    page.goto(f"{page.base}/admin/syncs/syncjob/{job.pk}/change/")
    page.click("text=Dry-run preview")
    page.click("#run-preview")
    expect(page.locator("#preview-payload")).to_contain_text('"type": "purchaseOrder"')
    expect(page.locator("#preview-payload")).to_contain_text("-COMMISSION")
    screenshot(page, "preview")
    assert not SyncAttempt.objects.exists()

    page.goto(f"{page.base}/admin/syncs/syncjob/{job.pk}/change/")
    page.click("text=Reset watermark")
    page.fill("#id_since", "2024-02-01")
    page.click("#reset-watermark")
    expect(page.locator(".hub-alert")).to_contain_text("re-read every change since")
    page.click("#confirm-reset")
    expect(page.locator(".messagelist")).to_contain_text("is now 2024-02-01 00:00 UTC")
    job.refresh_from_db()
    assert job.watermark_timestamp.date().isoformat() == "2024-02-01"


def test_it_gives_finance_the_commission_queue_and_nothing_to_edit(hub_on_sandboxes, finance_user, console, enqueued_runs):
    page = console
    sync_run(job_name="push_accounts")
    commission = ValueMapping.objects.get(category="commission_item")
    commission.source_value = "BROKER-COMM"
    commission.save()
    sync_run(job_name="push_purchase_orders")
    waiting = SyncAttempt.objects.filter(job__name="push_purchase_orders", status="failed", superseded=False)
    waiting_before = waiting.count()
    assert waiting_before
    commission.source_value = "BROKER-COMMISSION"
    commission.save()

    log_in(page, "frank-finance")
    page.click("text=Commission records")
    rows = page.locator("#commission-queue tbody tr")
    expect(rows).to_have_count(waiting_before)
    expect(rows.first).to_contain_text("No value mapping in 'commission_item'")
    expect(rows.first.locator("td.num").first).to_have_text(re.compile(r"^\d+\.\d\d$"))
    screenshot(page, "finance-commission-queue")

    first = rows.first.get_attribute("data-attempt")
    rows.first.locator("input[type=checkbox]").check()
    page.click("#retry-selected")
    expect(page.locator(".messagelist")).to_contain_text("1 record(s) queued for another try")
    expect(rows).to_have_count(waiting_before - 1)
    assert enqueued_runs == [("push_purchase_orders", "retry")]
    sync_run(job_name="push_purchase_orders", trigger="retry")
    page.reload()
    expect(page.locator(f'#commission-queue tr[data-attempt="{first}"]')).to_have_count(0)

    page.goto(page.base + "/admin/mappings/fieldmapping/")
    page.locator("#result_list tbody tr a").first.click()
    expect(page.locator("h1")).to_contain_text("View field mapping")
    expect(page.locator("input[name=_save]")).to_have_count(0)
    response = page.goto(page.base + "/admin/mappings/valuemapping/add/")
    assert response.status == 403
    response = page.goto(f"{page.base}/admin/syncs/syncjob/{SyncJob.objects.get(name='push_accounts').pk}/watermark/")
    assert response.status == 403
