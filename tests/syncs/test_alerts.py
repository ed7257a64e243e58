"""Alerts through Django's email backend (locmem in tests) and a Slack-compatible webhook (a local receiver)."""
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from syncs.alerts import alert_reconciliation, alerts_send
from syncs.models import AlertSubscription, CircuitBreaker, Heartbeat, SyncAttempt, SyncJob
from syncs.reconcile import Finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(settings):
    """A local receiver standing in for Slack's incoming webhook: it keeps each JSON body posted to it."""
    received = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.HUB_ALERT_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/services/T000/B000/XXXX"
    yield received
    server.shutdown()


@pytest.fixture
def finance_lead():
    user = User.objects.create_user("fiona", email="fiona@example.com", is_staff=True)
    AlertSubscription.objects.create(user=user, failures=True, stale=True, credentials=True, reconciliation=True)
    return user


@pytest.fixture(autouse=True)
def beat_alive():
    Heartbeat.objects.update_or_create(name="sweeper", defaults={"at": timezone.now()})


def later(minutes):
    """A moment `minutes` from now, at which the sweeper is still alive."""
    moment = timezone.now() + timedelta(minutes=minutes)
    Heartbeat.objects.filter(name="sweeper").update(at=moment)
    return moment


def fail(job_name, n, code="INVALID_KEY_OR_REF", message="Invalid item reference key 999."):
    job = SyncJob.objects.get(name=job_name)
    return [SyncAttempt.objects.create(job=job, record_type=job.record_type, operation="upsert", status="failed",
                                       salesforce_id=f"006K{i:014d}", remote_code=code, remote_message=message)
            for i in range(n)]


def test_it_sends_one_digest_for_many_failures_and_none_when_nothing_changed(mailoutbox, webhook, finance_lead):
    fail("push_purchase_orders", 31)
    sent = alerts_send()
    assert [(a.kind, a.subject) for a in sent] == [("failures", "push_purchase_orders")]
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["fiona@example.com"]
    assert "31 new failures of" in mailoutbox[0].body and "INVALID_KEY_OR_REF: Invalid item reference key 999. (31)" in mailoutbox[0].body
    assert len(webhook) == 1 and "31 new failures" in webhook[0]["text"]

    assert alerts_send(now=later(20)) == []
    assert len(mailoutbox) == 1 and len(webhook) == 1


def test_it_gathers_failures_of_one_interval_into_the_next_digest(mailoutbox, finance_lead, settings):
    fail("push_accounts", 1, code="MAPPING_ERROR", message="No value mapping in 'account_type' for Type = 'Partner'.")
    alerts_send()
    job = SyncJob.objects.get(name="push_accounts")
    SyncAttempt.objects.create(job=job, record_type="Account", operation="upsert", status="failed",
                               salesforce_id="001K00000000000099", remote_code="DUP_ENTITY", remote_message="exists")
    assert alerts_send() == []   # within the interval: gathered, not sent
    sent = alerts_send(now=later(settings.HUB_ALERT_DIGEST_MINUTES + 1))
    assert len(sent) == 1 and len(mailoutbox) == 2
    assert "1 new failure of" in mailoutbox[1].body and "DUP_ENTITY" in mailoutbox[1].body and "MAPPING_ERROR" not in mailoutbox[1].body


def test_it_tells_of_a_job_gone_stale_once_while_it_lasts(mailoutbox, webhook, finance_lead):
    call_command("sync", "schedule")
    SyncJob.objects.filter(name="push_contacts").update(last_run_finished_at=timezone.now() - timedelta(hours=3))
    sent = alerts_send()
    assert [(a.kind, a.subject) for a in sent] == [("stale", "job:push_contacts")]
    assert "has not finished a run since" in mailoutbox[0].body and "Is a worker running it?" in webhook[0]["text"]
    assert alerts_send(now=later(30)) == []


def test_it_tells_when_the_sweeper_has_stopped(mailoutbox, finance_lead):
    Heartbeat.objects.filter(name="sweeper").update(at=timezone.now() - timedelta(minutes=30))
    sent = alerts_send()
    assert [(a.kind, a.subject) for a in sent] == [("stale", "beat")]
    assert "The sweeper has not run since" in mailoutbox[0].body


def test_it_tells_when_a_remote_system_refuses_the_hubs_credentials(mailoutbox, webhook, finance_lead):
    CircuitBreaker.objects.create(system="salesforce", last_fault_code="invalid_grant",
                                  last_fault_message="expired access/refresh token", last_fault_at=timezone.now())
    fail("push_accounts", 2, code="INVALID_LOGIN_ATTEMPT", message="Invalid login attempt.")
    sent = alerts_send()
    kinds = sorted((a.kind, a.subject) for a in sent)
    assert ("credentials", "system:NetSuite") in kinds and ("credentials", "system:Salesforce") in kinds
    salesforce = next(m for m in mailoutbox if "Salesforce refuses the hub's credentials" in m.body)
    assert "invalid_grant: expired access/refresh token" in salesforce.body
    assert not [a for a in alerts_send(now=later(30)) if a.kind == "credentials"]


def test_it_tells_of_reconciliation_differences_only_when_there_are_some(mailoutbox, finance_lead):
    assert alert_reconciliation(findings=[Finding("Accounts → Customers and Vendors", 40, 40)]) == []
    sent = alert_reconciliation(findings=[Finding("Funded applications → Sales Orders", 12, 11, missing=["006A"])])
    assert len(sent) == 1 and "expected 12, found 11 (missing 1)" in mailoutbox[0].body


def test_it_sends_each_person_only_what_they_chose(mailoutbox, finance_lead):
    ops = User.objects.create_user("otto", email="otto@example.com", is_staff=True)
    AlertSubscription.objects.create(user=ops, stale=True)
    fail("push_purchase_orders", 2)
    alerts_send()
    assert [m.to for m in mailoutbox] == [["fiona@example.com"]]
