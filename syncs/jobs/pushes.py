"""The pushes: Salesforce changes since the watermark → NetSuite upserts by external id.

Each push reads its Salesforce object page by page in (SystemModstamp, Id) order, maps every record by the mapping
tables, records it as a pending attempt and advances the watermark once the page is committed; meanwhile sender
threads write the pending attempts in upsertList batches. What differs between pushes is a method of the spec.

Salesforce can also say which records changed (Outbound Messages, syncs/outbound.py): those wait as NotifiedChange
rows, and every run of the job takes them after its sweep, re-reading each record by id. A run restricted to them
(trigger "outbound") does only that. Neither moves the watermark for them: the watermark says "every change up to
here is planned", and a notified record says nothing about the records changed before it, so the scheduled sweep
still reads everything from where it was (what the restricted run already sent is skipped by its content hash).
"""
from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from mappings.services import MappingSet, mapping_set_for
from mappings.transforms import MappingError, map_record

from .. import finance
from ..attempts import (PlannedRecord, attempt_fail, attempts_plan_claimed, attempts_reclaim_expired,
                        attempts_succeed, request_failed)
from ..clients.errors import PermanentError, RemoteError
from ..clients.netsuite import NetSuiteClient, netsuite_client
from ..clients.netsuite.custom_fields import is_custom, line_type
from ..concurrency import BudgetTimeout, netsuite_budget
from ..database import connection_release
from ..clients.salesforce import SalesforceClient, salesforce_client, soql_format
from ..engine import BatchSender, content_hash, links_for, parse_salesforce_datetime, run_count, watermark_advance, watermark_since
from ..models import Direction, NotifiedChange, RunOutcome, SyncAttempt, SyncJob, SyncRun, System
from ..sending import helpers_enqueue, run_reading_finish, run_reading_finished, send_workers, sender_threads
from .base import (
    JobSpec,
    job_run_leased,
    run_outcome,
    salesforce_pause,
    salesforce_pause_between_pages,
    salesforce_refused,
)
from .netsuite_writer import NetSuiteBatchWriter

logger = logging.getLogger(__name__)
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")
# Records of a Salesforce page mapped and committed together (a page is up to 2,000).
PLAN_CHUNK = 500
# Salesforce ids in one IN list: 200 keep a query under the 16 KB request-URI limit (414 beyond it).
IDS_PER_QUERY = 200
# Notified changes taken together: read in IN lists of IDS_PER_QUERY, planned and committed as one part.
NOTIFIED_CHUNK = 1000


@dataclass
class PushContext:
    job: SyncJob
    run: SyncRun | None
    mappings: MappingSet
    line_mappings: MappingSet | None
    value_maps: dict
    # Lines jobs: application id → (external id, hash of the lines) of its order's try, for orders the hub has tried
    # but not linked yet.
    orders_unlinked: dict = field(default_factory=dict)


class PushJob(JobSpec):
    """A push; `run` is the same for all of them, and the methods below are what a push may change."""

    direction = Direction.PUSH
    routing_fields = ("externalId", "recordType")
    source_object = ""
    netsuite_type = ""
    lines_job = ""  # the job whose mappings describe this order's lines
    # Where the line mappings' fields live: a child object read with the record, or "" for the record itself.
    line_object = ""
    extra_fields: tuple = ()
    # Deleted records are read too (a deleted fee line changes its order's lines).
    include_deleted = False
    # The job plans a record only against what NetSuite holds of it (its link): a lines job sends nothing for an
    # order NetSuite does not have yet.
    plans_from_links = False

    # --- the run ----------------------------------------------------------------------------------------------------
    def context(self, job: SyncJob, run: SyncRun | None) -> PushContext:
        mappings = self.mappings()
        line_mappings = mapping_set_for(job_name=self.lines_job) if self.lines_job else None
        return PushContext(job=job, run=run, mappings=mappings, line_mappings=line_mappings, value_maps=mappings.value_maps)

    @property
    def notified_by(self) -> tuple[str, ...]:
        """The Salesforce objects whose outbound messages name records this job sends."""
        return (self.source_object,)

    def run(self, *, run: SyncRun, salesforce: SalesforceClient | None = None, netsuite: NetSuiteClient | None = None,
            restricted: bool = False):
        """`restricted`: only the changes Salesforce notified (no sweep from the watermark)."""
        ctx = self.context(run.job, run)
        bad_names = [f for f in ctx.mappings.source_fields + (ctx.line_mappings.source_fields if ctx.line_mappings else [])
                     if not FIELD_NAME.match(f)]
        if bad_names:
            return RunOutcome.FAILED, f"Mapping source fields that are not Salesforce field names: {', '.join(bad_names)}"
        return job_run_leased(self, run, ctx.mappings,
                              lambda: self._run_leased(ctx, salesforce or salesforce_client(), netsuite, restricted))

    def _run_leased(self, ctx: PushContext, salesforce, netsuite, restricted: bool = False):
        job, run = ctx.job, ctx.run
        reclaimed = attempts_reclaim_expired(job=job)
        try:
            unknown = self.unknown_fields(ctx, salesforce, recent=restricted)
        except RemoteError as error:
            return salesforce_refused(job, error) or (RunOutcome.FAILED, f"Salesforce describe failed: {error.code}: {error.message}")
        if unknown:
            return RunOutcome.FAILED, f"Unknown {self.source_object} fields in the mappings: {', '.join(unknown)}. Nothing was read."
        # A run for a few notified records (there may be one every few seconds) asks no limits call of its own: the
        # usage the client's last answer reported is enough to hold back.
        pause = salesforce_pause_between_pages(job, salesforce) if restricted else salesforce_pause(job, salesforce)
        if pause:
            return RunOutcome.PAUSED, pause
        soql, values = self.read_query(ctx)
        since = watermark_since(job)   # before the read moves the watermark
        if run.dry_run:
            return self._dry_run(ctx, salesforce, soql, values)
        writer = NetSuiteBatchWriter(netsuite=netsuite or netsuite_client(), job=job,
                                     replan=lambda attempts: self.replan(ctx, salesforce, attempts))
        self.warm_custom_fields(ctx, writer.netsuite)
        read = planned_count = skipped = 0
        paused = None
        # Twice as many senders as NetSuite slots, spread over the workers that help this run (syncs/sending.py; not
        # for a run of a few notified changes): a sender spends part of each batch outside its slot (claiming,
        # building the message, reading the answer, recording it), and the shared budget caps the requests in flight.
        workers = 1 if restricted else send_workers()
        with BatchSender(job=job, run=run, send_batch=writer, batch_size=min(job.batch_size, 100),
                         threads=sender_threads(limit=settings.NETSUITE["CONCURRENCY_LIMIT"], workers=workers),
                         wait_for_others=workers > 1) as sender:
            helpers_enqueue(run=run, helpers=workers - 1)
            try:
                pages = iter(()) if restricted else salesforce.query_pages(
                    soql_format(soql, **values), include_deleted=self.include_deleted, page_size=2000)
                for page in _until_refused(pages, job):
                    if isinstance(page, tuple):
                        paused = page
                        break
                    # A page is planned and committed a few hundred records at a time, so the senders start on its
                    # first records while the rest are mapped (the cursor moves with each committed part).
                    for start in range(0, len(page), PLAN_CHUNK):
                        part = page[start:start + PLAN_CHUNK]
                        read += len(part)
                        planned = self.plan_page(ctx, salesforce, part)
                        skipped += self.unchanged_count(part, planned)
                        if planned:
                            count, claimed = attempts_plan_claimed(run=run, planned=planned, operation="upsert",
                                                                   room=sender.room())
                            planned_count += count
                            sender.planned(claimed)
                        last = part[-1]
                        watermark_advance(job=job, run=run, timestamp=parse_salesforce_datetime(last["SystemModstamp"]),
                                          record_id=last["Id"])
                        run_count(run, records_read=len(part))
                    reason = salesforce_pause_between_pages(job, salesforce)
                    if reason:
                        paused = (RunOutcome.PAUSED, reason)
                        break
                    connection_release()   # the next page is Salesforce's time: the senders use the connection
                if not paused:
                    # After the sweep, so that a change notified while it read is merged into this run, not lost.
                    notified_planned, notified_skipped = self.plan_notified(ctx, salesforce, sender)
                    planned_count, skipped = planned_count + notified_planned, skipped + notified_skipped
            finally:
                run_reading_finish(run)
        # The senders stopped waiting for other workers' tries once only expired leases were left: a dead helper's.
        # Taken back now, they count as waiting to retry, and the run does not say it succeeded without them.
        reclaimed += attempts_reclaim_expired(job=job)
        if not paused and not restricted:
            # Applications that left the funded stages (or were deleted) since the watermark go to finance.
            try:
                self.after_read(ctx, salesforce, since)
            except RemoteError as error:
                paused = salesforce_refused(job, error)
                if paused is None:
                    raise
        outcome = run_outcome(run, planned_count, skipped, reclaimed)
        if paused:
            # What was read is written; the rest waits for the allocation, from the watermark reached.
            return paused[0], f"{paused[1]} Read so far: {outcome[1]}"
        return outcome

    def send_for(self, *, run: SyncRun, salesforce: SalesforceClient | None = None,
                 netsuite: NetSuiteClient | None = None) -> int:
        """Help `run` send its attempts from this worker (syncs/sending.py) until it has read everything and nothing
        due is left. Returns how many of the run's tries were closed meanwhile by anyone (for the task's log)."""
        ctx = self.context(run.job, run)
        salesforce = salesforce or salesforce_client()
        writer = NetSuiteBatchWriter(netsuite=netsuite or netsuite_client(), job=run.job,
                                     replan=lambda attempts: self.replan(ctx, salesforce, attempts))
        sender = BatchSender(job=run.job, run=run, send_batch=writer, batch_size=min(run.job.batch_size, 100),
                             threads=sender_threads(limit=settings.NETSUITE["CONCURRENCY_LIMIT"], workers=send_workers()),
                             reading_finished=lambda: run_reading_finished(run.pk))
        sender.send_until_done()
        return SyncAttempt.objects.filter(run=run, finished_at__isnull=False).count()

    def warm_custom_fields(self, ctx: PushContext, netsuite) -> None:
        """Read the account's custom field definitions the mappings write while Salesforce is read, so the first
        batch does not wait for them (in a slot, on a thread of its own; a failure is the first batch's to meet)."""
        record_types = set()
        if any(is_custom(name) for name in ctx.mappings.target_fields):
            record_types |= set(self.netsuite_record_types)
        if ctx.line_mappings and any(is_custom(name) for name in ctx.line_mappings.target_fields):
            record_types.add(line_type(self.netsuite_type))
        prepare = getattr(netsuite, "prepare_custom_fields", None)
        if not record_types or prepare is None:
            return

        def warm():
            try:
                prepare(record_types, hold=netsuite_budget().slot)
            except (RemoteError, BudgetTimeout) as error:
                logger.info("custom field definitions not read ahead: %s", error)

        threading.Thread(target=warm, name=f"{self.name}-custom-fields", daemon=True).start()

    def _dry_run(self, ctx, salesforce, soql, values):
        first_page = next(iter(salesforce.query_pages(soql_format(soql, **values), page_size=200)), [])
        planned = self.plan_page(ctx, salesforce, first_page[:200])
        failed = sum(1 for p in planned if p.error_code)
        return RunOutcome.SUCCEEDED, (f"Dry run: read {len(first_page)}, would write {len(planned) - failed}, {failed} "
                                      "would fail mapping. Nothing was written.")

    # --- reading ----------------------------------------------------------------------------------------------------
    def where(self, ctx: PushContext) -> tuple[str, dict]:
        """The SOQL condition (with format_soql placeholders) a record must meet, and its values."""
        return "", {}

    def child_query(self, ctx: PushContext) -> str:
        return ""

    def after_read(self, ctx: PushContext, salesforce, since) -> None:
        """Work once the changed records are read and planned (`since`: where this run read from)."""

    def select_fields(self, ctx: PushContext) -> str:
        line_fields = ctx.line_mappings.source_fields if ctx.line_mappings and not self.line_object else []
        fields = select_list(["Id", "SystemModstamp", *self.extra_fields, *ctx.mappings.source_fields, *line_fields])
        child = self.child_query(ctx)
        return f"{fields}, {child}" if child else fields

    def read_query(self, ctx: PushContext) -> tuple[str, dict]:
        """The run's query: the records changed since the watermark, in cursor order."""
        condition, values = self.where(ctx)
        return changed_since(ctx.job, self.select_fields(ctx), self.source_object, condition, values)

    def read_by_ids(self, ctx: PushContext, salesforce, ids: list[str]) -> list[dict]:
        """The records with these ids that qualify for the job, as the run reads them."""
        records = []
        condition, values = self.where(ctx)
        soql = f"SELECT {self.select_fields(ctx)} FROM {self.source_object} WHERE Id IN {{ids}}"
        soql += f" AND {condition}" if condition else ""
        for start in range(0, len(ids), IDS_PER_QUERY):
            records += salesforce.query_all(soql_format(soql, ids=ids[start:start + IDS_PER_QUERY], **values))
        return records

    def latest_query(self, ctx: PushContext) -> tuple[str, dict]:
        """The most recently changed record that qualifies (the console's preview when no id is given)."""
        condition, values = self.where(ctx)
        where = f" WHERE {condition}" if condition else ""
        return f"SELECT Id FROM {self.source_object}{where} ORDER BY SystemModstamp DESC LIMIT 1", values

    def unknown_fields(self, ctx: PushContext, salesforce, *, recent: bool = False) -> list[str]:
        """Mapping fields that the Salesforce objects do not have: refused before the query, naming each field.
        `recent`: a describe this process read in the last few minutes will do (restricted runs)."""
        objects = {self.source_object: list(ctx.mappings.source_fields)}
        if ctx.line_mappings:
            objects.setdefault(self.line_object or self.source_object, []).extend(ctx.line_mappings.source_fields)
        unknown = []
        for object_name, fields in objects.items():
            known = _described_fields(salesforce, object_name, recent=recent)
            unknown += [f"{object_name}.{f}" for f in fields if f.split(".")[0] not in known and "." not in f]
        return unknown

    # --- planning ---------------------------------------------------------------------------------------------------
    def records_of_page(self, ctx: PushContext, salesforce, page: list[dict]) -> tuple[list[dict], dict]:
        """The records a page of the run's query stands for, and their links."""
        return page, links_for(self.record_type, [record["Id"] for record in page])

    def plan_notified(self, ctx: PushContext, salesforce, sender: BatchSender) -> tuple[int, int]:
        """Plan the changes Salesforce notified for this job: each record read again by id (the message is never
        trusted for content), planned like a record of the sweep, then the notified changes marked taken. Returns
        (planned, unchanged). The watermark is not moved (see the module's docstring)."""
        job, run = ctx.job, ctx.run
        planned_count = skipped = 0
        while True:
            waiting = list(NotifiedChange.objects.filter(job=job, taken_at__isnull=True)
                           .order_by("requested_at", "id")[:NOTIFIED_CHUNK])
            if not waiting:
                return planned_count, skipped
            by_object: dict[str, list[str]] = {}
            for change in waiting:
                by_object.setdefault(change.object_type, []).append(change.salesforce_id)
            records = {}
            for object_type, ids in by_object.items():
                for record in self.notified_records(ctx, salesforce, object_type, sorted(set(ids))):
                    records[record["Id"]] = record
            records = list(records.values())
            planned = self.plan_records(ctx, records, links_for(self.record_type, [r["Id"] for r in records]))
            if planned:
                count, claimed = attempts_plan_claimed(run=run, planned=planned, operation="upsert", room=sender.room())
                planned_count += count
                sender.planned(claimed)
            skipped += len(records) - len(planned)
            NotifiedChange.objects.filter(pk__in=[change.pk for change in waiting]).update(run=run, taken_at=timezone.now())
            run_count(run, records_read=len(records))

    def notified_records(self, ctx: PushContext, salesforce, object_type: str, ids: list[str]) -> list[dict]:
        """The records of the job that these notified `object_type` ids stand for, read from Salesforce now (those
        that no longer qualify, e.g. no longer funded, are not among them)."""
        return self.read_by_ids(ctx, salesforce, ids)

    def plan_page(self, ctx: PushContext, salesforce, page: list[dict]) -> list[PlannedRecord]:
        records, links = self.records_of_page(ctx, salesforce, page)
        return self.plan_records(ctx, records, links)

    def plan_records(self, ctx: PushContext, records: list[dict], links: dict) -> list[PlannedRecord]:
        self.before_plan(ctx, records, links)
        planned = []
        for record in records:
            try:
                item = self.plan(ctx, record, links)
            except MappingError as error:
                item = PlannedRecord(salesforce_id=record["Id"], record_name=self.name_of(record),
                                     content_hash=content_hash(record), error_code=error.code,
                                     error_message=error.message, payload={"source": record})
            if item is not None:
                planned.append(item)
        return planned

    def before_plan(self, ctx: PushContext, records: list[dict], links: dict) -> None:
        """What planning a page needs to know about all its records at once."""

    def unchanged_count(self, page: list[dict], planned: list[PlannedRecord]) -> int:
        return len(page) - len(planned)

    def plan(self, ctx: PushContext, record: dict, links: dict) -> PlannedRecord | None:
        mapped = map_record(ctx.mappings.rows, record, value_maps=ctx.value_maps)
        netsuite_record = self.netsuite_record(ctx, record, mapped)
        lines = self.lines(ctx, record)
        if lines is not None:
            netsuite_record["fields"]["itemList"] = {"replaceAll": True, "item": lines}
        header_hash = content_hash({k: v for k, v in netsuite_record.items() if k != "fields"} | {
            "fields": {k: v for k, v in netsuite_record["fields"].items() if k != "itemList"}})
        detail_hash = content_hash(lines) if lines is not None else None
        link = links.get(record["Id"])
        if link and link.content_hash == header_hash and (detail_hash is None or link.detail_hash == detail_hash):
            return None
        parent = self.parent(record)
        return PlannedRecord(
            salesforce_id=record["Id"], netsuite_external_id=netsuite_record["externalId"],
            record_name=self.name_of(record), waiting_on=parent["salesforce_id"] if parent else "",
            content_hash=header_hash,
            payload={"record": netsuite_record, "parent": parent,
                     "link": {"record_type": self.record_type, "content_hash": header_hash, "detail_hash": detail_hash,
                              "lines_modstamp": self.lines_modstamp(record)}},
        )

    def lines_modstamp(self, record: dict) -> str | None:
        """The newest SystemModstamp among the Salesforce line items an order's lines were mapped from."""
        return None

    def netsuite_record(self, ctx: PushContext, record: dict, mapped: dict) -> dict:
        return {"type": mapped.get("recordType") or self.netsuite_type, "externalId": str(mapped["externalId"]),
                "fields": {k: v for k, v in mapped.items() if k not in self.routing_fields}}

    def lines(self, ctx: PushContext, record: dict) -> list | None:
        return None

    def parent(self, record: dict) -> dict | None:
        return None

    def name_of(self, record: dict) -> str:
        return str(record.get("Name") or record.get("LastName") or record["Id"])

    def replan(self, ctx: PushContext, salesforce, attempts: list[SyncAttempt]) -> list[SyncAttempt]:
        """Claimed tries that carry no NetSuite record yet (a person's retry, a held child released): read each record
        afresh from Salesforce and map it with the mappings of this moment, so a fixed mapping or a corrected record
        takes effect. Returns the tries now ready to send; the others are closed (nothing to send, mapping failed,
        gone from Salesforce)."""
        fresh = self.context(ctx.job, ctx.run)   # a mapping fixed after this run began counts too
        waiting = {attempt.salesforce_id: attempt for attempt in attempts}
        try:
            records = self.read_by_ids(fresh, salesforce, sorted(waiting))
        except RemoteError as error:
            request_failed(System.SALESFORCE, attempts, error)
            return []
        links = links_for(self.record_type, [record["Id"] for record in records])
        self.before_plan(fresh, records, links)
        ready, nothing_to_send = [], []
        for record in records:
            attempt = waiting.pop(record["Id"], None)
            if attempt is None:
                continue
            try:
                item = self.plan(fresh, record, links)
            except MappingError as error:
                attempt.request_payload = {"source": record}
                attempt_fail(attempt, error=PermanentError(error.code, error.message), retry=False)
                continue
            if item is None:
                attempt.request_payload = {"record": None}
                attempt.save(update_fields=["request_payload"])
                nothing_to_send.append((attempt, "", {"note": "Nothing to send: NetSuite already holds this content."}))
                continue
            attempt.request_payload, attempt.source_hash, attempt.waiting_on = item.payload, item.content_hash, item.waiting_on
            attempt.netsuite_external_id = item.netsuite_external_id
            attempt.save(update_fields=["request_payload", "source_hash", "waiting_on", "netsuite_external_id"])
            ready.append(attempt)
        attempts_succeed(nothing_to_send)
        for attempt in waiting.values():
            attempt_fail(attempt, error=PermanentError("NOT_IN_SCOPE", "The record is gone from Salesforce or no longer "
                                                       "qualifies for this job (e.g. no longer funded)."), retry=False)
        return ready


class PushAccounts(PushJob):
    source_object = "Account"
    netsuite_type = "customer"
    # An account becomes a customer or a vendor by its type, so its mapped fields must exist on both.
    netsuite_record_types = ("customer", "vendor")


class PushContacts(PushJob):
    source_object = "Contact"
    netsuite_type = "contact"
    extra_fields = ("FirstName", "LastName", "AccountId")

    def parent(self, record):
        return {"record_type": "Account", "salesforce_id": record["AccountId"], "field": "company"} if record.get("AccountId") else None

    def name_of(self, record):
        return " ".join(filter(None, [record.get("FirstName"), record.get("LastName")])) or record["Id"]


class FundedApplications(PushJob):
    """Applications at a stage the `application_stage` value mapping marks for NetSuite (Funded)."""

    source_object = "Opportunity"
    extra_fields = ("Name", "StageName")

    def where(self, ctx):
        return "StageName IN {stages}", {"stages": self.push_stages(ctx)}

    def push_stages(self, ctx) -> list[str]:
        return [stage for stage, action in ctx.value_maps.get("application_stage", {}).items() if action == "push"] or ["Funded"]

    def after_read(self, ctx, salesforce, since):
        """An application that left the funded stages, or was deleted, after its order was in NetSuite is not pushed
        as a change: NetSuite's accounting owns the order now (the master rules). Finance is told instead."""
        # Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_queryall.htm
        soql = "SELECT Id, Name, StageName, IsDeleted FROM Opportunity WHERE (IsDeleted = true OR StageName NOT IN {stages})"
        values = {"stages": self.push_stages(ctx)}
        if since is not None:
            soql += " AND SystemModstamp >= {since}"
            values["since"] = since
        left = salesforce.query_all(soql_format(soql, **values), include_deleted=True)
        for start in range(0, len(left), IDS_PER_QUERY):
            chunk = left[start:start + IDS_PER_QUERY]
            links = links_for(self.record_type, [application["Id"] for application in chunk])
            for application in chunk:
                link = links.get(application["Id"])
                if link is not None and link.netsuite_internal_id:
                    finance.defunded_file(application=application, record_type=self.record_type, link=link)


class PushSalesOrders(FundedApplications):
    netsuite_type = "salesOrder"
    line_object = "OpportunityLineItem"
    extra_fields = ("Name", "StageName", "AccountId")

    def child_query(self, ctx):
        fields = select_list(["Id", "SystemModstamp", *ctx.line_mappings.source_fields])
        return f"(SELECT {fields} FROM OpportunityLineItems ORDER BY Id)"

    def lines_modstamp(self, record):
        stamps = [item["SystemModstamp"] for item in record.get("OpportunityLineItems") or [] if item.get("SystemModstamp")]
        return max(stamps, key=parse_salesforce_datetime) if stamps else None

    def lines(self, ctx, record):
        # NetSuite refuses an order without lines, so the order is created with its fee lines; the lines job keeps
        # them in step afterwards.
        lines = []
        for item in record.get("OpportunityLineItems") or []:
            line = map_record(ctx.line_mappings.rows, item, value_maps=ctx.value_maps)
            line["item"] = {"internalId": line["item"], "type": "serviceSaleItem"}
            lines.append(line)
        return lines

    def parent(self, record):
        return {"record_type": "Account", "salesforce_id": record["AccountId"], "field": "entity"} if record.get("AccountId") else None


class PushPurchaseOrders(FundedApplications):
    netsuite_type = "purchaseOrder"
    finance_reviews = True
    extra_fields = ("Name", "StageName", "Broker__c", "Amount", "Commission_Percent__c")

    def where(self, ctx):
        condition, values = super().where(ctx)
        return condition + " AND Broker__c != null", values

    def lines(self, ctx, record):
        line = map_record(ctx.line_mappings.rows, record, value_maps=ctx.value_maps)
        line["item"] = {"internalId": line["item"], "type": "servicePurchaseItem"}
        if "rate" in line:
            line["rate"] = str(line["rate"])
        return [line]

    def parent(self, record):
        return {"record_type": "Account", "salesforce_id": record["Broker__c"], "field": "entity"}


# object name → (when read, its field names): a process's recent describes, for restricted runs.
_DESCRIBED: dict[str, tuple[float, frozenset]] = {}
DESCRIBE_REUSE_SECONDS = 300


def _described_fields(salesforce, object_name: str, *, recent: bool) -> frozenset:
    seen = _DESCRIBED.get(object_name)
    if recent and seen and time.monotonic() - seen[0] < DESCRIBE_REUSE_SECONDS:
        return seen[1]
    fields = frozenset(salesforce.describe_fields(object_name))
    _DESCRIBED[object_name] = (time.monotonic(), fields)
    return fields


def _until_refused(pages, job: SyncJob):
    """The query's pages; if Salesforce refuses one for the daily allocation, a (PAUSED, reason) pair and no more."""
    try:
        yield from pages
    except RemoteError as error:
        refused = salesforce_refused(job, error)
        if refused is None:
            raise
        yield refused


# --- SOQL ---------------------------------------------------------------------------------------------------------

def select_list(fields: list[str]) -> str:
    return ", ".join(dict.fromkeys(name for name in fields if name))  # in order, each once


def changed_since(job: SyncJob, fields: str, object_name: str, condition: str, values: dict) -> tuple[str, dict]:
    """SELECT `fields` of the records changed since the job's watermark (less the overlap), in cursor order."""
    since = watermark_since(job)
    clauses = [condition] if condition else []
    values = dict(values)
    if since is not None:
        clauses.append("SystemModstamp >= {since}")
        values["since"] = since
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"SELECT {fields} FROM {object_name}{where} ORDER BY SystemModstamp ASC, Id ASC", values
