"""The parts every job shares: one run per job at a time, the watermark cursor, and the senders that take pending
attempts in batches and write them to the target, several batches at once within the NetSuite concurrency budget."""
import hashlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone as dt_timezone

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, Q
from django.utils import timezone

from .attempts import (
    attempt_fail,
    attempt_release,
    attempts_claim,
    attempts_release_children,
    attempts_succeed,
)
from .clients.errors import PermanentError, RemoteError, TransientError
from .concurrency import netsuite_budget
from .models import AttemptStatus, RecordLink, RunOutcome, SyncAttempt, SyncJob, SyncRun

logger = logging.getLogger(__name__)


def content_hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


# --- one run per job ------------------------------------------------------------------------------------------------

def job_lease_acquire(job: SyncJob, run: SyncRun) -> bool:
    """Claim the job for this run with a conditional UPDATE; False if another live run holds it."""
    now = timezone.now()
    until = now + timedelta(seconds=settings.HUB_RUN_LEASE_SECONDS)
    taken = SyncJob.objects.filter(pk=job.pk).filter(
        Q(run_lease_expires_at__isnull=True) | Q(run_lease_expires_at__lt=now)
    ).update(run_lease_expires_at=until) == 1
    if taken:
        # A run still marked running now is one whose worker died without closing it.
        SyncRun.objects.filter(job=job, outcome=RunOutcome.RUNNING, started_at__lt=now).exclude(pk=run.pk).update(
            outcome=RunOutcome.FAILED, finished_at=now, message="The worker running it stopped before finishing (lease expired)."
        )
    return taken


def job_lease_renew(job: SyncJob) -> None:
    until = timezone.now() + timedelta(seconds=settings.HUB_RUN_LEASE_SECONDS)
    SyncJob.objects.filter(pk=job.pk).update(run_lease_expires_at=until)


def job_lease_release(job: SyncJob) -> None:
    SyncJob.objects.filter(pk=job.pk).update(run_lease_expires_at=None)


class JobLeaseKeeper:
    """Renews the job's lease while the run is alive, however long one remote call takes, so the lease expires only
    when the worker is gone."""

    def __init__(self, job: SyncJob):
        self.job = job
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._renew, name=f"lease-{job.name}", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join()

    def _renew(self) -> None:
        try:
            while not self.stopped.wait(settings.HUB_RUN_LEASE_SECONDS / 3):
                job_lease_renew(self.job)
        finally:
            connections.close_all()


# --- watermark --------------------------------------------------------------------------------------------------------

def watermark_since(job: SyncJob) -> datetime | None:
    """Where to start reading: the watermark less an overlap window, since a record can become visible after others
    that carry a later timestamp. Records read twice are recognised by their content hash and skipped."""
    if job.watermark_timestamp is None:
        return None
    return job.watermark_timestamp - timedelta(seconds=settings.HUB_WATERMARK_OVERLAP_SECONDS)


def watermark_advance(*, job: SyncJob, run: SyncRun, timestamp: datetime, record_id: str) -> None:
    """Move the cursor forward (never back) once a page's attempts are committed."""
    # The run keeps its own progress (a backfill resumes from it); the job's cursor only ever moves forward.
    SyncRun.objects.filter(pk=run.pk).update(watermark_after_timestamp=timestamp, watermark_after_record_id=record_id)
    current = (job.watermark_timestamp, job.watermark_record_id)
    if current[0] is not None and (timestamp, record_id) <= current:
        return
    job.watermark_timestamp, job.watermark_record_id = timestamp, record_id
    SyncJob.objects.filter(pk=job.pk).update(watermark_timestamp=timestamp, watermark_record_id=record_id)


def parse_salesforce_datetime(value: str) -> datetime:
    """'2024-01-01T00:00:00.000+0000' → an aware UTC datetime."""
    parsed = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")
    return parsed.astimezone(dt_timezone.utc)


def run_count(run: SyncRun, **increments: int) -> None:
    SyncRun.objects.filter(pk=run.pk).update(**{name: F(name) + value for name, value in increments.items() if value})


# --- senders ----------------------------------------------------------------------------------------------------------

class BatchSender:
    """Sends a job's pending attempts in batches from a few threads until no due attempt is left (and, while the
    reader is still going, waits for more). Each batch is one remote call; the threads overlap the calls.

    The reader calls `planned()` after each page's attempts are committed; idle senders sleep until then rather than
    asking the database every few milliseconds (ten threads polling cost a busy process a fifth of its CPU)."""

    # An idle sender also looks again after this long: tries that become due later (a held-back child, a retry).
    idle_seconds = 1.0

    def __init__(self, *, job: SyncJob, run: SyncRun, send_batch, threads: int, batch_size: int):
        self.job, self.run, self.send_batch = job, run, send_batch
        self.threads, self.batch_size = max(1, threads), batch_size
        self.reading_done = threading.Event()
        self.work = threading.Condition()
        self.generation = 0  # how many times the reader has committed new attempts
        self.errors: list[BaseException] = []

    def __enter__(self):
        self.pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix=f"send-{self.job.name}")
        self.futures = [self.pool.submit(self._loop) for _ in range(self.threads)]
        return self

    def __exit__(self, *exc_info):
        self.reading_done.set()
        self.planned()
        for future in self.futures:
            future.result()
        self.pool.shutdown()

    def planned(self) -> None:
        """New attempts are committed: wake the idle senders."""
        with self.work:
            self.generation += 1
            self.work.notify_all()

    def _loop(self) -> None:
        try:
            while True:
                # Read the flag before claiming: a claim that finds nothing only ends the loop if it began after the
                # reader's last commit. (A claim that waited for the write lock during that commit compares the new
                # rows with its own, earlier `now` and misses them.)
                with self.work:
                    seen, reading_done = self.generation, self.reading_done.is_set()
                attempts = attempts_claim(job=self.job, run=self.run, limit=self.batch_size)
                if attempts:
                    self.send_batch(attempts)  # the run's JobLeaseKeeper renews the job's lease meanwhile
                    continue
                if reading_done:
                    return
                with self.work:
                    self.work.wait_for(lambda: self.generation != seen, timeout=self.idle_seconds)
        finally:
            connections.close_all()


def links_for(record_type: str, salesforce_ids) -> dict[str, RecordLink]:
    return {link.salesforce_id: link for link in RecordLink.objects.filter(record_type=record_type, salesforce_id__in=list(salesforce_ids))}


def link_upsert(*, record_type: str, salesforce_id: str, netsuite_record_type: str, internal_id: str,
                external_id: str, content_hash: str | None = None, detail_hash: str | None = None) -> None:
    fields = {"netsuite_record_type": netsuite_record_type, "netsuite_internal_id": internal_id,
              "netsuite_external_id": external_id, "last_synced_at": timezone.now()}
    if content_hash is not None:
        fields["content_hash"] = content_hash
    if detail_hash is not None:
        fields["detail_hash"] = detail_hash
    RecordLink.objects.update_or_create(record_type=record_type, salesforce_id=salesforce_id, defaults=fields)


def links_upsert(links: list[dict]) -> None:
    """link_upsert for a batch: insert, or update on (record_type, salesforce_id), with one INSERT … ON CONFLICT run
    for every row of each set of fields given (the ORM's bulk_create compiled each value of each row, which cost more
    than the rest of a batch's bookkeeping). A hash given as None keeps the stored one, as in link_upsert."""
    if not links:
        return
    now = timezone.now()
    latest = {(link["record_type"], link["salesforce_id"]): link for link in links}  # one row per key per statement
    by_names: dict[tuple, list[dict]] = {}
    for link in latest.values():
        fields = {name: value for name, value in link.items() if value is not None}
        by_names.setdefault(tuple(sorted(fields)), []).append(fields)
    connection = connections[router.db_for_write(RecordLink)]
    quote = connection.ops.quote_name
    table = quote(RecordLink._meta.db_table)
    # A new link gets every column (defaults for those not given); an existing one only the columns given.
    fields = [field for field in RecordLink._meta.concrete_fields if not field.primary_key]
    defaults = {field.name: field.get_default() for field in fields}
    defaults["created_at"] = defaults["last_synced_at"] = now
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        for names, rows in by_names.items():
            updated = [RecordLink._meta.get_field(name).column for name in names
                       if name not in ("record_type", "salesforce_id")] + ["last_synced_at"]
            sql = (f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(fields))}) "
                   f"ON CONFLICT ({quote('record_type')}, {quote('salesforce_id')}) DO UPDATE SET "
                   + ", ".join(f"{quote(column)} = EXCLUDED.{quote(column)}" for column in updated))
            cursor.executemany(sql, [[field.get_db_prep_save(row.get(field.name, defaults[field.name]), connection)
                                      for field in fields] for row in rows])


class NetSuiteBatchWriter:
    """Writes a batch of push attempts to NetSuite with one upsertList, and records each record's own result.

    Each attempt's request_payload is {"record": <netsuite record dict>, "parent": {...} | None, "link": {...}}:
    everything needed to write it without reading Salesforce again.
    """

    def __init__(self, *, netsuite, job: SyncJob):
        self.netsuite, self.job = netsuite, job

    def __call__(self, attempts: list[SyncAttempt]) -> None:
        try:
            self._send(attempts)
        except Exception as exc:  # never leave claimed rows running: fail them as transient and let retries decide
            logger.exception("Batch of %s failed unexpectedly", self.job.name)
            error = exc if isinstance(exc, RemoteError) else TransientError("HUB_ERROR", f"{type(exc).__name__}: {exc}")
            for attempt in attempts:
                if SyncAttempt.objects.filter(pk=attempt.pk, status=AttemptStatus.RUNNING).exists():
                    attempt_fail(attempt, error=error)

    def _send(self, attempts: list[SyncAttempt]) -> None:
        ready = self._hold_back_orphans(attempts)
        if not ready:
            return
        self._verify_unknown_outcomes(ready)
        account_links = self._account_links([attempt.request_payload["record"] for attempt in ready])
        records = [self._resolve_refs(attempt.request_payload["record"], account_links) for attempt in ready]
        started = time.monotonic()
        try:
            results = self.netsuite.upsert_list(records, hold=netsuite_budget().slot)
        except RemoteError as error:
            for attempt in ready:
                attempt_fail(attempt, error=error)
            return
        elapsed_ms = int((time.monotonic() - started) * 1000)
        succeeded, links, failed = [], [], []
        for attempt, result in zip(ready, results):
            response = {"isSuccess": result.success, "internalId": result.internal_id, "externalId": result.external_id,
                        "code": result.code, "message": result.message, "batchMs": elapsed_ms, "batchSize": len(ready)}
            if not result.success:
                failed.append((attempt, result, response))
                continue
            succeeded.append((attempt, result.internal_id, response))
            link = attempt.request_payload.get("link") or {}
            if link:
                links.append({"record_type": link["record_type"], "salesforce_id": attempt.salesforce_id,
                              "netsuite_record_type": attempt.request_payload["record"]["type"],
                              "netsuite_internal_id": result.internal_id, "netsuite_external_id": result.external_id,
                              "content_hash": link.get("content_hash"), "detail_hash": link.get("detail_hash"),
                              "lines_modstamp": parse_salesforce_datetime(link["lines_modstamp"]) if link.get("lines_modstamp") else None})
        # The batch's successes in one transaction: one per record cost the hub more time than the upsert itself.
        with transaction.atomic():
            attempts_succeed(succeeded)
            links_upsert(links)
        for attempt, result, response in failed:
            attempt_fail(attempt, error=self._write_error(attempt, result), response=response)
        attempts_release_children(parent_ids=[attempt.salesforce_id for attempt, _, _ in succeeded])

    def _write_error(self, attempt: SyncAttempt, result) -> RemoteError:
        """NetSuite's own verdict, except that a reference to a parent the hub has not synced yet means "wait for
        the parent": the record is held back and gets a new try when the parent goes through."""
        parent = attempt.request_payload.get("parent")
        if parent and result.missing_reference and result.missing_reference == parent.get("field"):
            if links_for(parent["record_type"], [parent["salesforce_id"]]):
                return TransientError(result.code, result.message)  # the parent arrived meanwhile: try again soon
            return PermanentError("PARENT_NOT_SYNCED", f"Held back: its parent {parent['record_type']} "
                                  f"{parent['salesforce_id']} is not in NetSuite yet (NetSuite said: {result.message})")
        kind = TransientError if result.transient else PermanentError
        return kind(result.code or "UNKNOWN", result.message)

    def _hold_back_orphans(self, attempts: list[SyncAttempt]) -> list[SyncAttempt]:
        """A record whose parent is not in NetSuite yet waits for it: it fails with the parent's reason when the
        parent failed (and gets a new try when the parent goes through), or waits a little while the parent is on
        its way. Records whose parents are linked go ahead."""
        parents = [a.request_payload.get("parent") for a in attempts]
        wanted = {(p["record_type"], p["salesforce_id"]) for p in parents if p}
        linked = set()
        for record_type in {rt for rt, _ in wanted}:
            ids = [sid for rt, sid in wanted if rt == record_type]
            linked |= {(record_type, sid) for sid in links_for(record_type, ids)}
        missing = {(p["record_type"], p["salesforce_id"]): p.get("job", "") for p in parents
                   if p and (p["record_type"], p["salesforce_id"]) not in linked}
        latest = _latest_parent_attempts(missing)
        ready = []
        for attempt, parent in zip(attempts, parents):
            if not parent or (parent["record_type"], parent["salesforce_id"]) in linked:
                ready.append(attempt)
                continue
            parent_attempt = latest.get((parent["record_type"], parent["salesforce_id"]))
            if parent_attempt is None:
                # Not seen by the hub: NetSuite resolves the reference by external id, or says it can't.
                ready.append(attempt)
            elif parent_attempt.status in (AttemptStatus.FAILED, AttemptStatus.DEAD):
                reason = (f"Held back: its parent {parent['record_type']} {parent['salesforce_id']} failed to sync "
                          f"({parent_attempt.remote_code}: {parent_attempt.remote_message})")
                attempt_fail(attempt, error=PermanentError("PARENT_FAILED", reason), retry=False)
            else:
                attempt_release(attempt, delay_seconds=settings.HUB_PARENT_WAIT_SECONDS)
        return ready

    def _verify_unknown_outcomes(self, attempts: list[SyncAttempt]) -> None:
        """After a timeout or a lost answer the earlier write may have landed: look each record up by external id
        and note what NetSuite already holds before writing again (the upsert by external id then cannot duplicate)."""
        unsure = [a for a in attempts if a.verify_before_write]
        by_type: dict[str, list[SyncAttempt]] = {}
        for attempt in unsure:
            by_type.setdefault(attempt.request_payload["record"]["type"], []).append(attempt)
        for record_type, group in by_type.items():
            with netsuite_budget().slot():
                found = self.netsuite.get_by_external_ids(record_type, [a.request_payload["record"]["externalId"] for a in group])
            for attempt in group:
                internal_id = found.get(attempt.request_payload["record"]["externalId"])
                attempt.netsuite_internal_id = internal_id or ""
                attempt.operation = "lookup+upsert"
                attempt.save(update_fields=["netsuite_internal_id", "operation"])

    def _account_links(self, records: list[dict]) -> dict[str, RecordLink]:
        """The Account links that a batch of records refers to, read once for the whole batch."""
        wanted = {value["externalId"] for record in records for value in record.get("fields", {}).values()
                  if isinstance(value, dict) and "externalId" in value}
        return links_for("Account", wanted) if wanted else {}

    def _resolve_refs(self, record: dict, links: dict[str, RecordLink] | None = None) -> dict:
        """Point references at the linked NetSuite record where the hub knows it (a broker's contact belongs to a
        Vendor, not a Customer); otherwise NetSuite resolves the external id itself. `links`: the Account links
        already read for a batch (see _account_links)."""
        fields = dict(record.get("fields", {}))
        refs = {name: value for name, value in fields.items() if isinstance(value, dict) and "externalId" in value}
        if refs:
            if links is None:
                links = self._account_links([record])
            for name, ref in refs.items():
                link = links.get(ref["externalId"])
                if link and link.netsuite_internal_id:
                    fields[name] = {"internalId": link.netsuite_internal_id, "type": link.netsuite_record_type}
        return {**record, "fields": fields}


def _latest_parent_attempts(missing: dict[tuple[str, str], str]) -> dict[tuple[str, str], SyncAttempt]:
    """The latest try of each missing parent, keyed (record type, Salesforce id); where the parent names its job
    (an order, whose Salesforce id its lines share), only that job's tries count."""
    latest: dict[tuple[str, str], SyncAttempt] = {}
    if not missing:
        return latest
    wanted: dict[str, list[tuple[str, str]]] = {}
    for (record_type, salesforce_id), job_name in missing.items():
        wanted.setdefault(salesforce_id, []).append((record_type, job_name))
    tries = SyncAttempt.objects.filter(salesforce_id__in=list(wanted), superseded=False).select_related("job").order_by("created_at", "id")
    for attempt in tries:
        for record_type, job_name in wanted[attempt.salesforce_id]:
            if not job_name or job_name == attempt.job.name:
                latest[(record_type, attempt.salesforce_id)] = attempt
    return latest
