"""/metrics in Prometheus' text format, behind a bearer token."""
import uuid

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from syncs.models import ApiUsage, SyncAttempt, SyncJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(settings):
    settings.HUB_METRICS_TOKEN = "scrape-me"
    return "scrape-me"


@pytest.fixture(autouse=True)
def own_budget(settings, tmp_path):
    """A NetSuite budget of this test's own: the shared one (Redis or lock files) may hold slots of another test's
    killed workers until their leases run out."""
    from syncs import concurrency

    settings.NETSUITE = {**settings.NETSUITE, "ACCOUNT": f"METRICS{uuid.uuid4().hex[:8]}"}
    settings.VAR_DIR = tmp_path
    concurrency._budget = None
    yield
    concurrency._budget = None


def samples(body: str) -> dict:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def test_it_answers_only_with_the_token(client, settings):
    settings.HUB_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    settings.HUB_METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_it_gives_per_job_tries_failures_waiting_lag_slots_and_salesforce_usage(client, token):
    job = SyncJob.objects.get(name="push_purchase_orders")
    now = timezone.now()
    for n in range(3):
        SyncAttempt.objects.create(job=job, record_type=job.record_type, operation="upsert", status="succeeded",
                                   salesforce_id=f"006M{n:014d}", finished_at=now)
    SyncAttempt.objects.create(job=job, record_type=job.record_type, operation="upsert", status="failed",
                               salesforce_id="006M00000000000009", remote_code="X", finished_at=now)
    ApiUsage.objects.create(system="salesforce", used=1200, allocation=15000, seen_at=now)
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    found = samples(response.content.decode())
    job_label = (("job", "push_purchase_orders"),)
    assert found[("hub_job_tries_total", (("job", "push_purchase_orders"), ("outcome", "succeeded")))] == 3
    assert found[("hub_job_tries_total", (("job", "push_purchase_orders"), ("outcome", "failed")))] == 1
    assert found[("hub_job_failures_waiting", (("job", "push_purchase_orders"), ("status", "failed")))] == 1
    assert found[("hub_job_lag_seconds", job_label)] >= 0
    assert found[("hub_netsuite_concurrency_slots_in_use", ())] == 0
    assert found[("hub_netsuite_concurrency_limit", ())] == 5
    assert found[("hub_salesforce_api_requests_used", ())] == 1200
    assert found[("hub_salesforce_api_requests_allocation", ())] == 15000


def test_it_counts_the_netsuite_slots_held(client, token):
    from syncs import concurrency

    with concurrency.netsuite_budget().slot():
        found = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode())
    assert found[("hub_netsuite_concurrency_slots_in_use", ())] == 1
