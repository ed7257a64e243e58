"""The console's pages and actions through Django's test client: what ops and finance see and may do."""
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from mappings.models import FieldMapping
from syncs.breakers import breaker_fault, breaker_success
from syncs.clients.errors import TransientError
from syncs.models import RecordLink, SyncAttempt, SyncJob, SyncRun

pytestmark = pytest.mark.django_db

BROKER_ID = "001000000000BRKAAA"
APPLICATION_ID = "006000000000APPAAA"


def attempt(job_name: str, **fields) -> SyncAttempt:
    job = SyncJob.objects.get(name=job_name)
    defaults = {"record_type": job.record_type, "operation": "upsert", "status": "succeeded", "finished_at": timezone.now()}
    return SyncAttempt.objects.create(job=job, **{**defaults, **fields})


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("syncs.tasks.run_sync_job.delay", lambda name, trigger="schedule": calls.append((name, trigger)))
    return calls


@pytest.fixture
def commission_failure():
    attempt("push_accounts", salesforce_id=BROKER_ID, record_name="Keystone Brokers LLC", netsuite_internal_id="77")
    return attempt(
        "push_purchase_orders", salesforce_id=APPLICATION_ID, record_name="Bluebird Bakery funding", status="failed",
        error_kind="permanent", remote_code="INVALID_KEY_OR_REF", remote_message="Invalid entity reference key 77.",
        request_payload={"record": {"type": "purchaseOrder", "externalId": f"{APPLICATION_ID}-COMMISSION", "fields": {
            "entity": {"externalId": BROKER_ID, "type": "vendor"}, "memo": "Broker commission for application Bluebird",
            "itemList": {"replaceAll": True, "item": [{"item": {"internalId": "201"}, "amount": 1250.5}]}}}},
    )


def test_it_shows_each_job_with_moved_waiting_and_lag_on_the_dashboard(client, ops_user):
    job = SyncJob.objects.get(name="push_accounts")
    run = SyncRun.objects.create(job=job, started_at=timezone.now() - timedelta(minutes=5), outcome="partial", message="3 written, 1 failed")
    for n in range(3):
        attempt("push_accounts", run=run, salesforce_id=f"001A{n:014d}")
    failed = attempt("push_accounts", run=run, salesforce_id="001B00000000000001", status="failed", remote_code="INVALID_FLD_VALUE")
    SyncAttempt.objects.filter(pk=failed.pk).update(created_at=timezone.now() - timedelta(hours=2))
    attempt("push_accounts", salesforce_id="001B00000000000002", status="failed", superseded=True)
    client.force_login(ops_user)
    page = client.get(reverse("admin:index")).content.decode()
    row = page[page.index('data-job="push_accounts"'):].split("</tr>")[0]
    assert '<td class="num moved">3</td>' in row
    assert "status__exact=failed\">1</a>" in row
    assert "2 h 00 min" in row
    assert "1 record needs a person" in page
    assert 'id="attempts-chart"' in page and "succeeded 3" in page


def test_it_says_on_the_dashboard_when_a_remote_systems_breaker_holds_the_hub_back(client, ops_user, settings):
    settings.HUB_BREAKER_THRESHOLD = 2
    for _ in range(2):
        breaker_fault("netsuite", TransientError("HTTP_503", "Service Unavailable"))
    client.force_login(ops_user)
    page = client.get(reverse("admin:index")).content.decode()
    notice = page[page.index('class="hub-breaker hub-breaker-open"'):].split("</p>")[0]
    assert "NetSuite is failing whole requests: the hub holds back until" in notice
    assert "2 in a row" in notice and "HTTP_503: Service Unavailable" in notice
    breaker_success("netsuite")
    assert "hub-breaker" not in client.get(reverse("admin:index")).content.decode()


def test_it_retries_selected_attempts_and_enqueues_the_job_after_commit(client, ops_user, enqueued, django_capture_on_commit_callbacks):
    failed = attempt("push_accounts", salesforce_id="001B00000000000001", status="failed", remote_code="X")
    client.force_login(ops_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:syncs_syncattempt_changelist"),
                               {"action": "retry_selected", "_selected_action": [failed.pk]}, follow=True)
    assert "1 record(s) queued for another try" in response.content.decode()
    newest = SyncAttempt.objects.filter(salesforce_id=failed.salesforce_id).order_by("-id").first()
    assert newest.status == "pending" and newest.attempt_number == 2
    assert enqueued == [("push_accounts", "retry")]
    assert LogEntry.objects.filter(object_id=str(failed.pk), change_message__startswith="Retried").exists()


def test_it_marks_attempts_resolved_with_a_reason_and_stops_counting_them(client, ops_user):
    failed = attempt("push_contacts", salesforce_id="003B00000000000001", status="dead", remote_code="TIMEOUT")
    client.force_login(ops_user)
    url = reverse("admin:syncs_syncattempt_changelist")
    confirm = client.post(url, {"action": "resolve_selected", "_selected_action": [failed.pk]})
    assert "Mark attempts resolved" in confirm.content.decode()
    client.post(url, {"action": "resolve_selected", "_selected_action": [failed.pk], "apply": "1", "note": "Fixed by hand in NetSuite"})
    failed.refresh_from_db()
    assert failed.resolved_by == ops_user and failed.resolution_note == "Fixed by hand in NetSuite"
    page = client.get(reverse("admin:index")).content.decode()
    assert "Nothing waits for a person." in page
    assert LogEntry.objects.filter(object_id=str(failed.pk), change_message__contains="Fixed by hand").exists()


def test_it_shows_an_attempt_with_its_payloads_and_the_records_whole_story(client, ops_user, commission_failure):
    earlier = attempt("push_purchase_orders", salesforce_id=APPLICATION_ID, status="failed", superseded=True, remote_code="TIMEOUT")
    RecordLink.objects.create(record_type="SalesOrder", salesforce_id=APPLICATION_ID, netsuite_record_type="salesOrder",
                              netsuite_internal_id="5150", netsuite_external_id=APPLICATION_ID)
    client.force_login(ops_user)
    page = client.get(reverse("admin:syncs_syncattempt_change", args=[commission_failure.pk])).content.decode()
    assert "INVALID_KEY_OR_REF" in page and "Invalid entity reference key 77." in page
    assert "&quot;amount&quot;: 1250.5" in page  # pretty-printed JSON
    assert reverse("admin:syncs_syncattempt_change", args=[earlier.pk]) in page
    assert "5150" in page
    assert 'id="retry-attempt"' in page and 'id="resolve-attempt"' in page


def test_it_finds_attempts_by_salesforce_id_netsuite_id_or_name(client, ops_user):
    attempt("push_accounts", salesforce_id="001C00000000000001", netsuite_internal_id="4242", record_name="Quayside Diner")
    attempt("push_accounts", salesforce_id="001C00000000000002", record_name="Harbour Cafe")
    client.force_login(ops_user)
    url = reverse("admin:syncs_syncattempt_changelist")
    for term in ("001C00000000000001", "4242", "quayside"):
        page = client.get(url, {"q": term}).content.decode()
        assert "Quayside Diner" in page and "Harbour Cafe" not in page, term
    filtered = client.get(url, {"status__exact": "succeeded", "attention": "waiting"})
    assert filtered.status_code == 200


def test_it_lists_commission_records_for_finance_with_broker_amount_and_reason(client, finance_user, commission_failure):
    client.force_login(finance_user)
    page = client.get(reverse("admin:syncs_syncattempt_commissions")).content.decode()
    assert "Keystone Brokers LLC" in page and "1250.50" in page
    assert "Bluebird Bakery funding" in page and "Invalid entity reference key 77." in page


def test_it_lets_finance_retry_a_commission_record_and_add_a_note(client, finance_user, commission_failure, enqueued,
                                                                  django_capture_on_commit_callbacks):
    client.force_login(finance_user)
    url = reverse("admin:syncs_syncattempt_commissions")
    client.post(url, {"attempt": commission_failure.pk, "note": "AP fixed the vendor record"})
    commission_failure.refresh_from_db()
    assert "frank-finance] AP fixed the vendor record" in commission_failure.resolution_note
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"retry": "1", "attempt": [commission_failure.pk]})
    assert enqueued == [("push_purchase_orders", "retry")]
    assert "No commission record is waiting" in client.get(url).content.decode()


def test_it_refuses_finance_a_retry_outside_commissions(client, finance_user, enqueued):
    failed = attempt("push_accounts", salesforce_id="001B00000000000001", status="failed")
    client.force_login(finance_user)
    client.post(reverse("admin:syncs_syncattempt_retry", args=[failed.pk]))
    client.post(reverse("admin:syncs_syncattempt_changelist"), {"action": "retry_selected", "_selected_action": [failed.pk]})
    assert SyncAttempt.objects.filter(salesforce_id=failed.salesforce_id).count() == 1
    assert enqueued == []


@pytest.mark.parametrize("page", ["run_now", "watermark", "preview"])
def test_it_keeps_finance_off_runs_watermarks_and_previews(client, finance_user, page):
    client.force_login(finance_user)
    job = SyncJob.objects.get(name="push_accounts")
    assert client.get(reverse(f"admin:syncs_syncjob_{page}", args=[job.pk])).status_code == 403
    assert client.post(reverse(f"admin:syncs_syncjob_{page}", args=[job.pk]), {"since": "2024-01-01", "confirmed": "True"}).status_code == 403


@pytest.mark.parametrize("page", ["admin:syncs_syncattempt_commissions", "admin:syncs_mapping_history"])
def test_it_sends_anonymous_users_from_console_pages_to_the_login(client, page):
    response = client.get(reverse(page))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_it_runs_a_job_now_after_confirmation(client, ops_user, enqueued, django_capture_on_commit_callbacks):
    job = SyncJob.objects.get(name="push_contacts")
    client.force_login(ops_user)
    url = reverse("admin:syncs_syncjob_run_now", args=[job.pk])
    assert "Yes, run push_contacts now" in client.get(url).content.decode()
    assert enqueued == []
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    assert enqueued == [("push_contacts", "manual")]
    assert LogEntry.objects.filter(object_id=str(job.pk), change_message="Run now requested.").exists()


def test_it_resets_a_watermark_after_confirmation_and_logs_it(client, ops_user):
    job = SyncJob.objects.get(name="push_accounts")
    SyncJob.objects.filter(pk=job.pk).update(watermark_timestamp=timezone.now(), watermark_record_id="001Z00000000000001")
    client.force_login(ops_user)
    url = reverse("admin:syncs_syncjob_watermark", args=[job.pk])
    confirm = client.post(url, {"since": "2024-03-01"}).content.decode()
    assert "re-read every change since" in confirm
    job.refresh_from_db()
    assert job.watermark_record_id == "001Z00000000000001"
    client.post(url, {"since": "2024-03-01", "confirmed": "True"})
    job.refresh_from_db()
    assert job.watermark_timestamp.isoformat() == "2024-03-01T00:00:00+00:00" and job.watermark_record_id == ""
    assert LogEntry.objects.filter(object_id=str(job.pk), change_message__startswith="Watermark reset").exists()


def test_it_refuses_a_watermark_reset_while_the_job_runs(client, ops_user):
    job = SyncJob.objects.get(name="push_accounts")
    SyncJob.objects.filter(pk=job.pk).update(run_lease_expires_at=timezone.now() + timedelta(minutes=5))
    client.force_login(ops_user)
    page = client.post(reverse("admin:syncs_syncjob_watermark", args=[job.pk]), {"since": "2024-03-01", "confirmed": "True"}, follow=True)
    assert "is running" in page.content.decode()


def _inline_form(job: SyncJob, **changes_by_target) -> dict:
    mappings = list(FieldMapping.objects.filter(job=job).order_by("order", "id"))
    form = {"title": job.title, "description": job.description, "batch_size": job.batch_size, "retry_for_minutes": job.retry_for_minutes,
            "stage": job.stage, "enabled": "on", "field_mappings-TOTAL_FORMS": len(mappings),
            "field_mappings-INITIAL_FORMS": len(mappings), "field_mappings-MIN_NUM_FORMS": 0, "field_mappings-MAX_NUM_FORMS": 1000}
    for i, mapping in enumerate(mappings):
        row = {"id": mapping.pk, "job": job.pk, "order": mapping.order, "source_field": mapping.source_field,
               "target_field": mapping.target_field, "transform": mapping.transform, "transform_argument": mapping.transform_argument,
               "default": mapping.default, "enabled": "on", **({"required": "on"} if mapping.required else {}),
               **changes_by_target.get(mapping.target_field, {})}
        form.update({f"field_mappings-{i}-{key}": value for key, value in row.items()})
    return form


def test_it_refuses_a_mapping_to_a_field_salesforce_does_not_have(client, ops_user, monkeypatch):
    monkeypatch.setattr("syncs.mapping_schemas.salesforce_field_names", lambda name: {"Id", "Name", "Phone", "Website", "Description", "Type"})
    job = SyncJob.objects.get(name="push_accounts")
    client.force_login(ops_user)
    page = client.post(reverse("admin:syncs_syncjob_change", args=[job.pk]),
                       _inline_form(job, phone={"source_field": "Phone_Number__c"}, url={"target_field": "webAddress"})).content.decode()
    assert "Salesforce Account has no field &#x27;Phone_Number__c&#x27;." in page
    assert "NetSuite Customer has no field &#x27;webAddress&#x27;." in page
    assert FieldMapping.objects.get(job=job, target_field="phone").source_field == "Phone"


def test_it_says_so_when_salesforce_cannot_be_reached_to_check_a_mapping(client, ops_user, monkeypatch):
    def unreachable(name):
        raise TransientError("CONNECTION_ERROR", "Connection to Salesforce failed")

    monkeypatch.setattr("syncs.mapping_schemas.salesforce_field_names", unreachable)
    job = SyncJob.objects.get(name="push_accounts")
    client.force_login(ops_user)
    page = client.post(reverse("admin:syncs_syncjob_change", args=[job.pk]),
                       _inline_form(job, phone={"source_field": "MobilePhone"})).content.decode()
    assert "Salesforce&#x27;s description of Account could not be read" in page and "Nothing was saved" in page
    assert FieldMapping.objects.get(job=job, target_field="phone").source_field == "Phone"


def test_it_saves_a_checked_mapping_and_shows_the_edit_in_the_history(client, ops_user, monkeypatch):
    monkeypatch.setattr("syncs.mapping_schemas.salesforce_field_names", lambda name: {"Id", "Name", "MobilePhone", "Website", "Description", "Type"})
    job = SyncJob.objects.get(name="push_accounts")
    client.force_login(ops_user)
    response = client.post(reverse("admin:syncs_syncjob_change", args=[job.pk]), _inline_form(job, phone={"source_field": "MobilePhone"}))
    assert response.status_code == 302
    history = client.get(reverse("admin:syncs_syncjob_mapping_history", args=[job.pk])).content.decode()
    assert "olivia-ops" in history, history[history.find("mapping-history"):][:3000]
    assert "<del>Phone</del> → <ins>MobilePhone</ins>" in history


def test_it_shows_master_rules_as_the_domain_table(client, ops_user):
    client.force_login(ops_user)
    page = client.get(reverse("admin:mappings_masterrule_changelist")).content.decode()
    assert "Remittance" in page and "Read only in" in page


def test_it_lists_each_application_once_in_the_commission_queue_and_retries_its_lines_with_it(
        client, finance_user, commission_failure, enqueued, django_capture_on_commit_callbacks):
    lines = attempt("push_purchase_order_lines", salesforce_id=APPLICATION_ID, record_name="Bluebird Bakery funding",
                    status="failed", error_kind="permanent", remote_code="PARENT_FAILED",
                    remote_message="Held back: its parent failed.", waiting_on=APPLICATION_ID)
    client.force_login(finance_user)
    url = reverse("admin:syncs_syncattempt_commissions")
    page = client.get(url).content.decode()
    assert page.count("<tr data-attempt=") == 1 and f'data-attempt="{commission_failure.pk}"' in page
    assert "push_purchase_order_lines try #1 (PARENT_FAILED)" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"retry": "1", "attempt": [commission_failure.pk]})
    lines.refresh_from_db()
    commission_failure.refresh_from_db()
    assert lines.superseded and commission_failure.superseded
    assert sorted(enqueued) == [("push_purchase_order_lines", "retry"), ("push_purchase_orders", "retry")]


@pytest.fixture
def netsuite_items(monkeypatch):
    """NetSuite and Salesforce as the value-mapping check sees them: the sandbox's service items, two account types."""
    from mappings import services

    items = {"serviceSaleItem": {"101": "FEE-ORIG", "102": "FEE-UW"}, "servicePurchaseItem": {"201": "BROKER-COMMISSION"}}
    monkeypatch.setattr(services, "_value_lookups", services.ValueLookups(
        netsuite_names=lambda record_type, ids: {i: items[record_type][i] for i in ids if i in items.get(record_type, {})},
        salesforce_picklist=lambda object_name, field_name: (["Merchant", "Broker"], False)))


def test_it_refuses_a_value_mapping_to_an_item_netsuite_does_not_have(client, ops_user, netsuite_items):
    from mappings.models import ValueMapping

    commission = ValueMapping.objects.get(category="commission_item")
    client.force_login(ops_user)
    page = client.post(reverse("admin:mappings_valuemapping_change", args=[commission.pk]),
                       {"category": "commission_item", "source_value": "BROKER-COMMISSION", "target_value": "999",
                        "description": ""}).content.decode()
    assert "NetSuite has no service purchase item with internal id 999." in page
    listed = client.post(reverse("admin:mappings_valuemapping_changelist"), {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-0-id": commission.pk, "form-0-target_value": "999",
        "_save": "Save"}).content.decode()
    assert "NetSuite has no service purchase item with internal id 999." in listed
    commission.refresh_from_db()
    assert commission.target_value == "201"
    response = client.post(reverse("admin:mappings_valuemapping_change", args=[commission.pk]),
                           {"category": "commission_item", "source_value": "BROKER-COMMISSION", "target_value": "201",
                            "description": "Broker Commission, checked"})
    assert response.status_code == 302


def test_it_offers_a_categorys_known_values_and_refuses_an_unknown_category(client, ops_user, netsuite_items):
    client.force_login(ops_user)
    page = client.get(reverse("admin:mappings_valuemapping_add") + "?category=account_type&source_value=Prospect").content.decode()
    assert 'value="Prospect"' in page and '<option value="vendor">' in page and '<option value="Broker">' in page
    page = client.post(reverse("admin:mappings_valuemapping_add"),
                       {"category": "fee_items", "source_value": "FEE-X", "target_value": "101"}).content.decode()
    assert "Select a valid choice" in page


def test_it_links_a_failed_attempt_to_the_exact_value_mapping(client, ops_user, commission_failure):
    from mappings.models import ValueMapping

    missing = attempt("push_accounts", salesforce_id="001000000000MISAAA", status="failed", remote_code="MAPPING_ERROR",
                      remote_message="No value mapping in 'account_type' for Type = 'Partner'.")
    client.force_login(ops_user)
    page = client.get(reverse("admin:syncs_syncattempt_change", args=[missing.pk])).content.decode()
    assert "/admin/mappings/valuemapping/add/?category=account_type&amp;source_value=Partner" in page
    commission = ValueMapping.objects.get(category="commission_item")
    commission.target_value = "999"
    commission.save()
    refused = attempt("push_purchase_orders", salesforce_id="006000000000REFAAA", status="failed",
                      remote_code="INVALID_KEY_OR_REF", remote_message="Invalid item reference key 999.",
                      request_payload={"record": {"fields": {"itemList": {"item": [{"item": {"internalId": "999"}}]}}}})
    page = client.get(reverse("admin:syncs_syncattempt_change", args=[refused.pk])).content.decode()
    assert reverse("admin:mappings_valuemapping_change", args=[commission.pk]) in page
    assert "Fix the commission_item value mapping BROKER-COMMISSION → 999" in page


def test_it_groups_the_waiting_failures_by_job_code_and_message_with_links(client, ops_user):
    for n in range(3):
        attempt("push_purchase_orders", salesforce_id=f"006C{n:014d}", status="failed", remote_code="INVALID_KEY_OR_REF",
                remote_message="Invalid item reference key 999.")
    attempt("push_accounts", salesforce_id="001C00000000000001", status="failed", remote_code="MAPPING_ERROR",
            remote_message="No value mapping in 'account_type' for Type = 'Partner'.")
    client.force_login(ops_user)
    page = client.get(reverse("admin:index")).content.decode()
    groups = page[page.index('id="failure-groups"'):].split("</table>")[0]
    first = groups.split("</tr>")[1]
    assert 'data-job="push_purchase_orders"' in first and "INVALID_KEY_OR_REF" in first and '<td class="num">3</td>' in first
    link = first.split('class="hub-group-link" href="')[1].split('"')[0].replace("&amp;", "&")
    listed = client.get(link).content.decode()
    assert all(f"006C{n:014d}" in listed for n in range(3)) and "001C0000" not in listed
    message_link = first.split('<td class="hub-message"><div><a href="')[1].split('"')[0].replace("&amp;", "&")
    assert "remote_message=Invalid+item" in message_link
    by_message = client.get(message_link).content.decode()
    assert all(f"006C{n:014d}" in by_message for n in range(3)) and "001C0000" not in by_message
    row = page[page.index('data-job="push_accounts"'):].split("</tr>")[0]
    assert "1 failure waits" not in row   # never ran: no outcome to qualify


def test_it_says_a_succeeded_run_leaves_failures_waiting(client, ops_user):
    job = SyncJob.objects.get(name="push_accounts")
    SyncRun.objects.create(job=job, started_at=timezone.now(), finished_at=timezone.now(), outcome="succeeded")
    attempt("push_accounts", salesforce_id="001D00000000000001", status="failed", remote_code="X")
    client.force_login(ops_user)
    page = client.get(reverse("admin:index")).content.decode()
    row = page[page.index('data-job="push_accounts"'):].split("</tr>")[0]
    assert "Ran; 1 failure waits" in row and "hub-retrying" in row


def test_it_rolls_finished_hours_up_once_and_draws_days(client, ops_user):
    from syncs.models import HourlyOutcome
    from syncs.selectors import outcomes_per_day
    from syncs.services import outcomes_rollup

    two_days_ago = timezone.now() - timedelta(days=2)
    attempt("push_accounts", salesforce_id="001E00000000000001", finished_at=two_days_ago)
    attempt("push_accounts", salesforce_id="001E00000000000002", status="failed", finished_at=two_days_ago)
    assert outcomes_rollup() == 8 * 24
    assert outcomes_rollup() == 0   # a closed hour is counted once
    assert HourlyOutcome.objects.filter(succeeded=1, failed=1).count() == 1
    days = outcomes_per_day()
    assert len(days) == 7 and days[-3].succeeded == 1 and days[-3].failed == 1
    client.force_login(ops_user)
    page = client.get(reverse("admin:index")).content.decode()
    chart = page[page.index('id="attempts-chart"'):].split("</svg>")[0]
    assert chart.count('class="day"') == 7 and 'class="bad"' in chart   # a lone failure still shows a bar
    assert timezone.localtime(two_days_ago).strftime("%a %d %b") in chart


def test_it_links_a_run_to_its_attempts_and_shows_its_duration(client, ops_user):
    job = SyncJob.objects.get(name="push_accounts")
    started = timezone.now() - timedelta(seconds=75)
    run = SyncRun.objects.create(job=job, started_at=started, finished_at=started + timedelta(seconds=42.5),
                                 outcome="partial", records_failed=1)
    attempt("push_accounts", run=run, salesforce_id="001F00000000000001", status="failed", remote_code="X")
    attempt("push_accounts", run=run, salesforce_id="001F00000000000002")
    client.force_login(ops_user)
    page = client.get(reverse("admin:syncs_syncrun_change", args=[run.pk])).content.decode()
    assert "42.5 s" in page
    link = page.split('id="run-failed"')[0].rsplit('href="', 1)[1].split('"')[0]
    listed = client.get(link.replace("&amp;", "&")).content.decode()
    assert "001F00000000000001" in listed and "001F00000000000002" not in listed
    assert "42.5 s" in client.get(reverse("admin:syncs_syncrun_changelist")).content.decode()


def test_it_assigns_a_failure_to_a_finance_user_who_finds_it_under_mine(client, ops_user, finance_user):
    failure = attempt("push_purchase_orders", salesforce_id="006G00000000000001", status="failed", remote_code="X",
                      record_name="Mine funding")
    attempt("push_purchase_orders", salesforce_id="006G00000000000002", status="failed", remote_code="X",
            record_name="Not mine funding")
    client.force_login(ops_user)
    client.post(reverse("admin:syncs_syncattempt_assign", args=[failure.pk]), {"assignee": finance_user.pk})
    failure.refresh_from_db()
    assert failure.assigned_to == finance_user
    client.force_login(finance_user)
    mine = client.get(reverse("admin:syncs_syncattempt_changelist") + "?attention=mine").content.decode()
    assert "Mine funding" in mine and "Not mine funding" not in mine


def test_it_exports_the_filtered_list_as_csv(client, ops_user):
    attempt("push_accounts", salesforce_id="001H00000000000001", status="failed", remote_code="INVALID_FLD_VALUE",
            remote_message="Bad phone, with a comma")
    attempt("push_accounts", salesforce_id="001H00000000000002")
    client.force_login(ops_user)
    listed = client.get(reverse("admin:syncs_syncattempt_changelist") + "?status__exact=failed").content.decode()
    export = listed.split('id="export-csv"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert "status__exact=failed" in export
    response = client.get(export)
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"] == "text/csv"
    lines = body.strip().splitlines()
    assert len(lines) == 2 and '"Bad phone, with a comma"' in lines[1] and "001H00000000000002" not in body


def test_it_finds_an_attempt_by_the_15_character_form_of_its_salesforce_id(client, ops_user):
    attempt("push_accounts", salesforce_id="001A0000006Vm9rIAC", record_name="Case-safe Cafe")
    client.force_login(ops_user)
    page = client.get(reverse("admin:syncs_syncattempt_changelist") + "?q=001A0000006Vm9r").content.decode()
    assert "Case-safe Cafe" in page
    RecordLink.objects.create(record_type="Account", salesforce_id="001A0000006Vm9rIAC", netsuite_internal_id="4242")
    page = client.get(reverse("admin:syncs_recordlink_changelist") + "?q=001A0000006Vm9r").content.decode()
    assert "4242" in page


def test_it_keeps_record_links_read_only(client, ops_user):
    link = RecordLink.objects.create(record_type="Account", salesforce_id="001A0000006Vm9rIAC", netsuite_internal_id="4242",
                                     content_hash="abc")
    client.force_login(ops_user)
    page = client.get(reverse("admin:syncs_recordlink_change", args=[link.pk])).content.decode()
    assert 'name="content_hash"' not in page and "_save" not in page
    client.post(reverse("admin:syncs_recordlink_change", args=[link.pk]), {"netsuite_internal_id": "1", "content_hash": ""})
    link.refresh_from_db()
    assert (link.netsuite_internal_id, link.content_hash) == ("4242", "abc")


def test_it_gives_a_forbidden_page_a_way_back(client, finance_user):
    client.force_login(finance_user)
    response = client.get(reverse("admin:mappings_valuemapping_add"))
    page = response.content.decode()
    assert response.status_code == 403
    assert "signed in as <strong>frank-finance</strong>" in page and 'href="/admin/" id="back-to-console"' in page


def test_it_refuses_a_preview_id_that_is_not_a_salesforce_id_without_showing_a_query(client, ops_user):
    client.force_login(ops_user)
    job = SyncJob.objects.get(name="push_accounts")
    page = client.get(reverse("admin:syncs_syncjob_preview", args=[job.pk]) + "?record_id=abc'%20OR").content.decode()
    assert "is not a Salesforce id" in page and "SELECT" not in page


def test_it_shows_no_next_attempt_or_lease_on_a_finished_try(client, ops_user):
    failed = attempt("push_accounts", salesforce_id="001J00000000000001", status="failed", remote_code="X",
                     next_attempt_at=timezone.now(), lease_expires_at=timezone.now())
    client.force_login(ops_user)
    page = client.get(reverse("admin:syncs_syncattempt_change", args=[failed.pk])).content.decode()
    assert "Next attempt at" not in page and "Lease expires at" not in page


def test_it_lets_each_person_choose_their_alerts(client, finance_user):
    from syncs.models import AlertSubscription

    client.force_login(finance_user)
    url = reverse("admin:syncs_alerts_mine")
    assert "New failures waiting for a person" in client.get(url).content.decode()
    client.post(url, {"email": "frank@example.com", "failures": "on", "reconciliation": "on"})
    choice = AlertSubscription.objects.get(user=finance_user)
    assert (choice.failures, choice.stale, choice.credentials, choice.reconciliation) == (True, False, False, True)
    finance_user.refresh_from_db()
    assert finance_user.email == "frank@example.com"
