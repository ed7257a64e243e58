"""Runs restricted to notified records, against both sandboxes: what they write, what they leave to the schedule
(the watermark), duplicates and stale notifications, and a notification that meets a run holding the job."""
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from syncs import outbound
from syncs.models import NotifiedChange, RecordLink, RunOutcome, SyncAttempt, SyncJob, SyncRun
from syncs.services import sync_run
from tests.syncs.outbound_messages import envelope, notification_id

pytestmark = pytest.mark.slow
TOKEN = "outbound-test-token"


@pytest.fixture
def hook(hub_on_sandboxes, settings, monkeypatch):
    """The hook on, the org's id learned from Salesforce (none configured), and the runs it asks for collected."""
    settings.HUB_OUTBOUND_TOKEN = TOKEN
    settings.SALESFORCE = {**settings.SALESFORCE, "ORGANIZATION_ID": ""}
    monkeypatch.setattr(outbound, "_learned_organization_id", "")
    asked = []
    monkeypatch.setattr(outbound, "_enqueue", lambda name, tries, countdown=0: asked.append((name, tries)))
    salesforce, _ = hub_on_sandboxes
    sf = salesforce.client()
    org = sf.query("SELECT Id FROM Organization")["records"][0]["Id"]
    return sf, org, asked


def notify(client, org, number, object_type, record):
    """What Salesforce would send for this record now (its id and change time)."""
    fields = {"Id": record["Id"], "LastModifiedDate": record["LastModifiedDate"].replace("+0000", "Z")}
    response = client.post(reverse("salesforce-outbound", args=[TOKEN]), content_type="text/xml",
                           data=envelope([(notification_id(number), object_type, fields)], organization_id=org))
    assert response.status_code == 200 and b"<Ack>true</Ack>" in response.content, response.content
    return response


def account(sf, record_id):
    return sf.query(f"SELECT Id, Name, LastModifiedDate FROM Account WHERE Id = '{record_id}'")["records"][0]


def run_asked(asked):
    """Run what the hook asked for, as the worker would, and forget the asking."""
    pending = list(asked)
    asked.clear()
    runs = [outbound.notified_changes_push(job_name=name, tries=tries) for name, tries in pending]
    return [run for run in runs if run is not None]


def attempts_of(salesforce_id):
    return SyncAttempt.objects.filter(salesforce_id=salesforce_id).count()


def test_a_notified_account_is_pushed_alone_and_duplicates_and_stale_notices_write_nothing(client, hook, hub_on_sandboxes):
    sf, org, asked = hook
    assert sync_run(job_name="push_accounts", trigger="schedule").outcome == RunOutcome.SUCCEEDED
    watermark = SyncJob.objects.get(name="push_accounts").watermark_timestamp
    unnoticed = sf.Account.create({"Name": "Changed, never notified"})["id"]
    noticed = sf.Account.create({"Name": "Notified Ltd"})["id"]
    first = account(sf, noticed)

    notify(client, org, 1, "Account", first)
    assert asked == [("push_accounts", 0)]
    [run] = run_asked(asked)
    assert run.trigger == SyncRun.Trigger.OUTBOUND and run.outcome == RunOutcome.SUCCEEDED, run.message
    assert RecordLink.objects.filter(salesforce_id=noticed).exists()
    assert not RecordLink.objects.filter(salesforce_id=unnoticed).exists(), "a restricted run reads only what was notified"
    assert list(SyncAttempt.objects.filter(salesforce_id=noticed).values_list("trigger", flat=True)) == ["outbound"]
    assert SyncJob.objects.get(name="push_accounts").watermark_timestamp == watermark, "the watermark stays for the sweep"

    # The scheduled sweep still finds the record changed before, and skips the one already sent.
    assert sync_run(job_name="push_accounts", trigger="schedule").outcome == RunOutcome.SUCCEEDED
    assert RecordLink.objects.filter(salesforce_id=unnoticed).exists()
    assert attempts_of(noticed) == 1

    # The same notification again: recorded once, nothing asked for, nothing written.
    notify(client, org, 1, "Account", first)
    assert asked == [] and NotifiedChange.objects.filter(salesforce_id=noticed).count() == 1

    sf.Account.update(noticed, {"Name": "Notified Ltd (renamed)"})
    notify(client, org, 2, "Account", account(sf, noticed))
    run_asked(asked)
    assert attempts_of(noticed) == 2
    assert SyncAttempt.objects.filter(salesforce_id=noticed).latest("id").request_payload["record"]["fields"]["companyName"] \
        == "Notified Ltd (renamed)"

    # Out of order: the first change's notice arrives (under another id, as a re-send would) after the newer one.
    notify(client, org, 3, "Account", first)
    assert asked == []
    # A notice of a change the hub already sent (the schedule got there first): read again, nothing to write.
    notify(client, org, 4, "Account", account(sf, noticed))
    runs = run_asked(asked)
    assert [r.outcome for r in runs] == [RunOutcome.SUCCEEDED]
    assert attempts_of(noticed) == 2
    assert SyncJob.objects.get(name="push_accounts").watermark_timestamp >= watermark


def test_a_notice_that_meets_a_run_holding_the_job_waits_and_is_merged_into_it(client, hook, hub_on_sandboxes):
    sf, org, asked = hook
    sync_run(job_name="push_accounts", trigger="schedule")
    account_id = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    contact = sf.Contact.create({"LastName": "Waiting", "AccountId": account_id})["id"]
    record = sf.query(f"SELECT Id, LastModifiedDate FROM Contact WHERE Id = '{contact}'")["records"][0]
    job = SyncJob.objects.get(name="push_contacts")
    SyncJob.objects.filter(pk=job.pk).update(run_lease_expires_at=timezone.now() + timedelta(minutes=5))

    notify(client, org, 10, "Contact", record)
    assert run_asked(asked) == [], "no run is started while another holds the job"
    assert asked == [("push_contacts", 1)], "asked again shortly"
    assert NotifiedChange.objects.filter(salesforce_id=contact, taken_at__isnull=True).count() == 1
    asked.clear()

    # The run that held the job ends; the schedule's next run takes the waiting notice with its sweep.
    SyncJob.objects.filter(pk=job.pk).update(run_lease_expires_at=None)
    scheduled = sync_run(job_name="push_contacts", trigger="schedule")
    assert scheduled.outcome == RunOutcome.SUCCEEDED, scheduled.message
    change = NotifiedChange.objects.get(salesforce_id=contact)
    assert change.taken_at is not None and change.run_id == scheduled.pk
    assert RecordLink.objects.filter(salesforce_id=contact).exists()
    # The follow-up finds nothing left and starts no run.
    assert outbound.notified_changes_push(job_name="push_contacts", tries=1) is None
    assert attempts_of(contact) == 1
