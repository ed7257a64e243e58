"""The outbound-message hook: who may call it, what XML it refuses, and what it records (no Salesforce needed: the
restricted runs it asks for are only recorded here; tests/syncs/test_outbound_pushes.py runs them)."""
import pytest
from django.urls import reverse

from syncs.models import NotifiedChange, OutboundNotification, SyncRun, salesforce_id_18
from tests.syncs.outbound_messages import ORG_15, envelope, notification_id

TOKEN = "s3cret-outbound-token"
ACCOUNT = "0015g00000AbCdEAAZ"


@pytest.fixture
def hook(settings, seeded_hub, monkeypatch):
    settings.HUB_OUTBOUND_TOKEN = TOKEN
    settings.SALESFORCE = {**settings.SALESFORCE, "ORGANIZATION_ID": ORG_15}
    enqueued = []
    monkeypatch.setattr("syncs.outbound._enqueue", lambda name, tries, countdown=0: enqueued.append(name))
    return enqueued


def post(client, body, token=TOKEN):
    return client.post(reverse("salesforce-outbound", args=[token]), data=body, content_type="text/xml; charset=utf-8")


def account_message(number=1, modified="2026-03-01T10:00:00.000Z", organization_id=None):
    return envelope([(notification_id(number), "Account", {"Id": ACCOUNT, "Name": "Acme", "LastModifiedDate": modified})],
                    organization_id=organization_id or salesforce_id_18(ORG_15))


def nothing_recorded():
    return (OutboundNotification.objects.count(), NotifiedChange.objects.count(), SyncRun.objects.count()) == (0, 0, 0)


def test_it_acknowledges_after_recording_and_asks_for_the_jobs_of_the_object(client, hook, django_capture_on_commit_callbacks):
    body = envelope([(notification_id(1), "Account", {"Id": ACCOUNT, "LastModifiedDate": "2026-03-01T10:00:00.000Z"}),
                     (notification_id(2), "Opportunity", {"Id": "0065g00000AbCdEAAZ"})],
                    organization_id=salesforce_id_18(ORG_15))
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, body)
    assert response.status_code == 200
    assert b"<Ack>true</Ack>" in response.content
    assert OutboundNotification.objects.count() == 2
    changes = sorted(NotifiedChange.objects.values_list("job__name", "salesforce_id"))
    assert changes == sorted([("push_accounts", ACCOUNT), ("push_sales_orders", "0065g00000AbCdEAAZ"),
                              ("push_purchase_orders", "0065g00000AbCdEAAZ"),
                              ("push_sales_order_lines", "0065g00000AbCdEAAZ"),
                              ("push_purchase_order_lines", "0065g00000AbCdEAAZ")])
    assert sorted(hook) == sorted(name for name, _ in changes)


def test_it_takes_the_15_character_org_id_for_the_18_character_one(client, hook, settings):
    settings.SALESFORCE = {**settings.SALESFORCE, "ORGANIZATION_ID": salesforce_id_18(ORG_15)}
    assert post(client, account_message(organization_id=ORG_15)).status_code == 200


@pytest.mark.parametrize("token", ["wrong", TOKEN[:-1], TOKEN + "x"])
def test_it_refuses_a_wrong_token_without_effect(client, hook, token):
    response = post(client, account_message(), token=token)
    assert response.status_code == 403
    assert b"Ack" not in response.content
    assert nothing_recorded() and hook == []


def test_it_is_not_there_without_a_token_set(client, hook, settings):
    settings.HUB_OUTBOUND_TOKEN = ""
    assert post(client, account_message(), token="anything").status_code == 404
    assert nothing_recorded()


def test_it_refuses_another_orgs_message_without_effect(client, hook):
    other = salesforce_id_18("00D5g000004XyZb")
    response = post(client, account_message(organization_id=other))
    assert response.status_code == 403
    assert b"another organization" in response.content and b"Ack" not in response.content
    assert nothing_recorded() and hook == []


def test_it_refuses_an_xml_bomb(client, hook):
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
            '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
            '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
            '<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>&lol3;</OrganizationId>'
            '</notifications></soapenv:Body></soapenv:Envelope>').encode()
    response = post(client, bomb)
    assert response.status_code == 400 and b"Ack" not in response.content
    assert nothing_recorded()


def test_it_refuses_an_external_entity(client, hook, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("0015g00000AbCdEAAZ")
    body = account_message().decode().replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE x [<!ENTITY ext SYSTEM "file://{secret}">]>'
    ).replace(f"<sf:Id>{ACCOUNT}</sf:Id>", "<sf:Id>&ext;</sf:Id>")
    response = post(client, body.encode())
    assert response.status_code == 400 and b"Ack" not in response.content
    assert nothing_recorded()


def test_it_refuses_what_is_not_a_notifications_envelope(client, hook):
    assert post(client, b"<html>hello</html>").status_code == 400
    assert post(client, b"not xml at all").status_code == 400
    assert client.get(reverse("salesforce-outbound", args=[TOKEN])).status_code == 405
    assert nothing_recorded()


def test_the_same_notification_twice_asks_for_nothing_more(client, hook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, account_message(1)).status_code == 200
        again = post(client, account_message(1))
    assert again.status_code == 200 and b"<Ack>true</Ack>" in again.content, "a duplicate is acknowledged too"
    assert OutboundNotification.objects.count() == 1
    assert NotifiedChange.objects.count() == 1
    assert hook == ["push_accounts"]


def test_an_older_change_after_a_newer_one_is_stale_and_asks_for_nothing(client, hook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        post(client, account_message(2, modified="2026-03-01T10:05:00.000Z"))
        late = post(client, account_message(1, modified="2026-03-01T10:00:00.000Z"))
    assert late.status_code == 200
    old = OutboundNotification.objects.get(notification_id=notification_id(1))
    assert old.stale
    assert list(NotifiedChange.objects.values_list("notification__notification_id", flat=True)) == [notification_id(2)]
    assert hook == ["push_accounts"]


def test_the_sweeper_asks_again_for_notified_changes_whose_run_was_lost(seeded_hub, monkeypatch, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from syncs.models import SyncJob
    from syncs.services import sync_sweep

    asked = []
    monkeypatch.setattr("syncs.tasks.run_sync_job.delay", lambda name, trigger="schedule": asked.append((name, trigger)))
    notification = OutboundNotification.objects.create(
        notification_id=notification_id(7), organization_id=salesforce_id_18(ORG_15), action_id="04k5g0000000001AAA",
        object_type="Account", salesforce_id=ACCOUNT, received_at=timezone.now())
    job = SyncJob.objects.get(name="push_accounts")
    NotifiedChange.objects.create(job=job, notification=notification, object_type="Account", salesforce_id=ACCOUNT,
                                  requested_at=timezone.now() - timedelta(seconds=20))
    with django_capture_on_commit_callbacks(execute=True):
        sync_sweep()
    assert asked == [], "a fresh notice is the hook's task's to run"
    NotifiedChange.objects.update(requested_at=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        sync_sweep()
    assert asked == [("push_accounts", SyncRun.Trigger.OUTBOUND)]
