import json
from datetime import timedelta

import pytest
from django.utils import timezone
from syncs.models import Heartbeat, SyncJob
from syncs.schedules import schedules_apply
from syncs.services import sync_sweep

pytestmark = pytest.mark.django_db


def test_it_reports_healthy_with_a_ticking_beat_and_fresh_jobs(client):
    schedules_apply()
    sync_sweep()  # what the beat has a worker do every minute
    SyncJob.objects.update(last_run_finished_at=timezone.now(), last_outcome="succeeded")
    response = client.get("/healthz")
    body = json.loads(response.content)
    assert response.status_code == 200, body
    assert body["status"] == "healthy"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"] and body["checks"]["beat"]["ok"]
    assert set(body["checks"]["jobs"]) == set(SyncJob.objects.values_list("name", flat=True))


def test_it_reports_each_remote_systems_breaker(client, settings):
    from syncs.breakers import breaker_fault
    from syncs.clients.errors import TransientError

    settings.HUB_BREAKER_THRESHOLD = 1
    breaker_fault("salesforce", TransientError("SERVER_UNAVAILABLE", "down"))
    body = json.loads(client.get("/healthz").content)
    remote = body["checks"]["remote_systems"]["salesforce"]
    assert (remote["state"], remote["consecutive_faults"], remote["last_fault_code"]) == ("open", 1, "SERVER_UNAVAILABLE")


def test_it_reports_a_silent_beat_and_a_stale_job(client):
    schedules_apply()
    Heartbeat.objects.create(name="sweeper", at=timezone.now() - timedelta(hours=1))
    SyncJob.objects.update(last_run_finished_at=timezone.now())
    SyncJob.objects.filter(name="push_accounts").update(last_run_finished_at=timezone.now() - timedelta(hours=2))
    response = client.get("/healthz")
    body = json.loads(response.content)
    assert response.status_code == 503
    assert not body["checks"]["beat"]["ok"]
    assert not body["checks"]["jobs"]["push_accounts"]["ok"]
    assert body["checks"]["jobs"]["push_contacts"]["ok"]


def test_it_needs_no_login_and_shows_no_record_data(client):
    response = client.get("/healthz")
    assert response.status_code in (200, 503)
    assert "password" not in response.content.decode().lower()


def test_it_counts_the_records_waiting_to_retry_and_for_a_person(client):
    from syncs.models import SyncAttempt

    job = SyncJob.objects.get(name="push_contacts")
    for status, superseded in (("pending", False), ("pending", False), ("failed", False), ("failed", True), ("dead", False)):
        SyncAttempt.objects.create(job=job, record_type="Contact", operation="upsert", status=status, superseded=superseded)
    body = json.loads(client.get("/healthz").content)
    assert body["checks"]["jobs"]["push_contacts"]["waiting_to_retry"] == 2
    assert body["checks"]["jobs"]["push_contacts"]["needs_person"] == 2
    assert body["checks"]["jobs"]["push_accounts"]["waiting_to_retry"] == 0
