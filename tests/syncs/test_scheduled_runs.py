"""A real beat and a real worker run the jobs on their schedule; the runs show up as SyncRuns."""
import time

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from syncs.models import SyncRun
from syncs.schedules import schedules_apply

pytestmark = pytest.mark.slow


def test_it_runs_a_scheduled_job_through_beat_and_a_worker(worker_env, hub_processes):
    schedules_apply()
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.filter(name="pull_sales_orders").update(interval=every_second)

    hub_processes.start("worker", "-m", "celery", "-A", "integration_hub", "worker", "--loglevel", "INFO",
                        "--concurrency", "1", "--without-heartbeat", "--without-gossip", "--without-mingle")
    hub_processes.start("beat", "-m", "celery", "-A", "integration_hub", "beat", "--loglevel", "INFO",
                        "--pidfile", "", "--max-interval", "1")

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not SyncRun.objects.filter(job__name="pull_sales_orders").exists():
        time.sleep(0.5)
    runs = list(SyncRun.objects.filter(job__name="pull_sales_orders"))
    assert runs, "no scheduled run within 60 s\nbeat:\n" + hub_processes.log("beat") + "\nworker:\n" + hub_processes.log("worker")
    assert all(run.trigger == "schedule" and run.outcome in ("succeeded", "running") for run in runs), [(r.outcome, r.message) for r in runs]
    assert not SyncRun.objects.filter(job__name="pull_purchase_orders").exists()
