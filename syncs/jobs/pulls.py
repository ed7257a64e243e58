"""The pulls: NetSuite changes since the watermark → Salesforce, through sObject Collections.

Reading: each run is a sweep. Note NetSuite's clock, read every transaction modified since the watermark (less an
overlap window) through the transport's `transaction_pages` (SOAP pages a search by date created and searches again
when the results shift; REST reads SuiteQL with a keyset cursor on last modified and id), and plan each page as it
comes. Only when the sweep is done does the watermark move, to the moment the sweep began. What is read twice is
recognised by its content hash and skipped. NetSuite answers dates in the account's time zone; the hub compares them
as aware datetimes and keeps its cursors in UTC.

Writing: one attempt per record, written 200 at a time with per-record results: one bad record fails alone.
"""
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone as dt_timezone

from django.conf import settings

from mappings.services import MappingSet
from mappings.transforms import MappingError, map_record

from ..attempts import PlannedRecord, attempts_plan, attempts_reclaim_expired
from ..breakers import breaker_fault
from ..clients.errors import RemoteError, TransientError
from ..clients.netsuite import NetSuiteClient, SearchPageGone, netsuite_client
from ..clients.salesforce import salesforce_client
from ..concurrency import netsuite_budget
from ..engine import BatchSender, content_hash, run_count, watermark_advance, watermark_since
from ..models import (SALESFORCE_ID, AttemptStatus, Direction, RunOutcome, SyncAttempt, SyncJob, SyncRun,
                      System)
from .base import (
    JobSpec,
    job_run_leased,
    run_outcome,
    salesforce_pause,
    salesforce_pause_between_pages,
    salesforce_refused,
)
from .salesforce_writer import SalesforceBatchWriter

logger = logging.getLogger(__name__)


@dataclass
class PullContext:
    job: SyncJob
    run: SyncRun
    mappings: MappingSet
    netsuite: NetSuiteClient | None = None
    # Where the sweep reads from (the watermark less the overlap, or a backfill's `since`).
    start: datetime | None = None


class PullJob(JobSpec):
    direction = Direction.PULL
    routing_fields = ("Id",)
    supports_backfill = True
    transaction_type = ""
    # The record types one sweep reads, in this order, all from the same start (default: transaction_type alone).
    transaction_types: tuple[str, ...] = ()
    body_fields_only = True
    target_object = "Opportunity"
    operation = "update"
    # (Salesforce object, RecordLink type, NetSuite record type) of written records the hub keeps links for.
    link: tuple[str, str, str] | None = None

    def run(self, *, run: SyncRun, since: datetime | None = None, progress=None, salesforce=None, netsuite=None,
            resume_from: tuple[datetime, str] | None = None):
        """Run one pull. `since` (a backfill) starts from that moment instead of the watermark, and `resume_from`
        (the moment and mark an interrupted backfill's last page reached) skips what that run read; `progress(done, total)`
        is called after each committed page."""
        ctx = PullContext(job=run.job, run=run, mappings=self.mappings())

        def body():
            ctx.netsuite = netsuite or netsuite_client()
            return _pull_run_leased(run, self, ctx, since, progress, salesforce or salesforce_client(), ctx.netsuite,
                                    resume_from)
        return job_run_leased(self, run, ctx.mappings, body)

    @property
    def swept_types(self) -> tuple[str, ...]:
        return self.transaction_types or (self.transaction_type,)

    def plan_context(self, records: list[dict]) -> dict:
        """What planning a page needs to know about all its records at once (keyword arguments of `plan`)."""
        return {}

    def plan_page(self, ctx: PullContext, records: list[dict], transaction_type: str) -> list[PlannedRecord]:
        """A page's records, planned: one attempt each, unless what was last written carries the same content."""
        ids = [str(r["internalId"]) for r in records]
        synced = dict(SyncAttempt.objects.filter(job=ctx.job, netsuite_internal_id__in=ids, status=AttemptStatus.SUCCEEDED)
                      .order_by("id").values_list("netsuite_internal_id", "source_hash"))
        extra = self.plan_context(records)
        planned = []
        for record in records:
            try:
                item = self.plan(ctx, record, **extra)
            except MappingError as error:
                item = mapping_failure(record, error)
            if item is None or (not item.error_code and synced.get(item.netsuite_internal_id) == item.content_hash):
                continue
            planned.append(item)
        return planned

    def after_pages(self, ctx: PullContext) -> list[PlannedRecord]:
        """Work planned once every page is read, before the writes end (e.g. NetSuite's deletions)."""
        return []

    def after_sweep(self, run: SyncRun, writer: SalesforceBatchWriter) -> None:
        """Work of the whole run, once every page is written."""

    def plan(self, ctx: PullContext, record: dict) -> PlannedRecord | None:
        mapped = map_record(ctx.mappings.rows, record, value_maps=ctx.mappings.value_maps)
        application_id = str(mapped.pop("Id", "") or "")
        if not SALESFORCE_ID.match(application_id):
            return None  # not an order the hub created from an application: nothing of Salesforce's to update
        payload = {"object": self.target_object, "mode": "update", "record": {"Id": application_id, **mapped}}
        return PlannedRecord(salesforce_id=application_id, netsuite_internal_id=str(record["internalId"]),
                             netsuite_external_id=str(record.get("externalId") or ""), record_name=str(record.get("tranId") or ""),
                             payload=payload, content_hash=content_hash(payload))


class PullSalesOrders(PullJob):
    transaction_type = "salesOrder"


class PullPurchaseOrders(PullJob):
    transaction_type = "purchaseOrder"


def _pull_run_leased(run, spec: PullJob, ctx: PullContext, since, progress, salesforce, netsuite, resume_from=None):
    job = run.job
    reclaimed = attempts_reclaim_expired(job=job)
    try:
        salesforce.describe_fields(spec.target_object)  # logs in and reads the org's API usage before any work
    except RemoteError as error:
        return salesforce_refused(job, error) or (RunOutcome.FAILED, f"Salesforce could not be reached: {error.code}: {error.message}")
    pause = salesforce_pause(job, salesforce)
    if pause:
        return RunOutcome.PAUSED, pause
    # From the watermark less the overlap window: what was read before is recognised by its hash and skipped.
    start = since if since is not None else watermark_since(job)
    def clock():
        with netsuite_budget().slot():
            return netsuite.server_time()

    try:
        # A read like the pages (REST asks SuiteQL for it): its faults get the same few tries.
        sweep_began = _read_through_request_faults(clock)
    except RemoteError as error:
        return RunOutcome.FAILED, f"NetSuite could not be reached: {error.code}: {error.message}"
    writer = SalesforceBatchWriter(salesforce=salesforce, job=job, link=spec.link)
    totals = {"planned": 0, "skipped": 0}
    try:
        with BatchSender(job=job, run=run, send_batch=writer, threads=2, batch_size=200) as sender:
            paused = _sweep(run, spec, ctx, netsuite, salesforce, sender, start, resume_from, progress, totals)
    except RemoteError as error:
        # What was read and planned is committed and will be written; the watermark stays, so the next run reads
        # again from it.
        if error.transient:
            breaker_fault(System.NETSUITE, error)
        spec.after_sweep(run, writer)
        outcome = run_outcome(run, totals["planned"], totals["skipped"], reclaimed, not_written=("rollup",))
        return RunOutcome.FAILED, f"NetSuite failed a read ({error.code}: {error.message}); the next run reads again. {outcome[1]}"
    planned_total, skipped = totals["planned"], totals["skipped"]
    if paused:
        # The sweep is not finished: the watermark stays, and the next run reads again from it.
        spec.after_sweep(run, writer)
        outcome = run_outcome(run, planned_total, skipped, reclaimed, not_written=("rollup",))
        return RunOutcome.PAUSED, f"{paused} Read so far: {outcome[1]}"
    if since is None:
        # Everything modified before the sweep began is read and committed. NetSuite stamps records to the second, so
        # the watermark starts that second. (A backfill leaves the job's watermark to its schedule.)
        watermark_advance(job=job, run=run, timestamp=_utc(sweep_began).replace(microsecond=0), record_id="")
    spec.after_sweep(run, writer)
    return run_outcome(run, planned_total, skipped, reclaimed, not_written=("rollup",))


def _sweep(run, spec: PullJob, ctx: PullContext, netsuite, salesforce, sender: BatchSender, start, resume_from,
           progress, totals: dict) -> str:
    """Read every page since `start` of each type the spec sweeps, plan each page's attempts and hand them to the
    sender. Returns the reason the sweep stopped early ('' if it read everything); `totals` gathers what was planned
    and skipped."""
    job = run.job
    ctx.start = start
    read, total = 0, 0
    types = spec.swept_types
    first, resume_after = _resume_point(types, resume_from)
    for index, transaction_type in enumerate(types):
        if index < first:
            continue   # read whole by the interrupted backfill this one resumes
        counted = False
        for page in _pages(netsuite, spec, transaction_type, start, resume_after=resume_after if index == first else None):
            if not counted:
                total, counted = total + page.total_records, True
            records = page.records
            read += len(records)
            planned = _plan_page(ctx, spec, records, transaction_type=transaction_type)
            _plan_commit(run, spec, sender, planned, totals, read=len(records))
            # The run's own progress (a backfill resumes from it): how far the transport's order has been read.
            if page.resume_after is not None:
                reached, mark = page.resume_after
                mark = f"{index}:{mark}" if len(types) > 1 else mark
                SyncRun.objects.filter(pk=run.pk).update(watermark_after_timestamp=reached, watermark_after_record_id=mark)
            run_count(run, records_read=len(records))
            if progress:
                progress(read, max(total, read))
            # The writes of each page cost Salesforce requests: stop reading when the allocation runs low (what
            # is planned is still written, and retried if Salesforce refuses it).
            paused = salesforce_pause_between_pages(job, salesforce)
            if paused:
                return paused
    _plan_commit(run, spec, sender, spec.after_pages(ctx), totals, read=0)
    return ""


def _plan_commit(run, spec, sender, planned, totals, *, read: int) -> None:
    totals["skipped"] += max(read - len(planned), 0)
    if planned:
        totals["planned"] += attempts_plan(run=run, planned=planned, operation=spec.operation)
        sender.planned()


def _resume_point(types: tuple[str, ...], resume_from) -> tuple[int, tuple | None]:
    """Which of the swept types an interrupted backfill reached, and the transport's mark within it. A sweep of
    several types keeps the type's index before the mark ("2:modified:123")."""
    if resume_from is None:
        return 0, None
    moment, mark = resume_from
    if len(types) > 1:
        index, _, mark = (mark or "").partition(":")
        return (int(index), (moment, mark)) if index.isdigit() else (0, None)
    return 0, (moment, mark)


def _pages(netsuite: NetSuiteClient, spec: PullJob, transaction_type: str, start: datetime | None, *, resume_after=None):
    """Every page of the transactions modified since `start`, in the transport's order (SOAP: by date created;
    REST: by last modified and id, a big sweep in ranges of ids side by side whose pages come as read), each request
    in a concurrency slot and each read through request faults. Each page is planned on its own."""
    return netsuite.transaction_pages(transaction_type=transaction_type, modified_since=start,
                                      page_size=settings.HUB_NETSUITE_PAGE_SIZE, body_fields_only=spec.body_fields_only,
                                      resume_after=resume_after, hold=netsuite_budget().slot,
                                      retrying=_read_through_request_faults, pages_at_once=pull_pages_at_once())


def pull_pages_at_once() -> int:
    """A pull's share of the NetSuite concurrency budget, in page reads in flight: HUB_PULL_BUDGET_SHARE of the
    account's limit (two of Standard's five by default, ten of 25). The rest stays for the pushes and the other
    pulls running meanwhile; every read still takes a slot of the one shared budget, so together they never exceed
    the limit."""
    return max(1, int(settings.NETSUITE["CONCURRENCY_LIMIT"] * settings.HUB_PULL_BUDGET_SHARE))


# A page read changes nothing, so a request fault of one (a 5xx, a refusal for concurrency, a timeout) is worth a
# few quick tries before the run gives up on the sweep; one bad answer in a burst should not fail a whole pull.
READ_TRIES = 4


def _read_through_request_faults(read):
    for number in range(1, READ_TRIES + 1):
        try:
            return read()
        except SearchPageGone:
            raise   # not a fault: the caller searches again
        except TransientError as error:
            if number == READ_TRIES:
                raise
            logger.info("Read failed (%s); trying again", error.code)
            time.sleep(random.uniform(0.5, 1.0) * 2 ** (number - 1))


def _utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        raise ValueError("NetSuite returned a date-time without an offset; refusing to guess its time zone")
    return value.astimezone(dt_timezone.utc)


def _plan_page(ctx: PullContext, spec: PullJob, records: list[dict], *, transaction_type: str = "") -> list[PlannedRecord]:
    return spec.plan_page(ctx, records, transaction_type or spec.transaction_type)


def mapping_failure(record: dict, error: MappingError) -> PlannedRecord:
    """A record its mapping cannot express: an attempt failed at once, naming the mapping's complaint."""
    source = _jsonable(record)
    return PlannedRecord(netsuite_internal_id=str(record["internalId"]), record_name=str(record.get("tranId") or ""),
                         content_hash=content_hash(source), error_code=error.code, error_message=error.message,
                         payload={"source": source})


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
