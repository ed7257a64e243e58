"""The parts every job shares: one run per job at a time, the watermark cursor, the links between a record and its
twin, and the senders that take pending attempts in batches and hand them to a job's writer, several batches at once
(the writers keep within the NetSuite concurrency budget)."""
import collections
import hashlib
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone as dt_timezone

from django.conf import settings
from django.db import connections, router
from django.db.models import F, Q
from django.utils import timezone

from . import attempt_leases
from .attempts import attempts_claim, attempts_release
from .database import connection_release
from .models import AttemptStatus, RecordLink, RunOutcome, SyncAttempt, SyncJob, SyncRun

logger = logging.getLogger(__name__)


def content_hash(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


# --- one run per job ------------------------------------------------------------------------------------------------

def job_idle(now) -> Q:
    """Jobs no live run holds (no lease, or one that expired with its worker)."""
    return Q(run_lease_expires_at__isnull=True) | Q(run_lease_expires_at__lt=now)


def job_lease_acquire(job: SyncJob, run: SyncRun) -> bool:
    """Claim the job for this run with a conditional UPDATE; False if another live run holds it."""
    now = timezone.now()
    until = now + timedelta(seconds=settings.HUB_RUN_LEASE_SECONDS)
    taken = SyncJob.objects.filter(job_idle(now), pk=job.pk).update(run_lease_expires_at=until) == 1
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
                connection_release()
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

    def __init__(self, *, job: SyncJob, run: SyncRun, send_batch, threads: int, batch_size: int,
                 reading_finished=None, wait_for_others: bool = False):
        self.job, self.run, self.send_batch = job, run, send_batch
        self.threads, self.batch_size = max(1, threads), batch_size
        # A helper of a run on another worker (syncs/sending.py) learns from the database when the run's reader is
        # done: `reading_finished()` is asked when a claim finds nothing.
        self.reading_finished = reading_finished
        # The run whose sending other workers share ends only when their tries have: its senders wait while any of
        # the job's tries is running under a live lease.
        self.wait_for_others = wait_for_others
        self.reading_done = threading.Event()
        self.work = threading.Condition()
        self.generation = 0  # how many times the reader has committed new attempts
        self.errors: list[BaseException] = []
        # Tries the reader inserted already claimed for this run (attempts_plan_claimed), sent before any claim.
        self.handed: collections.deque[SyncAttempt] = collections.deque()

    def __enter__(self):
        self.pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix=f"send-{self.job.name}")
        self.futures = [self.pool.submit(self._loop) for _ in range(self.threads)]
        return self

    def __exit__(self, *exc_info):
        self.reading_done.set()
        self.planned()
        # The reader waits for its senders now: its pooled connection goes back for them. (Kept, three runs in one
        # process each held one of a pool of four while their 150 senders queued for the last: a minute's stall,
        # then the pool's timeout failed all three.)
        connection_release()
        try:
            for future in self.futures:
                future.result()
        finally:
            self.pool.shutdown()
            left = self._take_all_handed()
            if left:
                # The senders stopped early (a crash): the tries handed to them go back untried, due now.
                attempts_release(left, until=timezone.now())
                attempt_leases.keeper.let_go(left)

    def _take_all_handed(self) -> list[SyncAttempt]:
        with self.work:
            left, self.handed = list(self.handed), collections.deque()
        return left

    def send_until_done(self) -> None:
        """A helper's whole life: send from its threads until `reading_finished()` says the run has read
        everything and nothing due is left."""
        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix=f"help-{self.job.name}") as pool:
            connection_release()   # this thread only waits for its senders
            for future in [pool.submit(self._loop) for _ in range(self.threads)]:
                future.result()

    def planned(self, claimed: list[SyncAttempt] = ()) -> None:
        """New attempts are committed (`claimed`: those inserted already claimed for this run): wake the idle
        senders."""
        # Held from now: a try waiting in the queue keeps its lease as one on its way does.
        attempt_leases.keeper.hold(list(claimed))
        with self.work:
            self.handed.extend(claimed)
            self.generation += 1
            self.work.notify_all()

    def room(self) -> int:
        """How many more claimed tries the reader may hand over: a batch for each sender. The queue stays short, so
        a try waits in it a few requests' time, well within its lease; the rest are inserted pending and claimed
        as they come due (by this run's senders or a helper on another worker)."""
        with self.work:
            return max(0, self.threads * self.batch_size - len(self.handed))

    def _take_handed(self) -> list[SyncAttempt]:
        with self.work:
            count = min(self.batch_size, len(self.handed))
            return [self.handed.popleft() for _ in range(count)]

    def _loop(self) -> None:
        try:
            while True:
                # Read the flag before claiming: a claim that finds nothing only ends the loop if it began after the
                # reader's last commit. (A claim that waited for the write lock during that commit compares the new
                # rows with its own, earlier `now` and misses them.)
                with self.work:
                    seen, reading_done = self.generation, self.reading_done.is_set()
                attempts = self._take_handed() or attempts_claim(job=self.job, run=self.run, limit=self.batch_size)
                if attempts:
                    # The run's JobLeaseKeeper renews the job's lease meanwhile, and the process's lease keeper these
                    # tries' leases: they run out only if this worker dies (or hangs) with the batch.
                    with attempt_leases.keeper.holding(attempts):
                        self.send_batch(attempts)
                    continue
                if not reading_done and self.reading_finished is not None and self.reading_finished():
                    self.reading_done.set()
                    continue  # claim once more: the reader's last attempts were committed before it said so
                if reading_done and not (self.wait_for_others and attempts_held_elsewhere(self.job)):
                    return
                connection_release()  # an idle sender holds no database connection
                with self.work:
                    self.work.wait_for(lambda: self.generation != seen, timeout=self.idle_seconds)
        finally:
            connections.close_all()


def attempts_held_elsewhere(job: SyncJob) -> bool:
    """Whether any of the job's tries is being sent now (running under a live lease): by this process's other
    threads or by another worker. A try whose lease ran out belongs to a worker that died (or hung past the hold
    limit, syncs/attempt_leases.py); it is reclaimed."""
    return SyncAttempt.objects.filter(job=job, status=AttemptStatus.RUNNING, lease_expires_at__gte=timezone.now()).exists()


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
