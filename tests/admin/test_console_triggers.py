"""The console says how each run and each try was triggered, and lists the outbound notifications received."""
import pytest
from django.urls import reverse
from django.utils import timezone

from syncs.models import NotifiedChange, OutboundNotification, SyncAttempt, SyncJob, SyncRun, salesforce_id_18

pytestmark = pytest.mark.django_db


def test_it_shows_what_triggered_each_run_and_try(client, ops_user):
    job = SyncJob.objects.get(name="push_accounts")
    for number, trigger in enumerate(["schedule", "outbound", "retry", "sweep"]):
        run = SyncRun.objects.create(job=job, trigger=trigger, started_at=timezone.now(), outcome="succeeded")
        SyncAttempt.objects.create(job=job, run=run, trigger=trigger, record_type="Account", operation="upsert",
                                   status="succeeded", salesforce_id=f"0015g00000000{number}AAA"[:18])
    client.force_login(ops_user)
    attempts = client.get(reverse("admin:syncs_syncattempt_changelist")).content.decode()
    runs = client.get(reverse("admin:syncs_syncrun_changelist")).content.decode()
    for label in ("Schedule", "Outbound message", "Retry by a person", "Due retries (sweeper)"):
        assert label in attempts and label in runs
    only_outbound = client.get(reverse("admin:syncs_syncattempt_changelist") + "?trigger__exact=outbound").content.decode()
    assert "0015g000000001AAA" in only_outbound and "0015g000000000AAA" not in only_outbound
    story = client.get(reverse("admin:syncs_syncattempt_change", args=[SyncAttempt.objects.get(trigger="retry").pk]))
    assert "Triggered by" in story.content.decode() and "Retry by a person" in story.content.decode()


def test_it_lists_the_outbound_notifications_with_the_jobs_they_asked_for(client, ops_user):
    account = salesforce_id_18("0015g00000AbCdE")
    notification = OutboundNotification.objects.create(
        notification_id="04l5g000000001AAAA", organization_id="00D5g000004XyZaEAK", action_id="04k5g000000001AAAA",
        object_type="Account", salesforce_id=account, received_at=timezone.now())
    NotifiedChange.objects.create(job=SyncJob.objects.get(name="push_accounts"), notification=notification,
                                  object_type="Account", salesforce_id=account, requested_at=timezone.now())
    client.force_login(ops_user)
    page = client.get(reverse("admin:syncs_outboundnotification_changelist") + "?q=0015g00000AbCdE").content.decode()
    assert account in page and "push_accounts (waiting)" in page
