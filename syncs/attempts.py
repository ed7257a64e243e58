"""The life of an attempt: planned as pending before any remote call, claimed by one worker, completed after.

Pending work lives here, in the hub's tables, not in the broker: a killed worker's task may vanish, but its
attempts stay pending (or running with a lease that expires) and the next run or the sweeper picks them up.
Every try is its own row; a retry is a new row with the next attempt number, and the old one is kept as history.
"""
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models.base import ModelState
from django.db.models import Case, F, Q, TextField, Value, When
from django.db.models.functions import Concat
from django.utils import timezone

from .breakers import breaker_fault, breaker_passage
from .clients.errors import RemoteError
from .models import NEEDS_PERSON_STATUSES, AttemptStatus, Direction, ErrorKind, SyncAttempt, SyncJob, SyncRun
from .redaction import redact

outcome_logger = logging.getLogger("hub.attempts")
# A child held back for its parent fails with one of these; it gets a new try when the parent goes through.
PARENT_WAIT_CODES = ("PARENT_FAILED", "PARENT_NOT_SYNCED")
# The payload of a try to be planned afresh from the source record when it is sent: {REPLAN: the try it follows}.
REPLAN = "replan_of"


@dataclass
class PlannedRecord:
    """One source record, mapped and ready to become an attempt (or already failed by its mapping)."""

    salesforce_id: str = ""
    netsuite_internal_id: str = ""
    netsuite_external_id: str = ""
    record_name: str = ""
    payload: dict = field(default_factory=dict)
    content_hash: str = ""
    waiting_on: str = ""
    error_code: str = ""
    error_message: str = ""

    @property
    def key(self) -> str:
        return self.salesforce_id or self.netsuite_internal_id


def backoff_delay(attempt_number: int) -> timedelta:
    """Capped exponential backoff with "equal jitter": the delay doubles with each try up to the cap, and is drawn
    from its upper half, so many failed records don't come back at the same instant yet each wait grows for sure
    (full jitter let five tries be spent in a minute)."""
    base = settings.HUB_RETRY_BASE_SECONDS
    cap = settings.HUB_RETRY_MAX_SECONDS
    ceiling = min(cap, base * 2 ** min(attempt_number - 1, 32))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def request_fault_delay() -> timedelta:
    """When a record whose request failed as a whole comes due again. Short and flat: the remote system's breaker,
    not the record's backoff, holds the hub back while the system is unwell."""
    base = settings.HUB_RETRY_BASE_SECONDS
    return timedelta(seconds=random.uniform(base / 2, base))


def attempts_plan(*, run: SyncRun, planned: list[PlannedRecord], operation: str) -> int:
    """Record each planned record as a pending attempt (or as failed, for a mapping error), superseding any older
    open attempt of the same record that has not started: the newest content wins and nothing is sent twice.
    Returns how many attempts were recorded."""
    return attempts_plan_claimed(run=run, planned=planned, operation=operation, room=0)[0]


def attempts_plan_claimed(*, run: SyncRun, planned: list[PlannedRecord], operation: str,
                          room: int) -> tuple[int, list[SyncAttempt]]:
    """As attempts_plan, but up to `room` of the new tries are inserted already claimed by this run (running, under
    a lease) and returned, for the run's own senders to send without claiming them: a claim rewrites the row, and
    each row version costs PostgreSQL an entry in every one of the table's indexes (the claim was a third of its
    work per record). Only tries of records with no other try pending or running are taken so, as a claim would
    (a record with a try in flight waits for it). Returns (how many attempts were recorded, those claimed)."""
    job = run.job
    now = timezone.now()
    if transaction.get_connection(router.db_for_write(SyncAttempt)).in_atomic_block:
        room = 0   # the caller's transaction is still open: other threads could not yet see the tries to record them
    keys = {p.key for p in planned}
    # One read of these records' earlier attempts answers four questions: which changes are already in hand, which
    # pending tries the new ones replace, each record's next attempt number, and which have a try open.
    earlier = SyncAttempt.objects.filter(Q(salesforce_id__in=keys) | Q(netsuite_internal_id__in=keys), job=job)
    in_hand, older, counts, open_tries = set(), [], {}, set()
    for pk, salesforce_id, internal_id, status, superseded, source_hash in earlier.values_list(
            "pk", "salesforce_id", "netsuite_internal_id", "status", "superseded", "source_hash"):
        key = salesforce_id if salesforce_id in keys else internal_id
        counts[key] = counts.get(key, 0) + 1
        if status in (AttemptStatus.PENDING, AttemptStatus.RUNNING):
            open_tries.add(key)
        if not superseded and status in (AttemptStatus.PENDING, AttemptStatus.RUNNING, AttemptStatus.FAILED, AttemptStatus.DEAD):
            # A change read twice (the watermark's overlap window) while its attempt is still open is the same work; a
            # record that failed and has not changed since waits for a person's retry instead of failing again.
            in_hand.add((key, source_hash))
            older.append((pk, key))
    planned = [p for p in planned if not p.content_hash or (p.key, p.content_hash) not in in_hand]
    replaced = {p.key for p in planned}
    older_ids = [pk for pk, key in older if key in replaced]
    claimable = [p for p in planned if not p.error_code and p.key and p.key not in open_tries][:max(room, 0)]
    taken = {id(p) for p in claimable}
    with transaction.atomic():
        if older_ids:
            # A record has one open try: the new one takes over from a pending try and from a failure still waiting
            # for a person (else one record counts twice among those needing a person). Running tries finish.
            SyncAttempt.objects.filter(pk__in=older_ids, status__in=[AttemptStatus.PENDING, *NEEDS_PERSON_STATUSES],
                                       resolved_at__isnull=True).update(superseded=True)
        _attempts_insert(run=run, planned=[p for p in planned if id(p) not in taken], operation=operation,
                         numbers=counts, now=now)
        claimed = _attempts_insert_claimed(run=run, planned=claimable, operation=operation, numbers=counts, now=now)
    return len(planned), claimed


def _attempt_rows(*, run: SyncRun, planned: list[PlannedRecord], operation: str, numbers: dict, now,
                  claimed: bool = False):
    """(the connection, the table's columns, a template attempt, each planned record's row of database values)."""
    connection = connections[router.db_for_write(SyncAttempt)]
    fields = [field for field in SyncAttempt._meta.concrete_fields if not field.primary_key]
    template = SyncAttempt(run=run, job=run.job, record_type=run.job.record_type, operation=operation,
                           status=AttemptStatus.PENDING, next_attempt_at=now, trigger=run.trigger)
    if claimed:
        template.status, template.started_at = AttemptStatus.RUNNING, now
        template.lease_expires_at = now + timedelta(seconds=settings.HUB_ATTEMPT_LEASE_SECONDS)
    base = {field.attname: field.get_db_prep_save(field.pre_save(template, add=True), connection) for field in fields}
    stamp = base["next_attempt_at"]
    payload_field = SyncAttempt._meta.get_field("request_payload")
    columns = [field.attname for field in fields]
    rows = []
    for record in planned:
        failed = bool(record.error_code)
        row = dict(base)
        row.update(
            record_name=record.record_name[:255], salesforce_id=record.salesforce_id,
            netsuite_internal_id=record.netsuite_internal_id, netsuite_external_id=record.netsuite_external_id,
            attempt_number=numbers.get(record.key, 0) + 1, source_hash=record.content_hash, waiting_on=record.waiting_on,
            request_payload=payload_field.get_db_prep_save(redact(record.payload), connection),
        )
        if failed:
            row.update(status=AttemptStatus.FAILED, error_kind=ErrorKind.PERMANENT, remote_code=record.error_code,
                       remote_message=record.error_message, finished_at=stamp)
        rows.append([row[column] for column in columns])
    return connection, fields, template, rows


def _attempts_insert(*, run: SyncRun, planned: list[PlannedRecord], operation: str, numbers: dict, now) -> None:
    """Insert the planned attempts with one INSERT executed for every row, building each row's values directly:
    model instances and the ORM's per-value preparation cost a fifth of the hub's CPU in a large push."""
    if not planned:
        return
    connection, fields, _, rows = _attempt_rows(run=run, planned=planned, operation=operation, numbers=numbers, now=now)
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(SyncAttempt._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


# Rows per INSERT … RETURNING: well within SQLite's 32,766 and PostgreSQL's 65,535 parameters at ~35 columns a row.
CLAIMED_INSERT_ROWS = 250


def _attempts_insert_claimed(*, run: SyncRun, planned: list[PlannedRecord], operation: str, numbers: dict,
                             now) -> list[SyncAttempt]:
    """Insert the planned attempts as running, claimed by `run`, and return them as the claim would have: with their
    ids (RETURNING id: on PostgreSQL one result per row, in order; on SQLite a multi-row INSERT, whose rows come back
    in the order of VALUES, as Django's bulk_create relies on) and the payload as the database holds it."""
    if not planned:
        return []
    if not connections[router.db_for_write(SyncAttempt)].features.can_return_rows_from_bulk_insert:
        # No RETURNING for many rows: insert them pending, to be claimed as before.
        _attempts_insert(run=run, planned=planned, operation=operation, numbers=numbers, now=now)
        return []
    connection, fields, template, rows = _attempt_rows(run=run, planned=planned, operation=operation,
                                                       numbers=numbers, now=now, claimed=True)
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(SyncAttempt._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) VALUES "
    one = f"({', '.join(['%s'] * len(fields))})"
    ids = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # psycopg 3 pipelines one prepared INSERT … RETURNING per row (executemany returning=True): a statement
            # of thousands of placeholders cost psycopg more to parse than the whole claim it saves.
            raw = cursor.cursor
            raw.executemany(head + one + " RETURNING id", rows, returning=True)
            while True:
                ids.append(raw.fetchone()[0])
                if not raw.nextset():
                    break
        else:
            for start in range(0, len(rows), CLAIMED_INSERT_ROWS):
                chunk = rows[start:start + CLAIMED_INSERT_ROWS]
                cursor.execute(head + ", ".join([one] * len(chunk)) + " RETURNING id",
                               [value for row in chunk for value in row])
                ids += [row[0] for row in cursor.fetchall()]
    payload_column = [field.attname for field in fields].index("request_payload")
    # Each try as the database now holds it: the template's values with the record's own, set on a bare instance
    # as Django's unpickling does (Model.__init__ for each try was a third of this function's cost).
    base = {field.attname: getattr(template, field.attname) for field in SyncAttempt._meta.concrete_fields}
    claimed = []
    for attempt_id, record, row in zip(ids, planned, rows):
        attempt = SyncAttempt.__new__(SyncAttempt)
        attempt.__dict__.update(base)
        attempt.__dict__.update(
            id=attempt_id, record_name=record.record_name[:255], salesforce_id=record.salesforce_id,
            netsuite_internal_id=record.netsuite_internal_id, netsuite_external_id=record.netsuite_external_id,
            attempt_number=numbers.get(record.key, 0) + 1, source_hash=record.content_hash,
            waiting_on=record.waiting_on, request_payload=_stored_payload(row[payload_column]))
        attempt._state = ModelState()
        attempt._state.adding, attempt._state.db = False, connection.alias
        attempt._state.fields_cache.update(run=run, job=run.job)
        claimed.append(attempt)
    return claimed


def _stored_payload(value):
    """The payload as the database holds it, from a JSONField's database value: on SQLite its JSON text, read back;
    on PostgreSQL psycopg's Jsonb wrapper of the redacted payload, a fresh copy of JSON's own types (a value of any
    other type would have failed the insert), taken as it is rather than dumped and read again."""
    if isinstance(value, str):
        return json.loads(value)
    return value.obj


def attempts_claim(*, job: SyncJob, run: SyncRun | None, limit: int) -> list[SyncAttempt]:
    """Take up to `limit` due pending attempts of a job for this worker. Rows another worker holds are skipped, never
    waited for, and never taken twice.

    One statement: UPDATE … WHERE id IN (the due ids, locked with SKIP LOCKED where the database has it) RETURNING
    the rows. (SQLite serialises writers, so its claims cannot overlap.) Older SQLite without RETURNING takes the
    select-then-update path."""
    connection = connections[router.db_for_write(SyncAttempt)]
    if not connection.features.can_return_columns_from_insert:
        return _attempts_claim_two_steps(job=job, run=run, limit=limit)
    now = timezone.now()
    lease = now + timedelta(seconds=settings.HUB_ATTEMPT_LEASE_SECONDS)
    quote = connection.ops.quote_name
    table = quote(SyncAttempt._meta.db_table)
    columns = ", ".join(quote(field.column) for field in SyncAttempt._meta.concrete_fields)
    skip_locked = " FOR UPDATE SKIP LOCKED" if connection.features.has_select_for_update_skip_locked else ""
    moment = SyncAttempt._meta.get_field("started_at")
    stamp, lease_stamp = (moment.get_db_prep_save(value, connection) for value in (now, lease))
    # A record with a try in flight waits for it, so an older content can never land after a newer one.
    # The due rows' condition is spelt as the partial index attempt_job_due spells it, with constants rather than
    # parameters: only then does SQLite read that index (in due order, no sort).
    sql = (f"UPDATE {table} SET status = %s, started_at = %s, lease_expires_at = %s, run_id = %s "
           f"WHERE id IN (SELECT id FROM {table} WHERE job_id = %s AND (status = 'pending' AND NOT superseded) "
           f"AND next_attempt_at <= %s AND salesforce_id NOT IN (SELECT salesforce_id FROM {table} "
           f"WHERE job_id = %s AND status = %s AND salesforce_id <> '') "
           f"ORDER BY next_attempt_at, id LIMIT %s{skip_locked}) RETURNING {columns}")
    # No second "still pending" test outside: the rows are locked (PostgreSQL re-checks a locked row's conditions) or
    # the statement runs alone (SQLite), and such a test led SQLite to scan every pending row by status.
    params = [AttemptStatus.RUNNING, stamp, lease_stamp, run.pk if run else None, job.pk,
              stamp, job.pk, AttemptStatus.RUNNING, limit]
    with transaction.atomic(using=connection.alias):
        claimed = list(SyncAttempt.objects.raw(sql, params))
    claimed.sort(key=lambda attempt: attempt.pk)
    return claimed


def _attempts_claim_two_steps(*, job: SyncJob, run: SyncRun | None, limit: int) -> list[SyncAttempt]:
    now = timezone.now()
    lease = now + timedelta(seconds=settings.HUB_ATTEMPT_LEASE_SECONDS)
    with transaction.atomic():
        in_flight = SyncAttempt.objects.filter(job=job, status=AttemptStatus.RUNNING).exclude(salesforce_id="").values("salesforce_id")
        due = (
            SyncAttempt.objects.select_for_update(skip_locked=True)
            .filter(job=job, status=AttemptStatus.PENDING, superseded=False, next_attempt_at__lte=now)
            .exclude(salesforce_id__in=in_flight)
            .order_by("next_attempt_at", "id")[:limit]
        )
        ids = list(due.values_list("id", flat=True))
        if not ids:
            return []
        # The conditional update is the claim: a row that stopped being pending meanwhile is not taken.
        SyncAttempt.objects.filter(id__in=ids, status=AttemptStatus.PENDING).update(
            status=AttemptStatus.RUNNING, started_at=now, lease_expires_at=lease, run=run
        )
    return list(SyncAttempt.objects.filter(id__in=ids, status=AttemptStatus.RUNNING, started_at=now).order_by("id"))


def log_outcome(attempt: SyncAttempt) -> None:
    """One JSON line per attempt outcome (see integration_hub/logging.py): ids and codes only, never payloads."""
    outcome_logger.info(
        "attempt %s", attempt.status,
        extra={"event": "attempt", "job": _job_name(attempt.job_id), "run_id": attempt.run_id,
               "attempt_id": attempt.pk, "attempt_number": attempt.attempt_number, "status": attempt.status,
               "record_type": attempt.record_type, "salesforce_id": attempt.salesforce_id,
               "netsuite_internal_id": attempt.netsuite_internal_id, "netsuite_external_id": attempt.netsuite_external_id,
               "operation": attempt.operation, "error_kind": attempt.error_kind, "remote_code": attempt.remote_code,
               "duration_ms": attempt.duration_ms},
    )


_job_names: dict[int, str] = {}


def _job_name(job_id: int) -> str:
    # Job names never change, so one query per process serves every log line.
    if job_id not in _job_names:
        _job_names.update(SyncJob.objects.values_list("id", "name"))
    return _job_names.get(job_id, str(job_id))


def attempts_succeed(completions: list[tuple[SyncAttempt, str, dict]]) -> None:
    """Close a batch of (attempt, internal id, response) tries as succeeded, in one statement rather than one per
    record."""
    if not completions:
        return
    now = timezone.now()
    for attempt, internal_id, response in completions:
        attempt.status = AttemptStatus.SUCCEEDED
        attempt.netsuite_internal_id = internal_id or attempt.netsuite_internal_id
        attempt.response_payload = redact(response)
        attempt.finished_at = now
        attempt.duration_ms = _duration_ms(attempt, now)
    # One parameterised UPDATE run for every row: QuerySet.bulk_update builds a CASE expression per row and field,
    # which costs more hub CPU than the rest of the batch's bookkeeping together.
    fields = [SyncAttempt._meta.get_field(name)
              for name in ("status", "netsuite_internal_id", "response_payload", "finished_at", "duration_ms")]
    connection = connections[router.db_for_write(SyncAttempt)]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = f"UPDATE {quote(SyncAttempt._meta.db_table)} SET {assignments} WHERE {quote(SyncAttempt._meta.pk.column)} = %s"
    rows = [[field.get_db_prep_save(getattr(attempt, field.attname), connection) for field in fields] + [attempt.pk]
            for attempt, _, _ in completions]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    _failures_resolve_by_success([attempt for attempt, _, _ in completions], now=now)
    for attempt, _, _ in completions:
        log_outcome(attempt)


def _record_key(attempt: SyncAttempt) -> Q:
    return Q(salesforce_id=attempt.salesforce_id) if attempt.salesforce_id else Q(netsuite_internal_id=attempt.netsuite_internal_id)


def _failures_resolve_by_success(succeeded: list[SyncAttempt], *, now) -> int:
    """A record that went through needs nobody any more: its earlier failed or dead tries in the same job are
    resolved (by the hub, naming the try that succeeded). A record is known by its Salesforce id or its NetSuite
    internal id (a pulled remittance learns its Salesforce id only when it succeeds). One read, one update a winner."""
    winners: dict[tuple, SyncAttempt] = {}
    for attempt in succeeded:
        for key in (("sf", attempt.job_id, attempt.salesforce_id), ("ns", attempt.job_id, attempt.netsuite_internal_id)):
            if key[2] and (key not in winners or winners[key].pk < attempt.pk):
                winners[key] = attempt
    if not winners:
        return 0
    candidates = SyncAttempt.objects.filter(
        Q(salesforce_id__in={key[2] for key in winners if key[0] == "sf"})
        | Q(netsuite_internal_id__in={key[2] for key in winners if key[0] == "ns"}),
        job_id__in={key[1] for key in winners}, status__in=NEEDS_PERSON_STATUSES, resolved_at__isnull=True,
    ).values_list("pk", "job_id", "salesforce_id", "netsuite_internal_id")
    by_winner: dict[int, list[int]] = {}
    for pk, job_id, salesforce_id, internal_id in candidates:
        for key in (("sf", job_id, salesforce_id), ("ns", job_id, internal_id)):
            winner = winners.get(key) if key[2] else None
            if winner is not None and pk < winner.pk:
                by_winner.setdefault(winner.pk, []).append(pk)
                break
    numbers = {attempt.pk: attempt.attempt_number for attempt in winners.values()}
    resolved = 0
    for winner_pk, ids in by_winner.items():
        note = f"Resolved by the hub: try #{numbers[winner_pk]} of the record went through."
        # Kept after the notes people left (finance's "broker asked to hold payment").
        resolved += SyncAttempt.objects.filter(pk__in=ids, resolved_at__isnull=True).update(
            resolved_at=now, resolution_note=Case(When(resolution_note="", then=Value(note)),
                                                  default=Concat(F("resolution_note"), Value("\n" + note)),
                                                  output_field=TextField()))
    return resolved


def attempt_fail(attempt: SyncAttempt, *, error: RemoteError, response: dict | None = None, retry: bool = True,
                 request_fault: bool = False, delay: timedelta | None = None) -> SyncAttempt | None:
    """Close a try as failed; returns the record's next try, if any.

    A permanent error waits for a person. A transient error of the record itself schedules the next try with backoff
    while the job's retry window (counted from the record's first such failure) lasts; after it the record is dead.
    `request_fault`: the whole request failed (the remote system's fault, not the record's): the next try is
    scheduled without spending any of the record's window."""
    now = timezone.now()
    job = attempt.job
    transient = error.transient
    attempt.error_kind = (ErrorKind.REQUEST if request_fault and transient
                          else ErrorKind.TRANSIENT if transient else ErrorKind.PERMANENT)
    attempt.remote_code = error.code[:100]
    attempt.remote_message = error.message
    attempt.response_payload = redact(response) if response is not None else attempt.response_payload
    attempt.finished_at = now
    attempt.duration_ms = _duration_ms(attempt, now)
    successor = None
    key = _record_key(attempt)
    newer = SyncAttempt.objects.filter(key, job=job, id__gt=attempt.id, superseded=False).exists()
    retrying_since = attempt.retrying_since if request_fault else (attempt.retrying_since or attempt.started_at or now)
    window = timedelta(minutes=job.retry_for_minutes)
    if newer:
        # A later change of the record is already planned: that attempt carries the newest content.
        attempt.status = AttemptStatus.FAILED
        attempt.superseded = True
    elif transient and retry and (request_fault or now - retrying_since < window):
        attempt.status = AttemptStatus.FAILED
        attempt.superseded = True
        if delay is None:
            delay = request_fault_delay() if request_fault else backoff_delay(attempt.attempt_number)
        successor = _next_try(attempt, run=attempt.run, due=now + delay, source_hash=attempt.source_hash,
                              verify_before_write=attempt.verify_before_write or error.outcome_unknown)
        successor.retrying_since = retrying_since
    elif transient and retry:
        attempt.status = AttemptStatus.DEAD
    else:
        attempt.status = AttemptStatus.FAILED
    with transaction.atomic():
        attempt.save()
        if successor is not None:
            successor.save()
        elif not attempt.superseded:
            # This failure now speaks for the record: an older one still open would count it twice.
            SyncAttempt.objects.filter(key, job=job, id__lt=attempt.id, status__in=NEEDS_PERSON_STATUSES,
                                       superseded=False, resolved_at__isnull=True).update(superseded=True)
    log_outcome(attempt)
    return successor


def attempt_release(attempt: SyncAttempt, *, delay_seconds: float) -> None:
    """Give a claimed attempt back without counting a try (its parent is still on its way)."""
    attempts_release([attempt], until=timezone.now() + timedelta(seconds=delay_seconds))


def attempts_release(attempts: list[SyncAttempt], *, until) -> None:
    """Give claimed attempts back untried, due at `until` (e.g. when a remote system's breaker lets requests go)."""
    SyncAttempt.objects.filter(pk__in=[attempt.pk for attempt in attempts], status=AttemptStatus.RUNNING).update(
        status=AttemptStatus.PENDING, started_at=None, lease_expires_at=None, next_attempt_at=until,
    )


def attempts_through_breaker(system: str, attempts: list[SyncAttempt], send) -> None:
    """`send(attempts)` unless `system`'s breaker is open; then the batch goes back untried, due when the cool-down
    ends. Every writer's batch passes here, so a probe that sends nothing is given back (breaker_passage)."""
    with breaker_passage(system) as wait:
        if wait is not None:
            attempts_release(attempts, until=wait)
            return
        send(attempts)


def request_failed(system: str | None, attempts: list[SyncAttempt], error: RemoteError) -> None:
    """A request carrying these attempts failed as a whole. A transient fault counts against the system's breaker
    (`system`; None for the hub's own waits) and the records try again without spending their retry windows; a
    permanent one (bad credentials, a missing permission) waits for a person with each record."""
    if error.transient and system:
        breaker_fault(system, error)
    # The request's records come due together, so that their next try can be the same batch again (a transport with
    # idempotent batches then sends it under the same key).
    delay = request_fault_delay()
    for attempt in attempts:
        attempt_fail(attempt, error=error, request_fault=True, delay=delay)


def attempts_retry(*, attempt_ids: list[int], run: SyncRun | None = None, trigger: str = "") -> list[SyncAttempt]:
    """A person asks for another try of failed or dead records: each gets a new pending attempt, due now.

    A person retries once the cause is fixed, and the fix is most often in a mapping or in Salesforce: a push's new
    try carries no payload (REPLAN) and is read again from Salesforce and mapped with the mappings of the moment it
    is sent. It keeps the lookup-before-write of an earlier unknown outcome. A pull's try keeps its payload: reading
    the NetSuite transaction again would take a read by internal id the NetSuite client does not have.

    `trigger`: what asked (a person's retry); without it each new try keeps the trigger of the try it follows (a
    child released when its parent went through)."""
    now = timezone.now()
    created = []
    with transaction.atomic():
        for attempt in SyncAttempt.objects.select_for_update().filter(
            id__in=attempt_ids, status__in=NEEDS_PERSON_STATUSES, superseded=False
        ).select_related("job"):
            attempt.superseded = True
            attempt.save(update_fields=["superseded"])
            successor = _next_try(attempt, run=run, due=now, source_hash="",
                                  verify_before_write=attempt.verify_before_write)
            if trigger:
                successor.trigger = trigger
            if attempt.job.direction == Direction.PUSH:
                successor.request_payload = {REPLAN: attempt.pk}
            successor.save()
            created.append(successor)
    return created


def attempts_release_children(*, parent_ids: list[str]) -> int:
    """Records held back because these parents had failed get a new try now that the parents went through."""
    if not parent_ids:
        return 0
    held = list(SyncAttempt.objects.filter(
        waiting_on__in=parent_ids, status=AttemptStatus.FAILED, superseded=False,
        remote_code__in=PARENT_WAIT_CODES,
    ).values_list("id", flat=True))
    return len(attempts_retry(attempt_ids=held)) if held else 0


def attempts_reclaim_expired(*, job: SyncJob) -> int:
    """Running attempts whose worker died (lease expired) fail as transient with an unknown outcome, so their next
    try looks the record up before writing."""
    from .clients.errors import TransientError

    reclaimed = 0
    expired = SyncAttempt.objects.filter(job=job, status=AttemptStatus.RUNNING, lease_expires_at__lt=timezone.now())
    for attempt in expired.select_related("job"):
        attempt_fail(attempt, error=TransientError("WORKER_LOST", "The worker stopped before finishing this try.", outcome_unknown=True))
        reclaimed += 1
    return reclaimed


def _next_try(attempt: SyncAttempt, *, run: SyncRun | None, due, source_hash: str,
              verify_before_write: bool) -> SyncAttempt:
    """The record's next try (unsaved): the same record and payload, the next number, pending until `due`."""
    return SyncAttempt(
        job=attempt.job, run=run, record_type=attempt.record_type, record_name=attempt.record_name,
        salesforce_id=attempt.salesforce_id, netsuite_internal_id=attempt.netsuite_internal_id,
        netsuite_external_id=attempt.netsuite_external_id, operation=attempt.operation,
        attempt_number=attempt.attempt_number + 1, status=AttemptStatus.PENDING,
        request_payload=attempt.request_payload, source_hash=source_hash, waiting_on=attempt.waiting_on,
        verify_before_write=verify_before_write, next_attempt_at=due, assigned_to_id=attempt.assigned_to_id,
        trigger=attempt.trigger,
        # The batch's key goes with the record: re-sent under it, NetSuite answers what the first send did.
        idempotency_key=attempt.idempotency_key,
    )


def _duration_ms(attempt: SyncAttempt, now) -> int | None:
    return int((now - attempt.started_at).total_seconds() * 1000) if attempt.started_at else None
