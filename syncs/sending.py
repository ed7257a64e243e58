"""A push run's sending spread over several worker processes, on any number of machines.

The run reads Salesforce and commits pending attempts as before, and enqueues helpers (a `send_run_attempts` task
each) that claim and send the same run's attempts beside its own sender threads. Claims are `SKIP LOCKED`, so no
attempt goes out twice; every request still takes a slot of the one NetSuite concurrency budget (Redis across
machines). A helper stops when the run has read everything and nothing due is left; the run ends when its own and
its helpers' tries have (its senders wait while any try of the job runs under a live lease), so its outcome and
counts cover every record it planned, whoever sent it. Each worker renews the leases of the tries it holds while
their batch is on its way (syncs/attempt_leases.py), so a helper that dies mid-batch leaves its tries running only
until their short lease runs out (HUB_ATTEMPT_LEASE_SECONDS, a minute by default); they are then reclaimed with an
unknown outcome and looked up (or resent under their batch's idempotency key) before anything is written again.

On the embedded default (SQLite, one worker) there are no helpers: HUB_SEND_WORKERS is 1.
"""
import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .engine import job_idle
from .models import RunOutcome, SyncJob, SyncRun


def send_workers() -> int:
    """How many worker processes one run's sending is spread over, its own included."""
    return max(1, settings.HUB_SEND_WORKERS)


def sender_threads(*, limit: int, workers: int) -> int:
    """Sender threads in each of `workers` processes: twice the concurrency limit in all (a sender spends part of
    each batch outside its slot), at least two in each."""
    return max(2, math.ceil(2 * limit / workers))


def helpers_enqueue(*, run: SyncRun, helpers: int) -> None:
    """Ask `helpers` workers to send this run's attempts too (after the current transaction, if one is open)."""
    from .tasks import send_run_attempts

    for _ in range(helpers):
        transaction.on_commit(lambda: send_run_attempts.delay(run.job.name, run.pk))


def run_reading_finish(run: SyncRun) -> None:
    SyncRun.objects.filter(pk=run.pk).update(reading_finished_at=timezone.now())


def run_reading_finished(run_id: int) -> bool:
    """Whether a helper can stop once nothing is due: the run has read everything, or it is over, or its worker is
    gone (its job's lease ran out)."""
    run = SyncRun.objects.filter(pk=run_id).values("reading_finished_at", "outcome", "job_id").first()
    if run is None or run["reading_finished_at"] is not None or run["outcome"] != RunOutcome.RUNNING:
        return True
    return SyncJob.objects.filter(job_idle(timezone.now()), pk=run["job_id"]).exists()
