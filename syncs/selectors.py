"""Reads for the console and the commands, each in a fixed number of queries whatever the number of jobs, and each
served by an index so the pages stay fast with millions of attempts stored."""
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from decimal import Decimal, InvalidOperation

from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count, Max, Min, Q
from django.db.models.functions import TruncHour
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from .models import (NEEDS_PERSON_STATUSES, AttemptStatus, CircuitBreaker, Heartbeat, HourlyOutcome, RecordLink,
                     RunOutcome, SyncAttempt, SyncJob, SyncRun)
from .jobs.registry import job_spec, job_specs
from .schedules import SWEEP_EVERY_MINUTES, schedule_display

# Failed or dead, not taken over by a later try and not resolved by a person: what waits for someone.
# A try waiting for a person, as a filter.
NEEDS_PERSON = Q(status__in=NEEDS_PERSON_STATUSES, superseded=False, resolved_at__isnull=True)
OPEN = Q(status__in=[AttemptStatus.PENDING, AttemptStatus.RUNNING], superseded=False)


@dataclass(frozen=True)
class JobStatus:
    job: SyncJob
    schedule: str
    failed_waiting: int


def job_status_list() -> list[JobStatus]:
    jobs = SyncJob.objects.order_by("stage", "id")
    waiting = dict(SyncAttempt.objects.filter(NEEDS_PERSON).values("job_id").annotate(n=Count("*")).values_list("job_id", "n"))
    tasks = _periodic_tasks()
    return [JobStatus(job=job, schedule=schedule_display(tasks.get(job.name)), failed_waiting=waiting.get(job.pk, 0)) for job in jobs]


def error_codes(*, limit: int = 60) -> list[str]:
    """The distinct remote error codes, for the attempts filter. On PostgreSQL a recursive query hops from one code
    to the next through the error-code index, a handful of index probes instead of reading every failed attempt."""
    if connection.vendor != "postgresql":
        codes = SyncAttempt.objects.exclude(remote_code="").order_by("remote_code").values_list("remote_code", flat=True).distinct()
        return list(codes[:limit])
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE codes AS (
                (SELECT remote_code FROM syncs_syncattempt WHERE remote_code <> '' ORDER BY remote_code LIMIT 1)
                UNION ALL
                SELECT (SELECT a.remote_code FROM syncs_syncattempt a WHERE a.remote_code <> '' AND a.remote_code > codes.remote_code
                        ORDER BY a.remote_code LIMIT 1)
                FROM codes WHERE codes.remote_code IS NOT NULL
            )
            SELECT remote_code FROM codes WHERE remote_code IS NOT NULL LIMIT %s
            """,
            [limit],
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass(frozen=True)
class JobHealth:
    job: SyncJob
    schedule: str
    last_run: SyncRun | None
    moved_last_24h: int
    failed_waiting: int
    dead_waiting: int
    in_flight: int
    lag: timedelta | None
    lag_basis: str

    @property
    def needs_person(self) -> int:
        return self.failed_waiting + self.dead_waiting


def job_health_list(*, now: datetime | None = None, counts: list[dict] | None = None) -> list[JobHealth]:
    """Each job's health for the dashboard.

    Lag is the age of the oldest change the hub knows it has not yet delivered: the oldest attempt still pending,
    running, failed or dead (not superseded, not resolved). With nothing waiting it is the time since the last
    completed run started, since a change made after that moment has not been read yet; a job that never ran has
    no lag figure.
    """
    now = now or timezone.now()
    jobs = list(SyncJob.objects.order_by("stage", "id"))
    moved: dict[int, int] = {}
    for row in hourly_outcomes(now=now, hours=24):
        moved[row.job_id] = moved.get(row.job_id, 0) + row.succeeded
    waiting: dict[tuple[int, str], int] = {}
    oldest: dict[int, datetime] = {}
    for row in counts if counts is not None else waiting_counts():
        waiting[(row["job_id"], row["status"])] = waiting.get((row["job_id"], row["status"]), 0) + row["n"]
        oldest[row["job_id"]] = min(row["first"], oldest.get(row["job_id"], row["first"]))
    in_flight = {}
    for row in SyncAttempt.objects.filter(OPEN).values("job_id").annotate(n=Count("*"), first=Min("created_at")):
        in_flight[row["job_id"]] = row["n"]
        oldest[row["job_id"]] = min(row["first"], oldest.get(row["job_id"], row["first"]))
    last_runs = _last_runs(jobs)
    completed = _last_runs(jobs, outcomes=[RunOutcome.SUCCEEDED, RunOutcome.PARTIAL, RunOutcome.RETRYING])
    tasks = _periodic_tasks()
    health = []
    for job in jobs:
        if job.pk in oldest:
            lag, basis = now - oldest[job.pk], "oldest change waiting"
        elif job.pk in completed:
            lag, basis = now - completed[job.pk].started_at, "since the last completed run began"
        else:
            lag, basis = None, "never ran"
        health.append(JobHealth(
            job=job, schedule=schedule_display(tasks.get(job.name)), last_run=last_runs.get(job.pk),
            moved_last_24h=moved.get(job.pk, 0), failed_waiting=waiting.get((job.pk, AttemptStatus.FAILED), 0),
            dead_waiting=waiting.get((job.pk, AttemptStatus.DEAD), 0), in_flight=in_flight.get(job.pk, 0),
            lag=lag, lag_basis=basis,
        ))
    return health


def waiting_counts() -> list[dict]:
    """What waits for a person, by job, status and remote code: how many, the oldest and the newest. One pass over
    one partial index, shared by the dashboard's job table and its failure groups (cached for the request)."""
    return list(SyncAttempt.objects.filter(NEEDS_PERSON).values("job_id", "status", "remote_code")
                .annotate(n=Count("*"), first=Min("created_at"), last=Max("created_at")).order_by())


def _last_runs(jobs: list[SyncJob], outcomes: list[str] | None = None) -> dict[int, SyncRun]:
    runs = {}
    for job in jobs:
        query = SyncRun.objects.filter(job=job, dry_run=False)
        if outcomes:
            query = query.filter(outcome__in=outcomes)
        run = query.order_by("-started_at", "-id").first()
        if run is not None:
            runs[job.pk] = run
    return runs


def _periodic_tasks() -> dict[str, PeriodicTask]:
    return {task.name: task for task in PeriodicTask.objects.select_related("interval", "crontab", "solar", "clocked")}


FINISHED_STATUSES = (AttemptStatus.SUCCEEDED, AttemptStatus.FAILED, AttemptStatus.DEAD)


def outcomes_counted(*, start: datetime, end: datetime) -> list[HourlyOutcome]:
    """Tries that finished in [start, end) per closed hour and job, counted from the attempts (the finished-at
    index alone), one row for every hour and job (zeros too, so an hour counted is told from one not counted)."""
    counts: dict[tuple[datetime, int], list[int]] = {}
    rows = (SyncAttempt.objects.filter(finished_at__gte=start, finished_at__lt=end, status__in=FINISHED_STATUSES)
            .annotate(hour=TruncHour("finished_at", tzinfo=dt_timezone.utc)).values("hour", "job_id", "status")
            .annotate(n=Count("*")).order_by())
    for row in rows:
        pair = counts.setdefault((row["hour"].astimezone(dt_timezone.utc), row["job_id"]), [0, 0])
        pair[0 if row["status"] == AttemptStatus.SUCCEEDED else 1] += row["n"]
    hours = [start + timedelta(hours=i) for i in range(int((end - start).total_seconds() // 3600))]
    job_ids = list(SyncJob.objects.values_list("pk", flat=True))
    return [HourlyOutcome(hour=hour, job_id=job_id, succeeded=counts.get((hour, job_id), [0, 0])[0],
                          failed=counts.get((hour, job_id), [0, 0])[1])
            for hour in hours for job_id in job_ids]


def hourly_outcomes(*, now: datetime | None = None, hours: int = 7 * 24) -> list[HourlyOutcome]:
    """Each job's finished tries per hour over the last `hours` (the current hour included, counted live). Closed
    hours come from the roll-up table; an hour missing there is counted once and kept (services.outcomes_rollup
    keeps the table current every minute, so a dashboard rarely finds one missing)."""
    from .services import outcomes_rollup

    now = now or timezone.now()
    current = now.astimezone(dt_timezone.utc).replace(minute=0, second=0, microsecond=0)
    start = current - timedelta(hours=hours - 1)
    outcomes_rollup(start=start, end=current)
    closed = list(HourlyOutcome.objects.filter(hour__gte=start, hour__lt=current))
    return closed + outcomes_counted(start=current, end=current + timedelta(hours=1))


@dataclass(frozen=True)
class DailyOutcomes:
    day: date
    succeeded: int
    failed: int


def outcomes_per_day(*, now: datetime | None = None, days: int = 7) -> list[DailyOutcomes]:
    """Succeeded and failed (or dead) tries per local day, the last `days` days with today, oldest first."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    first = today - timedelta(days=days - 1)
    hours_back = int((now - datetime.combine(first, time.min, tzinfo=timezone.get_current_timezone())).total_seconds() // 3600) + 1
    totals = {first + timedelta(days=i): [0, 0] for i in range(days)}
    for row in hourly_outcomes(now=now, hours=hours_back):
        day = timezone.localtime(row.hour).date()
        if day in totals:
            totals[day][0] += row.succeeded
            totals[day][1] += row.failed
    return [DailyOutcomes(day=day, succeeded=ok, failed=bad) for day, (ok, bad) in totals.items()]


@dataclass(frozen=True)
class FailureGroup:
    job: SyncJob
    remote_code: str
    attempts: int
    last_at: datetime
    # The messages among the group's newest waiting failures, most frequent first: (message, how many of those).
    messages: list[tuple[str, int]]
    sampled: int   # how many of the newest failures the messages were read from

    @property
    def query(self) -> str:
        return urlencode({"attention": "waiting", "job__id__exact": self.job.pk, "remote_code": self.remote_code})

    def message_query(self, message: str) -> str:
        return self.query + "&" + urlencode({"remote_message": message})


def failure_groups(*, limit: int = 8, sample: int = 200, counts: list[dict] | None = None) -> list[FailureGroup]:
    """Why records wait for a person: the failures waiting, by job and remote code, largest first, each with the
    messages of its newest `sample` failures. The groups are counted from one partial index (`counts`: those
    waiting_counts already read); the messages are read from a bounded number of rows, so the page costs the same
    with ten or a million failures waiting."""
    jobs = {job.pk: job for job in SyncJob.objects.all()}
    totals: dict[tuple[int, str], dict] = {}
    for row in counts if counts is not None else waiting_counts():
        total = totals.setdefault((row["job_id"], row["remote_code"]), {"job_id": row["job_id"], "remote_code": row["remote_code"],
                                                                        "n": 0, "last": row["last"], "statuses": []})
        total["n"] += row["n"]
        total["statuses"].append(row["status"])
        total["last"] = max(total["last"], row["last"])
    rows = sorted(totals.values(), key=lambda t: (-t["n"], t["job_id"], t["remote_code"]))[:limit]
    groups = []
    for row in rows:
        # One status at a time: each reads the index backwards and stops after `sample` rows (both at once would
        # sort every row of the group).
        newest = sorted((pair for status in row["statuses"] for pair in SyncAttempt.objects.filter(
            NEEDS_PERSON, job_id=row["job_id"], status=status, remote_code=row["remote_code"])
            .order_by("-created_at").values_list("created_at", "remote_message")[:sample]), reverse=True)[:sample]
        newest = [message for _, message in newest]
        messages: dict[str, int] = {}
        for message in newest:
            messages[message] = messages.get(message, 0) + 1
        groups.append(FailureGroup(job=jobs[row["job_id"]], remote_code=row["remote_code"], attempts=row["n"],
                                   last_at=row["last"], messages=sorted(messages.items(), key=lambda m: -m[1])[:3],
                                   sampled=len(newest)))
    return groups


@dataclass(frozen=True)
class RecordStory:
    attempts: list[SyncAttempt]
    links: list[RecordLink]


def record_story(*, attempt: SyncAttempt) -> RecordStory:
    """Every attempt of the attempt's record in every job, newest first, and the record's links to NetSuite."""
    if attempt.salesforce_id:
        attempts = SyncAttempt.objects.filter(salesforce_id=attempt.salesforce_id)
        links = RecordLink.objects.filter(salesforce_id=attempt.salesforce_id)
    else:
        attempts = SyncAttempt.objects.filter(netsuite_internal_id=attempt.netsuite_internal_id, job=attempt.job)
        links = RecordLink.objects.filter(netsuite_internal_id=attempt.netsuite_internal_id)
    return RecordStory(attempts=list(attempts.select_related("job", "resolved_by").order_by("-created_at", "-id")[:200]),
                       links=list(links.order_by("record_type")))


@dataclass(frozen=True)
class CommissionRecord:
    attempt: SyncAttempt
    application: str
    application_id: str
    broker: str
    broker_id: str
    amount: Decimal | None
    memo: str
    # The application's other failures waiting in the queue's jobs (its lines, when the order failed): one row says
    # them all, and a retry of the row retries them too.
    also: tuple[SyncAttempt, ...] = ()

    @property
    def attempt_ids(self) -> list[int]:
        return [self.attempt.pk, *(other.pk for other in self.also)]

    @property
    def reason(self) -> str:
        return f"{self.attempt.remote_code}: {self.attempt.remote_message}" if self.attempt.remote_code else self.attempt.remote_message


def commission_job_names() -> list[str]:
    """The jobs whose failed records finance reviews (the broker commission orders and their lines)."""
    return [spec.name for spec in job_specs() if spec.finance_reviews]


def commission_queue() -> list[CommissionRecord]:
    """Broker commission (purchase order) records that failed and wait for a person, with what finance needs to
    judge them: the broker, the application and the amount, read from what the hub tried to send."""
    waiting = list(
        SyncAttempt.objects.filter(NEEDS_PERSON, job__name__in=commission_job_names()).select_related("job").order_by("-created_at", "-id")[:400]
    )
    # One row per application: the order's failure when it has one (its lines wait for it), else the newest.
    by_application: dict[str, list[SyncAttempt]] = {}
    for attempt in waiting:
        by_application.setdefault(attempt.salesforce_id or f"#{attempt.pk}", []).append(attempt)
    groups = []
    for tries in by_application.values():
        tries.sort(key=lambda a: (getattr(job_spec(a.job.name), "order_job", ""), -a.pk))
        groups.append(tries)
    groups = groups[:200]
    attempts = [tries[0] for tries in groups]
    orders = {a.salesforce_id: a for a in SyncAttempt.objects.filter(
        job__name__in=_order_job_names(attempts), salesforce_id__in=[a.salesforce_id for a in attempts]
    ).exclude(request_payload__isnull=True).order_by("created_at", "id")}
    details = [_commission_details(attempt, orders.get(attempt.salesforce_id)) for attempt in attempts]
    broker_ids = {d["broker_id"] for d in details if d["broker_id"]}
    brokers = dict(SyncAttempt.objects.filter(job__record_type="Account", job__direction="push", salesforce_id__in=broker_ids)
                   .order_by("created_at", "id").values_list("salesforce_id", "record_name"))
    return [CommissionRecord(attempt=attempt, application=attempt.record_name, application_id=attempt.salesforce_id,
                             broker=brokers.get(d["broker_id"], ""), broker_id=d["broker_id"], amount=d["amount"], memo=d["memo"],
                             also=tuple(tries[1:]))
            for attempt, d, tries in zip(attempts, details, groups)]


def commission_attempt_ids(*, attempt_ids: list[int]) -> list[int]:
    """The waiting commission failures of the applications these attempts belong to (an order and its lines)."""
    chosen = SyncAttempt.objects.filter(id__in=attempt_ids, job__name__in=commission_job_names())
    applications = set(chosen.exclude(salesforce_id="").values_list("salesforce_id", flat=True))
    return sorted(set(chosen.values_list("id", flat=True)) | set(SyncAttempt.objects.filter(
        NEEDS_PERSON, job__name__in=commission_job_names(), salesforce_id__in=applications).values_list("id", flat=True)))


def _order_job_names(attempts: list[SyncAttempt]) -> set[str]:
    """The jobs that write the orders these attempts belong to: a lines job names its order's job."""
    names = set()
    for name in {attempt.job.name for attempt in attempts}:
        spec = job_spec(name)
        names.add(getattr(spec, "order_job", "") or name)
    return names


def _commission_details(attempt: SyncAttempt, order_attempt: SyncAttempt | None) -> dict:
    """Broker, amount and memo from the purchase order the hub tried to send, or from the Salesforce record when the
    mapping failed before a purchase order existed. A lines attempt borrows the broker from its order's attempt."""
    details = {"broker_id": "", "amount": None, "memo": ""}
    for source in (attempt, order_attempt):
        payload = (source.request_payload if source else None) or {}
        record = payload.get("record") or {}
        fields = record.get("fields") or {}
        application = payload.get("source") or {}
        entity = fields.get("entity") or {}
        details["broker_id"] = details["broker_id"] or str(entity.get("externalId") or application.get("Broker__c") or "")
        details["memo"] = details["memo"] or str(fields.get("memo") or application.get("Name") or "")
        if details["amount"] is None:
            lines = (fields.get("itemList") or {}).get("item") or []
            if lines:
                details["amount"] = _decimal(sum(_decimal(line.get("amount")) or 0 for line in lines))
            elif application.get("Amount") is not None and application.get("Commission_Percent__c") is not None:
                details["amount"] = (_decimal(application["Amount"]) * _decimal(application["Commission_Percent__c"]) / 100).quantize(Decimal("0.01"))
    return details


def _decimal(value) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None


@dataclass
class BreakerState:
    system: str
    open: bool
    probing: bool
    consecutive_faults: int
    open_until: datetime | None
    opened_at: datetime | None
    last_fault_code: str
    last_fault_message: str
    last_fault_at: datetime | None

    @property
    def state(self) -> str:
        return "open" if self.open else "probing" if self.probing else "faults" if self.consecutive_faults else "closed"


def breaker_states(*, now: datetime | None = None) -> list[BreakerState]:
    """Each remote system's breaker as ops should read it: open (the hub holds back), probing, or well."""
    now = now or timezone.now()
    return [BreakerState(system=breaker.get_system_display(), open=breaker.is_open(now),
                         probing=bool(breaker.open_until and breaker.probing_until and breaker.probing_until > now),
                         consecutive_faults=breaker.consecutive_faults, open_until=breaker.open_until,
                         opened_at=breaker.opened_at, last_fault_code=breaker.last_fault_code,
                         last_fault_message=breaker.last_fault_message, last_fault_at=breaker.last_fault_at)
            for breaker in CircuitBreaker.objects.order_by("system")]


@dataclass(frozen=True)
class ValueMappingFix:
    label: str
    url: str


def value_mapping_fix(*, attempt: SyncAttempt) -> ValueMappingFix | None:
    """Where to fix the value mapping a failed attempt points at: the add form of the missing one, with its category
    and value filled in; or the value mapping whose NetSuite id the remote system refused (item 999)."""
    from urllib.parse import urlencode

    from django.urls import reverse

    from mappings.categories import VALUE_CATEGORIES
    from mappings.models import ValueMapping
    from mappings.transforms import missing_value_mapping

    missing = missing_value_mapping(attempt.remote_message)
    if missing:
        category, value = missing
        return ValueMappingFix(label=f"Add the {category} value mapping for {value!r}",
                               url=reverse("admin:mappings_valuemapping_add") + "?" + urlencode({"category": category, "source_value": value}))
    if not attempt.remote_message:
        return None
    netsuite_categories = [name for name, category in VALUE_CATEGORIES.items() if category.target.kind == "netsuite_record"]
    for mapping in ValueMapping.objects.filter(category__in=netsuite_categories).order_by("category", "source_value"):
        if re.search(rf"(?<!\d){re.escape(mapping.target_value)}(?!\d)", attempt.remote_message) and \
                re.search(rf'"internalId": "{re.escape(mapping.target_value)}"', json.dumps(attempt.request_payload or {})):
            return ValueMappingFix(label=f"Fix the {mapping.category} value mapping {mapping.source_value} → {mapping.target_value}",
                                   url=reverse("admin:mappings_valuemapping_change", args=[mapping.pk]))
    return None


# The beat sends the sweeper every minute and a worker runs it, leaving a heartbeat; three missed beats mean the beat
# (or every worker) is gone.
BEAT_STALE_AFTER = timedelta(minutes=3 * SWEEP_EVERY_MINUTES)


def beat_last_tick() -> datetime | None:
    heartbeat = Heartbeat.objects.filter(name="sweeper").first()
    return heartbeat.at if heartbeat else None


@dataclass(frozen=True)
class StaleJob:
    job: SyncJob
    finished: datetime
    interval: timedelta


def job_staleness(*, now: datetime | None = None) -> list[tuple[SyncJob, timedelta | None, bool]]:
    """Each enabled job with its schedule's interval and whether it is stale: two of its intervals (plus slack for a
    long run) passed without a finished run."""
    now = now or timezone.now()
    tasks = {task.name: task for task in PeriodicTask.objects.select_related("interval")}
    rows = []
    for job in SyncJob.objects.filter(enabled=True).order_by("stage", "id"):
        task = tasks.get(job.name)
        interval = task.interval.schedule.run_every if task and task.interval and task.enabled else None
        finished = job.last_run_finished_at
        rows.append((job, interval, bool(interval and finished and now - finished > 2 * interval + timedelta(minutes=5))))
    return rows


def stale_jobs(*, now: datetime | None = None) -> list[StaleJob]:
    return [StaleJob(job=job, finished=job.last_run_finished_at, interval=interval)
            for job, interval, stale in job_staleness(now=now) if stale]
