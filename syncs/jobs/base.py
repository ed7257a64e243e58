"""What every job is, and the part of a run that is the same for all of them.

A job spec is declared once (syncs/catalog.py): its name, what it moves from where to where, its cadence and its
default mappings. Its class says how it reads, plans and writes; the run skeleton here does the rest — the
master-of-record check before any remote call, one run per job at a time, the pause when Salesforce's daily API
allocation is nearly spent, and an outcome that counts what happened.
"""
from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from mappings.services import MappingSet, MasterRuleViolation, mapping_set_for, master_rule_enforce

from ..attempts import PARENT_WAIT_CODES
from ..engine import JobLeaseKeeper, job_lease_acquire, job_lease_release
from ..models import (NEEDS_PERSON_STATUSES, ApiUsage, AttemptStatus, CircuitBreaker, Direction, RunOutcome, SyncAttempt,
                      SyncJob, SyncRun, System)


class JobSpec:
    """One job. Subclasses say how it moves records (`run`); an instance says which records (the declaration)."""

    direction = ""
    # A pull may backfill history from a given moment (`sync run … --since`).
    supports_backfill = False
    # Failed records of this job are finance's to review (the commission queue).
    finance_reviews = False
    # Keys of a mapped record that route it rather than being target fields.
    routing_fields: tuple = ()

    def __init__(self, name: str, *, title: str, description: str, source_record_type: str, target_record_type: str,
                 record_type: str, stage: int, every_minutes: int, batch_size: int = 100,
                 default_mappings: list[tuple] = (), **relations):
        self.name, self.title, self.description = name, title, description
        self.source_record_type, self.target_record_type, self.record_type = source_record_type, target_record_type, record_type
        self.stage, self.every_minutes, self.batch_size = stage, every_minutes, batch_size
        # (source field, target field, transform, argument, required, default): what a new install starts with.
        self.default_mappings = list(default_mappings)
        for relation, value in relations.items():
            # Names of related jobs (e.g. lines_job="push_sales_order_lines"); only those the class declares.
            if not hasattr(type(self), relation):
                raise TypeError(f"{type(self).__name__} has no relation {relation!r}")
            setattr(self, relation, value)

    @property
    def netsuite_record_types(self) -> tuple[str, ...]:
        """The NetSuite record types whose fields this job's mappings name."""
        return (self.target_record_type,) if self.direction == Direction.PUSH else (self.source_record_type,)

    @property
    def source_system(self) -> str:
        return System.SALESFORCE if self.direction == Direction.PUSH else System.NETSUITE

    @property
    def target_system(self) -> str:
        return System.NETSUITE if self.direction == Direction.PUSH else System.SALESFORCE

    def row(self) -> dict:
        """The job's SyncJob fields that the declaration owns (ops own the rest: enabled, schedule, watermark)."""
        return {"title": self.title, "description": self.description, "direction": self.direction,
                "source_system": self.source_system, "source_record_type": self.source_record_type,
                "target_system": self.target_system, "target_record_type": self.target_record_type,
                "record_type": self.record_type, "stage": self.stage, "batch_size": self.batch_size}

    def run(self, *, run: SyncRun, **options) -> tuple[str, str]:
        raise NotImplementedError

    def refusal(self, job: SyncJob, mappings: MappingSet) -> str:
        """Why this job may not run with these mappings ('' if it may), decided before any remote call."""
        try:
            master_rule_enforce(job=job, target_fields=[f for f in mappings.target_fields if f not in self.routing_fields])
        except MasterRuleViolation as refusal:
            return str(refusal)
        return ""

    def mappings(self) -> MappingSet:
        return mapping_set_for(job_name=self.name)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"


def job_run_leased(spec: JobSpec, run: SyncRun, mappings: MappingSet, body) -> tuple[str, str]:
    """The run skeleton: refuse what the master rules forbid, hold the job's lease while `body()` runs."""
    job = run.job
    refusal = spec.refusal(job, mappings)
    if refusal:
        return RunOutcome.FAILED, refusal
    if not job_lease_acquire(job, run):
        return RunOutcome.SKIPPED, "Another run of this job is still working."
    try:
        with JobLeaseKeeper(job):
            return body()
    finally:
        job_lease_release(job)


def salesforce_pause(job: SyncJob, salesforce) -> str:
    """The reason to hold the job back ('' to go on), kept on the job for the dashboard; the usage seen is kept for
    /metrics."""
    usage = salesforce.api_usage
    if usage:
        ApiUsage.objects.update_or_create(system=System.SALESFORCE, defaults={
            "used": usage[0], "allocation": usage[1], "seen_at": timezone.now()})
    pause = api_pause_reason(salesforce, usage=usage)
    SyncJob.objects.filter(pk=job.pk).update(paused_reason=pause)
    return pause


def api_pause_reason(salesforce, *, usage: tuple[int, int] | None = None) -> str:
    """Why to hold back ('' if not): the daily API allocation is spent down to the reserve kept for people and
    other integrations. `usage` (used, total) as already known; else the client asks Salesforce."""
    usage = usage if usage is not None else salesforce.api_usage
    if not usage:
        return ""
    used, total = usage
    reserve = total * settings.HUB_SALESFORCE_API_RESERVE_PERCENT / 100
    if total and total - used <= reserve:
        return (f"Paused: Salesforce daily API requests nearly spent ({used} of {total} used; the last "
                f"{settings.HUB_SALESFORCE_API_RESERVE_PERCENT}% are kept for people and other integrations).")
    return ""


def salesforce_pause_between_pages(job: SyncJob, salesforce) -> str:
    """After a page: the reason to stop reading now ('' to go on), from the usage the last answer reported (no
    request spent). What was committed stays; the next run resumes from the watermark."""
    usage = salesforce.api_usage_seen
    pause = api_pause_reason(salesforce, usage=usage) if usage else ""
    if pause:
        SyncJob.objects.filter(pk=job.pk).update(paused_reason=pause)
    return pause


def salesforce_refused(job: SyncJob, error) -> tuple[str, str] | None:
    """A run's answer to Salesforce refusing for its daily allocation (REQUEST_LIMIT_EXCEEDED): paused, not an
    outage. None for any other error."""
    if getattr(error, "code", "") != "REQUEST_LIMIT_EXCEEDED":
        return None
    reason = (f"Paused: Salesforce's daily API allocation is spent (REQUEST_LIMIT_EXCEEDED: {error.message}). The job "
              "goes on by itself at its next run once the allocation allows.")
    SyncJob.objects.filter(pk=job.pk).update(paused_reason=reason)
    return RunOutcome.PAUSED, reason


def run_outcome(run: SyncRun, planned: int, skipped: int, reclaimed: int, *, not_written=()) -> tuple[str, str]:
    """Count what the run did and say it. `not_written`: operations of the run's own bookkeeping (a roll-up), not
    counted as records written."""
    attempts = SyncAttempt.objects.filter(run=run)
    written = attempts.filter(status=AttemptStatus.SUCCEEDED).exclude(operation__in=list(not_written)).count()
    open_failures = attempts.filter(status__in=NEEDS_PERSON_STATUSES, superseded=False)
    # A record held back for its parent goes through by itself once the parent does: the parent's own run says
    # whether a person is needed, so the child is counted as waiting, not failed.
    held = open_failures.filter(remote_code__in=PARENT_WAIT_CODES).count()
    failed = open_failures.count() - held
    waiting = SyncAttempt.objects.filter(job=run.job, status=AttemptStatus.PENDING, superseded=False).count()
    SyncRun.objects.filter(pk=run.pk).update(records_written=written, records_failed=failed, records_skipped=skipped)
    run.refresh_from_db()  # the counters and the run's watermark were written by UPDATEs; the run is saved after this
    message = f"{planned} changed, {skipped} unchanged, {written} written, {failed} failed, {waiting} waiting to retry."
    if held:
        message += f" {held} held back until their parent is in NetSuite."
    if reclaimed:
        message += f" {reclaimed} tries of a stopped worker reclaimed."
    breaker = CircuitBreaker.objects.filter(system=run.job.target_system).first()
    if breaker and breaker.is_open(timezone.now()):
        message += (f" {breaker.get_system_display()} is failing whole requests ({breaker.consecutive_faults} in a row, "
                    f"last {breaker.last_fault_code}): the hub holds back until {breaker.open_until:%H:%M:%S} UTC, then tries again.")
    return outcome_of(written=written, failed=failed, waiting=waiting + held), message


def outcome_of(*, written: int, failed: int, waiting: int) -> str:
    """A run is a success only when nothing it touched failed or still waits: records that failed with nothing
    written make it failed, some failures partly failed, and records waiting for another try say so."""
    if failed and not written:
        return RunOutcome.FAILED
    if failed:
        return RunOutcome.PARTIAL
    if waiting:
        return RunOutcome.RETRYING
    return RunOutcome.SUCCEEDED
