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


def test_it_takes_ops_from_a_broken_value_mapping_to_records_sent_with_the_fixed_value(hub_on_sandboxes, ops_user, console, enqueued_runs):
    page = console
    page.set_viewport_size({"width": 1280, "height": 900})
    sync_run(job_name="push_accounts")
    # The item the mapping names stops existing after the mapping was saved (inactivated and purged in NetSuite):
    # the form would refuse 999 today, so the mapping is broken behind its back.
    ValueMapping.objects.filter(category="commission_item").update(target_value="999")
    run = sync_run(job_name="push_purchase_orders")
    failed = SyncAttempt.objects.filter(job__name="push_purchase_orders", status="failed", superseded=False)
    assert failed.count() == run.records_failed > 1, run.message
    failed_ids = set(failed.values_list("salesforce_id", flat=True))

    log_in(page, "olivia-ops")
    top = page.locator("#failure-groups tbody tr").first
    expect(top).to_have_attribute("data-job", "push_purchase_orders")
    expect(top).to_contain_text("INVALID_KEY_OR_REF")
    expect(top.locator("td.num")).to_have_text(str(len(failed_ids)))
    top.locator("a.hub-group-link").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(len(failed_ids))
    listed = {text.split("·")[0].strip() for text in rows.locator("td.field-record .hub-quiet").all_inner_texts()}
    assert listed == failed_ids
    # At 1280 px the list shows what failed and why, without scrolling sideways.
    expect(rows.first.locator("td.field-remote_code")).to_be_in_viewport()
    expect(rows.first.locator("td.field-message")).to_contain_text("999")
    expect(rows.first.locator("td.field-message")).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    screenshot(page, "waiting-list-1280")
    list_url = page.url

    rows.first.locator("th a, td a").first.click()
    page.click("#fix-value-mapping")
    page.click("input[name=_save]")   # 999 as it stands: refused, naming the item
    expect(page.locator(".errorlist")).to_contain_text("NetSuite has no service purchase item with internal id 999.")
    page.fill("#id_target_value", "201")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    page.goto(list_url)
    page.check("#action-toggle")
    page.select_option("select[name=action]", "retry_selected")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text(f"{len(failed_ids)} record(s) queued for another try")
    assert enqueued_runs == [("push_purchase_orders", "retry")]
    sync_run(job_name="push_purchase_orders", trigger="retry")
    for salesforce_id in failed_ids:
        latest = SyncAttempt.objects.filter(job__name="push_purchase_orders", salesforce_id=salesforce_id).order_by("-id").first()
        assert latest.status == "succeeded"
        assert latest.request_payload["record"]["fields"]["itemList"]["item"][0]["item"]["internalId"] == "201"
    first = SyncAttempt.objects.filter(job__name="push_purchase_orders", remote_code="INVALID_KEY_OR_REF").order_by("id").first()
    page.goto(f"{page.base}/admin/syncs/syncattempt/{first.pk}/change/")
    expect(page.locator(".hub-attempt-summary")).to_contain_text("Resolved by the hub")
    page.goto(page.base + "/admin/")
    expect(page.locator("#failure-groups")).to_have_count(0)
    expect(page.locator(".hub-ok").first).to_contain_text("Nothing waits for a person")


def test_it_shows_a_finance_user_the_failure_assigned_to_them_under_mine(hub_on_sandboxes, ops_user, finance_user, console):
    page = console
    sync_run(job_name="push_accounts")
    ValueMapping.objects.filter(category="commission_item").update(source_value="BROKER-COMM")
    sync_run(job_name="push_purchase_orders")
    chosen = SyncAttempt.objects.filter(job__name="push_purchase_orders", status="failed", superseded=False).first()
    log_in(page, "olivia-ops")
    page.goto(f"{page.base}/admin/syncs/syncattempt/{chosen.pk}/change/")
    page.select_option("#id_assignee", label="frank-finance")
    page.click("#assign-attempt")
    expect(page.locator(".messagelist")).to_contain_text("Assigned to frank-finance")

    page.context.clear_cookies()
    log_in(page, "frank-finance")
    page.goto(page.base + "/admin/syncs/syncattempt/")
    page.click("#changelist-filter >> text=Waiting, assigned to me")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(chosen.salesforce_id)
    expect(rows.first.locator("td.field-assignee")).to_have_text("frank-finance")
    response = page.goto(page.base + "/admin/mappings/valuemapping/add/")
    assert response.status == 403
    expect(page.locator("#forbidden")).to_contain_text("signed in as frank-finance")
    page.click("#back-to-console")
    expect(page.locator("#job-health")).to_be_visible()


def test_it_stays_readable_in_dark_mode(hub_on_sandboxes, ops_user, console):
    page = console
    ValueMapping.objects.filter(category="account_type", source_value="Prospect").delete()
    sync_run(job_name="push_accounts")
    page.emulate_media(color_scheme="dark")
    log_in(page, "olivia-ops")
    failed = SyncAttempt.objects.filter(job__name="push_accounts", status="failed").first()
    page.goto(f"{page.base}/admin/syncs/syncattempt/{failed.pk}/change/")
    colours = page.evaluate("""() => ['#request-json', '#attempt-reason'].map(sel => {
        const style = getComputedStyle(document.querySelector(sel));
        return [style.color, style.backgroundColor];
    })""")
    luminance = lambda rgb: sum(int(v) for v in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]) / 3
    json_fg, json_bg = colours[0]
    assert luminance(json_fg) > 150 and luminance(json_bg) < 80, colours   # light text on a dark ground
    assert luminance(colours[1][0]) > 150, colours
    screenshot(page, "attempt-dark")


def test_it_fits_the_runs_list_and_the_mapping_editor_in_1280_px(hub_on_sandboxes, ops_user, console):
    page = console
    page.set_viewport_size({"width": 1280, "height": 900})
    sync_run(job_name="push_accounts")
    log_in(page, "olivia-ops")
    fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    for path in ("/admin/syncs/syncrun/", f"/admin/syncs/syncjob/{SyncJob.objects.get(name='push_sales_orders').pk}/change/"):
        page.goto(page.base + path)
        widest = page.evaluate("Math.max(...[...document.querySelectorAll('#result_list, .inline-group table')].map(e => e.scrollWidth - e.parentElement.clientWidth))")
        assert page.evaluate(fits) and widest <= 0, (path, widest)
    screenshot(page, "mapping-editor-1280")
