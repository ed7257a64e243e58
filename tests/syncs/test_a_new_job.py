"""A new job is one spec: declared here, in a test module, and nowhere else in the hub, it gets its row, its
mappings and its schedule, and runs end to end against both sandboxes."""
import pytest
from django_celery_beat.models import PeriodicTask

from mappings.models import FieldMapping
from syncs.jobs.apply import jobs_apply
from syncs.jobs.pushes import PushJob
from syncs.jobs.registry import job_register, job_unregister
from syncs.models import RecordLink, SyncAttempt, SyncJob
from syncs.schedules import schedules_apply
from syncs.services import sync_run

pytestmark = pytest.mark.slow


class PushBrokers(PushJob):
    """Brokers only, as NetSuite Vendors (say, for a funder that keeps merchants in another system)."""

    source_object = "Account"
    netsuite_type = "vendor"

    def where(self, ctx):
        return "Type = {type}", {"type": "Broker"}


BROKERS = PushBrokers(
    "push_brokers", title="Brokers → Vendors", description="Broker Accounts become NetSuite Vendors.",
    source_record_type="Account", target_record_type="vendor", record_type="Account", stage=1, every_minutes=30,
    default_mappings=[
        ("Id", "externalId", "none", "", True, ""),
        ("Name", "companyName", "truncate", "83", True, ""),
        ("Phone", "phone", "strip", "", False, ""),
    ],
)


@pytest.fixture
def brokers_job(seeded_hub):
    job_register(BROKERS)
    jobs_apply()
    yield SyncJob.objects.get(name="push_brokers")
    job_unregister("push_brokers")


def test_it_gives_a_registered_job_its_row_mappings_and_schedule(brokers_job):
    assert (brokers_job.direction, brokers_job.source_system, brokers_job.target_system) == ("push", "salesforce", "netsuite")
    assert list(FieldMapping.objects.filter(job=brokers_job).order_by("order").values_list("source_field", "target_field")) == [
        ("Id", "externalId"), ("Name", "companyName"), ("Phone", "phone")]
    schedules_apply()
    assert PeriodicTask.objects.get(name="push_brokers").interval.every == 30


def test_it_keeps_ops_edits_when_the_jobs_are_applied_again(brokers_job):
    FieldMapping.objects.filter(job=brokers_job, target_field="phone").update(source_field="MobilePhone")
    SyncJob.objects.filter(pk=brokers_job.pk).update(enabled=False)
    jobs_apply()
    assert FieldMapping.objects.get(job=brokers_job, target_field="phone").source_field == "MobilePhone"
    assert SyncJob.objects.get(pk=brokers_job.pk).enabled is False


def test_it_runs_a_new_job_end_to_end(brokers_job, hub_on_sandboxes):
    salesforce, netsuite = hub_on_sandboxes
    run = sync_run(job_name="push_brokers")
    assert run.outcome == "succeeded", run.message

    brokers = salesforce.client().query_all("SELECT Id FROM Account WHERE Type = 'Broker'")["records"]
    assert brokers
    counts = netsuite.stats()["records"]
    assert counts.get("vendor", 0) == len(brokers) and counts.get("customer", 0) == 0
    assert run.records_written == len(brokers)
    assert set(RecordLink.objects.filter(record_type="Account").values_list("salesforce_id", flat=True)) == {b["Id"] for b in brokers}
    assert SyncAttempt.objects.filter(job=brokers_job, status="succeeded").count() == len(brokers)

    again = sync_run(job_name="push_brokers")
    assert (again.outcome, again.records_written) == ("succeeded", 0), again.message
