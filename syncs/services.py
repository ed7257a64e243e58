"""Services: the one place where sync work is started. Celery tasks, beat, admin actions and management commands all
call these functions."""
import logging
from datetime import datetime, timedelta, timezone as dt_timezone

from django.db import transaction
from django.utils import timezone

from django.db.models import Count, Q

from .engine import job_idle
from .jobs.registry import job_spec
from .models import (NEEDS_PERSON_STATUSES, AttemptStatus, Heartbeat, HourlyOutcome, RecordLink, RunOutcome, SyncAttempt,
                     SyncJob, SyncRun)

logger = logging.getLogger(__name__)


def sync_run(*, job_name: str, trigger: str = SyncRun.Trigger.MANUAL, dry_run: bool = False,
             since: datetime | None = None, progress=None) -> SyncRun:
    """Run one job once and return its SyncRun, whatever the outcome.

    `since` makes it a backfill of a pull job from that moment (watermark_before of the run records it). A backfill
    interrupted before it finished resumes from where its last committed page reached (the transport's mark), when asked again
    with the same `since`; the job's own watermark is left to the schedule.
    """
    job = SyncJob.objects.get(name=job_name)
    now = timezone.now()
    extra = {}
    if since is not None:
        trigger = SyncRun.Trigger.BACKFILL
        unfinished = (SyncRun.objects.filter(job=job, trigger=trigger, watermark_before_timestamp=since)
                      .exclude(outcome=RunOutcome.SUCCEEDED).exclude(watermark_after_timestamp=None).order_by("-started_at").first())
        extra["since"] = since
        extra["resume_from"] = ((unfinished.watermark_after_timestamp, unfinished.watermark_after_record_id)
                                if unfinished else None)
        extra["progress"] = progress
    run = SyncRun.objects.create(
        job=job,
        trigger=trigger,
        dry_run=dry_run,
        started_at=now,
        watermark_before_timestamp=since if since is not None else job.watermark_timestamp,
        watermark_before_record_id="" if since is not None else job.watermark_record_id,
    )
    if not job.enabled and trigger in (SyncRun.Trigger.SCHEDULE, SyncRun.Trigger.OUTBOUND):
        return _finish(run, RunOutcome.SKIPPED, "The job is disabled.")
    if trigger == SyncRun.Trigger.OUTBOUND:
        # Only the records Salesforce said changed (and the job's due tries): no sweep from the watermark.
        extra["restricted"] = True
    spec = job_spec(job.name)
    if spec is None:
        return _finish(run, RunOutcome.NOT_IMPLEMENTED, f"The {job.name} sync is not implemented yet: nothing was read or written.")
    try:
        outcome, message = spec.run(run=run, **extra)
    except Exception as exc:  # a runner's crash must still close its run, or the dashboard shows it running forever
        logger.exception("Run %s of %s crashed", run.pk, job.name)
        return _finish(run, RunOutcome.FAILED, f"{type(exc).__name__}: {exc}")
    return _finish(run, outcome, message)


def run_attempts_send(*, job_name: str, run_id: int) -> int:
    """Send a run's attempts beside the run's own senders, from this worker, until the run has read everything and
    nothing due is left (syncs/sending.py). Returns how many tries this worker closed."""
    run = SyncRun.objects.select_related("job").filter(pk=run_id, job__name=job_name).first()
    spec = job_spec(job_name)
    if run is None or spec is None or not hasattr(spec, "send_for"):
        return 0
    return spec.send_for(run=run)


def sync_sweep() -> list[str]:
    """Find jobs with work the broker may have lost (due retries, tries of a worker that died) and enqueue a run of
    each. The hub's tables, not the broker, are what guarantees that no record is forgotten."""
    from .tasks import run_sync_job

    now = timezone.now()
    Heartbeat.objects.update_or_create(name="sweeper", defaults={"at": now})
    _release_children_of_linked_parents()
    outcomes_rollup()
    due = SyncAttempt.objects.filter(
        Q(status=AttemptStatus.PENDING, superseded=False, next_attempt_at__lte=now)
        | Q(status=AttemptStatus.RUNNING, lease_expires_at__lt=now)
    )
    # A live run will send them itself.
    job_names = sorted(set(SyncJob.objects.filter(job_idle(now), enabled=True, attempts__in=due).values_list("name", flat=True)))
    for job_name in job_names:
        transaction.on_commit(lambda name=job_name: run_sync_job.delay(name, trigger=SyncRun.Trigger.SWEEP))
    from .outbound import notified_jobs_overdue

    idle = set(SyncJob.objects.filter(job_idle(now), enabled=True).values_list("name", flat=True))
    overdue = [name for name in notified_jobs_overdue(now) if name in idle and name not in job_names]
    for job_name in overdue:
        # Notified changes whose run the broker lost: their restricted run, as the hook would have asked.
        transaction.on_commit(lambda name=job_name: run_sync_job.delay(name, trigger=SyncRun.Trigger.OUTBOUND))
    return job_names + overdue


def outcomes_rollup(*, start: datetime | None = None, end: datetime | None = None) -> int:
    """Count the closed hours in [start, end) (default: the last 8 days) that the roll-up table lacks, and keep
    them. A closed hour never changes, so each is counted once; a concurrent count of the same hour is ignored.
    Returns how many hours were counted."""
    from .selectors import outcomes_counted

    end = end or timezone.now().astimezone(dt_timezone.utc).replace(minute=0, second=0, microsecond=0)
    start = start or end - timedelta(days=8)
    jobs = SyncJob.objects.count()
    counted = dict(HourlyOutcome.objects.filter(hour__gte=start, hour__lt=end).values("hour").annotate(n=Count("*"))
                   .values_list("hour", "n"))
    missing = [hour for hour in (start + timedelta(hours=i) for i in range(int((end - start).total_seconds() // 3600)))
               if counted.get(hour, 0) < jobs]
    if not missing:
        return 0
    # One read over the span of the missing hours (usually the one that just closed).
    wanted = set(missing)
    rows = [row for row in outcomes_counted(start=missing[0], end=missing[-1] + timedelta(hours=1)) if row.hour in wanted]
    HourlyOutcome.objects.bulk_create(rows, ignore_conflicts=True)
    return len(missing)


def _release_children_of_linked_parents() -> int:
    """A child can record "parent not in NetSuite yet" just after its parent landed and released the waiting
    children (the two commits race on separate workers). Such a child would wait for a person for nothing: give it
    its new try here."""
    from .attempts import PARENT_WAIT_CODES, attempts_retry

    held = SyncAttempt.objects.filter(status=AttemptStatus.FAILED, superseded=False, resolved_at__isnull=True,
                                      remote_code__in=PARENT_WAIT_CODES).exclude(waiting_on="")
    parents = set(held.values_list("waiting_on", flat=True))
    if not parents:
        return 0
    linked = set(RecordLink.objects.filter(record_type="Account", salesforce_id__in=parents).values_list("salesforce_id", flat=True))
    ready = list(held.filter(waiting_on__in=linked).values_list("id", flat=True))
    return len(attempts_retry(attempt_ids=ready)) if ready else 0


def _finish(run: SyncRun, outcome: str, message: str) -> SyncRun:
    run.outcome = outcome
    run.message = message
    run.finished_at = timezone.now()
    job = run.job
    with transaction.atomic():
        # Only what this function decides: the counters and cursor were written by the runner as it went.
        run.save(update_fields=["outcome", "message", "finished_at"])
        if not run.dry_run:
            SyncJob.objects.filter(pk=job.pk).update(
                last_run_started_at=run.started_at, last_run_finished_at=run.finished_at, last_outcome=outcome
            )
    logger.info("Run %s of %s finished: %s. %s", run.pk, job.name, outcome, message)
    return run


# --- what people do from the console ----------------------------------------------------------------------------------

class WatermarkBusy(Exception):
    """A run holds the job: moving its cursor now would be overwritten by the run's own advance."""


def attempts_retry_now(*, attempt_ids: list[int]) -> list[SyncAttempt]:
    """A person asks for another try of failed or dead records: new pending attempts, and a run of each job enqueued
    once they are committed (a worker that read the queue before the commit would find nothing to send)."""
    from .attempts import attempts_retry
    from .tasks import run_sync_job

    retried = attempts_retry(attempt_ids=attempt_ids, trigger=SyncRun.Trigger.RETRY)
    for job_name in sorted({attempt.job.name for attempt in retried}):
        transaction.on_commit(lambda name=job_name: run_sync_job.delay(name, trigger=SyncRun.Trigger.RETRY))
    return retried


def attempts_resolve(*, attempt_ids: list[int], user, note: str) -> int:
    """Settle failures a person has dealt with some other way (fixed in NetSuite by hand, record no longer wanted).
    The attempt stays as history but no longer counts as waiting. Returns how many were resolved."""
    return SyncAttempt.objects.filter(
        id__in=attempt_ids, status__in=NEEDS_PERSON_STATUSES, superseded=False, resolved_at__isnull=True
    ).update(resolved_at=timezone.now(), resolved_by=user, resolution_note=note)


def attempts_assign(*, attempt_ids: list[int], assignee) -> int:
    """Give failures to a person to look after (None: to nobody); a retry's new try stays theirs. Returns how many."""
    return SyncAttempt.objects.filter(id__in=attempt_ids).update(assigned_to=assignee)


def attempt_note_add(*, attempt_id: int, user, note: str) -> SyncAttempt:
    """A note on a record (finance: "broker asked to hold payment"), kept with the attempt, newest last."""
    with transaction.atomic():
        attempt = SyncAttempt.objects.select_for_update().get(pk=attempt_id)
        stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        line = f"[{stamp} {user.get_username()}] {note.strip()}"
        attempt.resolution_note = f"{attempt.resolution_note}\n{line}".strip()
        attempt.save(update_fields=["resolution_note"])
    return attempt


def sync_run_enqueue(*, job_name: str, trigger: str = SyncRun.Trigger.MANUAL) -> None:
    """Hand a run of the job to the workers after the current transaction commits."""
    from .tasks import run_sync_job

    SyncJob.objects.get(name=job_name)
    transaction.on_commit(lambda: run_sync_job.delay(job_name, trigger=trigger))


def watermark_reset(*, job_name: str, timestamp: datetime | None) -> tuple[datetime | None, str]:
    """Move a job's cursor back (or forward) so its next run reads every change since `timestamp`; None reads
    everything. Records read again are recognised by their content hash, so nothing unchanged is written twice.
    Returns the cursor it replaced."""
    job = SyncJob.objects.get(name=job_name)
    before = (job.watermark_timestamp, job.watermark_record_id)
    now = timezone.now()
    # A running run advances the cursor from its own copy and would undo the reset: only an idle job is moved.
    moved = SyncJob.objects.filter(job_idle(now), pk=job.pk).update(watermark_timestamp=timestamp, watermark_record_id="")
    if not moved:
        raise WatermarkBusy(f"{job_name} is running; reset its watermark once the run has finished.")
    return before


def alert_choices_save(*, user, email: str, kinds: dict[str, bool]) -> None:
    """A person's choice of alerts, and the address they go to."""
    from .models import AlertSubscription

    AlertSubscription.objects.update_or_create(user=user, defaults=kinds)
    if email != user.email:
        user.email = email
        user.save(update_fields=["email"])
