"""The six push jobs: Salesforce changes since the watermark → NetSuite upserts by external id.

Each job reads its Salesforce object page by page in (SystemModstamp, Id) order, maps every record by the mapping
tables, records it as a pending attempt and advances the watermark once the page is committed; meanwhile sender
threads write the pending attempts in upsertList batches.
"""
import logging
import re
from dataclasses import dataclass, field

from django.conf import settings

from mappings.services import MappingSet, MasterRuleViolation, mapping_set_for, master_rule_enforce
from mappings.transforms import MappingError, map_record

from .attempts import PlannedRecord, attempts_plan, attempts_reclaim_expired
from .clients.errors import RemoteError
from .clients.netsuite import NetSuiteClient, netsuite_client
from .clients.salesforce import SalesforceClient, salesforce_client, soql_format
from .engine import (
    BatchSender,
    NetSuiteBatchWriter,
    JobLeaseKeeper,
    content_hash,
    job_lease_acquire,
    job_lease_release,
    links_for,
    parse_salesforce_datetime,
    run_count,
    watermark_advance,
    watermark_since,
)
from .models import AttemptStatus, RecordLink, RunOutcome, SyncAttempt, SyncJob, SyncRun
from .runners import runner

logger = logging.getLogger(__name__)
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")
# Records of a Salesforce page mapped and committed together (a page is up to 2,000).
PLAN_CHUNK = 500
# Keys of a mapped record that say where it goes rather than being NetSuite fields.
ROUTING_FIELDS = ("externalId", "recordType")


@dataclass
class PushContext:
    job: SyncJob
    run: SyncRun
    mappings: MappingSet
    line_mappings: MappingSet | None
    value_maps: dict
    # Lines jobs: application id → (external id, hash of the lines) of its order's try, for orders the hub has tried
    # but not linked yet.
    orders_unlinked: dict = field(default_factory=dict)


class PushJob:
    """What differs between the six pushes; the run itself is `push_run`."""

    source_object = ""
    record_type = ""  # RecordLink type of what this job writes
    netsuite_type = ""
    line_job = ""  # the job whose mappings describe this order's lines
    extra_fields: tuple = ()

    def where(self, ctx: PushContext) -> tuple[str, dict]:
        return "", {}

    def child_query(self, ctx: PushContext) -> str:
        return ""

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
                "fields": {k: v for k, v in mapped.items() if k not in ROUTING_FIELDS}}

    def lines(self, ctx: PushContext, record: dict) -> list | None:
        return None

    def parent(self, record: dict) -> dict | None:
        return None

    def name_of(self, record: dict) -> str:
        return str(record.get("Name") or record.get("LastName") or record["Id"])


class PushAccounts(PushJob):
    source_object = "Account"
    record_type = "Account"
    netsuite_type = "customer"


class PushContacts(PushJob):
    source_object = "Contact"
    record_type = "Contact"
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
        stages = [stage for stage, action in ctx.value_maps.get("application_stage", {}).items() if action == "push"]
        return "StageName IN {stages}", {"stages": stages or ["Funded"]}


class PushSalesOrders(FundedApplications):
    record_type = "SalesOrder"
    netsuite_type = "salesOrder"
    line_job = "push_sales_order_lines"
    extra_fields = ("Name", "StageName", "AccountId")

    def child_query(self, ctx):
        fields = _select_list(["Id", "SystemModstamp", *ctx.line_mappings.source_fields])
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
    record_type = "PurchaseOrder"
    netsuite_type = "purchaseOrder"
    line_job = "push_purchase_order_lines"
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


class OrderLines(PushJob):
    """Keeps an existing order's lines in step: the whole line list is sent with replaceAll, so a changed fee
    replaces its line and a removed fee leaves no orphan.

    An order the hub has never tried gets its lines when it is created, so it is skipped here. An order whose try is
    still on its way (or failed) carries the lines read when it was planned: the lines read now are planned too,
    held back until that order is in NetSuite, so a fee changed meanwhile is not lost."""

    order_job: PushJob = None
    order_job_name = ""

    def plan(self, ctx, record, links):
        link = links.get(record["Id"])
        parent = None
        if link is not None and link.netsuite_internal_id:
            external_id, known_hash = link.netsuite_external_id, link.detail_hash
        elif record["Id"] in ctx.orders_unlinked:
            # Compared with the lines that order's try carries: only different lines need a write of their own.
            external_id, known_hash = ctx.orders_unlinked[record["Id"]]
            parent = {"record_type": self.record_type, "salesforce_id": record["Id"], "field": "itemList",
                      "job": self.order_job_name}
        else:
            return None
        lines = self.order_job.lines(ctx, record)
        detail_hash = content_hash(lines)
        if known_hash == detail_hash:
            return None
        return PlannedRecord(
            salesforce_id=record["Id"], netsuite_external_id=external_id, record_name=self.name_of(record),
            content_hash=detail_hash, waiting_on=record["Id"] if parent else "",
            payload={"record": {"type": self.netsuite_type, "externalId": external_id,
                                "fields": {"itemList": {"replaceAll": True, "item": lines}}},
                     "parent": parent, "link": {"record_type": self.record_type, "detail_hash": detail_hash,
                                                "lines_modstamp": self.order_job.lines_modstamp(record)}},
        )


class PushSalesOrderLines(OrderLines):
    """Reads changed fee line items (deleted ones too) and re-sends the lines of their funded applications."""

    source_object = "OpportunityLineItem"
    record_type = "SalesOrder"
    netsuite_type = "salesOrder"
    order_job = PushSalesOrders()
    order_job_name = "push_sales_orders"
    line_job = "push_sales_order_lines"


class PushPurchaseOrderLines(OrderLines, PushPurchaseOrders):
    source_object = "Opportunity"
    record_type = "PurchaseOrder"
    netsuite_type = "purchaseOrder"
    order_job = PushPurchaseOrders()
    order_job_name = "push_purchase_orders"
    line_job = "push_purchase_order_lines"


PUSH_JOBS: dict[str, PushJob] = {
    "push_accounts": PushAccounts(),
    "push_contacts": PushContacts(),
    "push_sales_orders": PushSalesOrders(),
    "push_sales_order_lines": PushSalesOrderLines(),
    "push_purchase_orders": PushPurchaseOrders(),
    "push_purchase_order_lines": PushPurchaseOrderLines(),
}


def push_run(*, run: SyncRun, salesforce: SalesforceClient | None = None, netsuite: NetSuiteClient | None = None):
    job = run.job
    spec = PUSH_JOBS[job.name]
    mappings = mapping_set_for(job_name=job.name)
    line_mappings = mapping_set_for(job_name=spec.line_job) if spec.line_job else None
    try:
        master_rule_enforce(job=job, target_fields=[f for f in mappings.target_fields if f not in ROUTING_FIELDS])
    except MasterRuleViolation as refusal:
        return RunOutcome.FAILED, str(refusal)
    bad_names = [f for f in mappings.source_fields + (line_mappings.source_fields if line_mappings else []) if not FIELD_NAME.match(f)]
    if bad_names:
        return RunOutcome.FAILED, f"Mapping source fields that are not Salesforce field names: {', '.join(bad_names)}"
    if not job_lease_acquire(job, run):
        return RunOutcome.SKIPPED, "Another run of this job is still working."
    try:
        with JobLeaseKeeper(job):
            return _push_run_leased(run, spec, mappings, line_mappings, salesforce or salesforce_client(), netsuite)
    finally:
        job_lease_release(job)


def _push_run_leased(run, spec: PushJob, mappings, line_mappings, salesforce, netsuite):
    job = run.job
    ctx = PushContext(job=job, run=run, mappings=mappings, line_mappings=line_mappings, value_maps=mappings.value_maps)
    reclaimed = attempts_reclaim_expired(job=job)
    try:
        unknown = _unknown_fields(salesforce, spec, ctx)
    except RemoteError as error:
        return RunOutcome.FAILED, f"Salesforce describe failed: {error.code}: {error.message}"
    if unknown:
        return RunOutcome.FAILED, f"Unknown {spec.source_object} fields in the mappings: {', '.join(unknown)}. Nothing was read."
    pause = api_pause_reason(salesforce)
    SyncJob.objects.filter(pk=job.pk).update(paused_reason=pause)
    if pause:
        return RunOutcome.PAUSED, pause
    soql, values = _soql(spec, ctx)
    if run.dry_run:
        return _dry_run(ctx, spec, salesforce, soql, values)
    _replan_retried(ctx, spec, salesforce)
    writer = NetSuiteBatchWriter(netsuite=netsuite or netsuite_client(), job=job)
    read = planned_count = skipped = 0
    # Twice as many senders as NetSuite slots: a sender spends part of each batch outside its slot (claiming,
    # building the message, reading the answer, recording it), and the shared budget caps the requests in flight.
    with BatchSender(job=job, run=run, send_batch=writer, threads=2 * settings.NETSUITE["CONCURRENCY_LIMIT"],
                     batch_size=min(job.batch_size, 100)) as sender:
        for page in salesforce.query_pages(soql_format(soql, **values), include_deleted=spec.source_object == "OpportunityLineItem",
                                           page_size=2000):
            # A page is planned and committed a few hundred records at a time, so the senders start on its first
            # records while the rest are mapped (the cursor moves with each committed part).
            for start in range(0, len(page), PLAN_CHUNK):
                part = page[start:start + PLAN_CHUNK]
                read += len(part)
                planned = _plan_page(ctx, spec, salesforce, part)
                skipped += len(part) - len(planned) if spec.source_object != "OpportunityLineItem" else 0
                if planned:
                    planned_count += attempts_plan(run=run, planned=planned, operation="upsert")
                    sender.planned()
                last = part[-1]
                watermark_advance(job=job, run=run, timestamp=parse_salesforce_datetime(last["SystemModstamp"]), record_id=last["Id"])
                run_count(run, records_read=len(part))
    return _outcome(run, planned_count, skipped, reclaimed)


def _plan_page(ctx, spec: PushJob, salesforce, page: list[dict]) -> list[PlannedRecord]:
    if spec.source_object == "OpportunityLineItem":
        # One read of the orders' links serves both the line items and the applications they belong to.
        links = links_for(spec.record_type, {item["OpportunityId"] for item in page if item.get("OpportunityId")})
        page = _applications_of_lines(ctx, spec, salesforce, _lines_not_yet_synced(page, links))
    else:
        links = links_for(spec.record_type, [record["Id"] for record in page])
    if isinstance(spec, OrderLines):
        unlinked = [record["Id"] for record in page if record["Id"] not in links or not links[record["Id"]].netsuite_internal_id]
        ctx.orders_unlinked = _orders_tried_unlinked(spec.order_job_name, unlinked)
    planned = []
    for record in page:
        try:
            item = spec.plan(ctx, record, links)
        except MappingError as error:
            item = PlannedRecord(salesforce_id=record["Id"], record_name=spec.name_of(record), content_hash=content_hash(record),
                                 error_code=error.code, error_message=error.message, payload={"source": record})
        if item is not None:
            planned.append(item)
    return planned


def _orders_tried_unlinked(order_job_name: str, application_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Of these applications, those whose order has an open or failed try: application id → (the order's external id,
    the hash of the lines that try carries)."""
    if not application_ids:
        return {}
    tries = SyncAttempt.objects.filter(
        job__name=order_job_name, salesforce_id__in=application_ids, superseded=False,
        status__in=[AttemptStatus.PENDING, AttemptStatus.RUNNING, AttemptStatus.FAILED, AttemptStatus.DEAD],
    ).exclude(netsuite_external_id="")
    return {salesforce_id: (external_id, ((payload or {}).get("link") or {}).get("detail_hash"))
            for salesforce_id, external_id, payload in tries.values_list("salesforce_id", "netsuite_external_id", "request_payload")}


def _replan_retried(ctx: PushContext, spec: PushJob, salesforce) -> None:
    """Attempts a person asked to retry after a mapping failure carry no NetSuite record yet: read each record
    afresh and map it with today's mappings, so a fixed mapping takes effect."""
    from .attempts import attempt_fail
    from .clients.errors import PermanentError

    waiting = {a.salesforce_id: a for a in SyncAttempt.objects.filter(
        job=ctx.job, status=AttemptStatus.PENDING, superseded=False).exclude(request_payload__has_key="record")}
    if not waiting:
        return
    records = _read_by_ids(ctx, spec, salesforce, sorted(waiting))
    for record in records:
        attempt = waiting.pop(record["Id"])
        try:
            item = spec.plan(ctx, record, {})
        except MappingError as error:
            attempt.status = AttemptStatus.RUNNING
            attempt_fail(attempt, error=PermanentError(error.code, error.message), retry=False)
            continue
        if item is None:
            attempt.request_payload = {"record": None}
            attempt.status = AttemptStatus.SUCCEEDED
            attempt.remote_message = "Nothing to send: NetSuite already holds this content."
            attempt.save()
            continue
        attempt.request_payload, attempt.source_hash, attempt.waiting_on = item.payload, item.content_hash, item.waiting_on
        attempt.netsuite_external_id = item.netsuite_external_id
        attempt.save(update_fields=["request_payload", "source_hash", "waiting_on", "netsuite_external_id"])
    for attempt in waiting.values():
        attempt.status = AttemptStatus.RUNNING
        attempt_fail(attempt, error=PermanentError("NOT_IN_SCOPE", "The record is gone from Salesforce or no longer "
                                                   "qualifies for this job (e.g. no longer funded)."), retry=False)


def _read_by_ids(ctx, spec, salesforce, ids: list[str]) -> list[dict]:
    records = []
    for start in range(0, len(ids), 200):
        chunk = ids[start:start + 200]
        if spec.source_object == "OpportunityLineItem":
            records += _applications_of_lines(ctx, spec, salesforce, [{"OpportunityId": i} for i in chunk])
            continue
        condition, values = spec.where(ctx)
        soql = f"SELECT {_record_fields(spec, ctx)} FROM {spec.source_object} WHERE Id IN {{ids}}"
        soql += f" AND {condition}" if condition else ""
        records += salesforce.query_all(soql_format(soql, ids=chunk, **values))
    return records


def _lines_not_yet_synced(line_items: list[dict], links: dict[str, RecordLink]) -> list[dict]:
    """The changed line items that NetSuite may not have: those of orders not linked yet, and those stamped after
    the newest line the order was last written with (a deletion's stamp is its time of deletion). The rest were read
    with their order, so their applications need not be read again. `links`: the orders' links, by application."""
    fresh = []
    for item in line_items:
        link = links.get(item.get("OpportunityId"))
        if link is None or link.lines_modstamp is None or parse_salesforce_datetime(item["SystemModstamp"]) > link.lines_modstamp:
            fresh.append(item)
    return fresh


def _applications_of_lines(ctx, spec, salesforce, line_items: list[dict]) -> list[dict]:
    """The funded applications (with all their current lines) whose line items changed."""
    ids = sorted({item["OpportunityId"] for item in line_items if item.get("OpportunityId")})
    if not ids:
        return []
    order_spec = spec.order_job
    condition, values = order_spec.where(ctx)
    fields = _select_list(["Id", "SystemModstamp", *order_spec.extra_fields])
    soql = f"SELECT {fields}, {order_spec.child_query(ctx)} FROM Opportunity WHERE Id IN {{ids}} AND {condition}"
    # A page of 2,000 line items can name over a thousand applications: a single IN list would pass the 16 KB
    # request-URI limit (414), so ask 200 at a time, as _read_by_ids does.
    applications = []
    for start in range(0, len(ids), 200):
        applications += salesforce.query_all(soql_format(soql, ids=ids[start:start + 200], **values))
    return applications


def _record_fields(spec: PushJob, ctx: PushContext) -> str:
    line_fields = ctx.line_mappings.source_fields if ctx.line_mappings and not isinstance(spec, PushSalesOrders) else []
    fields = _select_list(["Id", "SystemModstamp", *spec.extra_fields, *ctx.mappings.source_fields, *line_fields])
    if isinstance(spec, PushSalesOrders):
        fields += ", " + spec.child_query(ctx)
    return fields


def _soql(spec: PushJob, ctx: PushContext) -> tuple[str, dict]:
    if spec.source_object == "OpportunityLineItem":
        fields = _select_list(["Id", "SystemModstamp", "OpportunityId", "IsDeleted"])
        condition, values = "", {}
    else:
        fields = _record_fields(spec, ctx)
        condition, values = spec.where(ctx)
    since = watermark_since(ctx.job)
    clauses = [condition] if condition else []
    if since is not None:
        clauses.append("SystemModstamp >= {since}")
        values["since"] = since
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"SELECT {fields} FROM {spec.source_object}{where} ORDER BY SystemModstamp ASC, Id ASC", values


def _select_list(fields: list[str]) -> str:
    return ", ".join(dict.fromkeys(name for name in fields if name))  # in order, each once


def _unknown_fields(salesforce, spec: PushJob, ctx: PushContext) -> list[str]:
    """Mapping fields that the Salesforce object does not have: refused before the query, naming each field."""
    objects = {spec.source_object: ctx.mappings.source_fields}
    if ctx.line_mappings and spec.line_job == "push_sales_order_lines":
        objects.setdefault("OpportunityLineItem", []).extend(ctx.line_mappings.source_fields)
    elif ctx.line_mappings:
        objects.setdefault(spec.source_object, []).extend(ctx.line_mappings.source_fields)
    unknown = []
    for object_name, fields in objects.items():
        known = set(salesforce.describe_fields(object_name))
        unknown += [f"{object_name}.{f}" for f in fields if f.split(".")[0] not in known and "." not in f]
    return unknown


def api_pause_reason(salesforce) -> str:
    usage = salesforce.api_usage
    if not usage:
        return ""
    used, total = usage
    reserve = total * settings.HUB_SALESFORCE_API_RESERVE_PERCENT / 100
    if total and total - used <= reserve:
        return (f"Paused: Salesforce daily API requests nearly spent ({used} of {total} used; the last "
                f"{settings.HUB_SALESFORCE_API_RESERVE_PERCENT}% are kept for people and other integrations).")
    return ""


def _dry_run(ctx, spec, salesforce, soql, values):
    first_page = next(iter(salesforce.query_pages(soql_format(soql, **values), page_size=200)), [])
    planned = _plan_page(ctx, spec, salesforce, first_page[:200])
    failed = sum(1 for p in planned if p.error_code)
    return RunOutcome.SUCCEEDED, f"Dry run: read {len(first_page)}, would write {len(planned) - failed}, {failed} would fail mapping. Nothing was written."


def _outcome(run: SyncRun, planned: int, skipped: int, reclaimed: int) -> tuple[str, str]:
    attempts = SyncAttempt.objects.filter(run=run)
    written = attempts.filter(status=AttemptStatus.SUCCEEDED).count()
    failed = attempts.filter(status__in=[AttemptStatus.FAILED, AttemptStatus.DEAD], superseded=False).count()
    waiting = SyncAttempt.objects.filter(job=run.job, status=AttemptStatus.PENDING, superseded=False).count()
    SyncRun.objects.filter(pk=run.pk).update(records_written=written, records_failed=failed, records_skipped=skipped)
    run.refresh_from_db()
    message = f"{planned} changed, {skipped} unchanged, {written} written, {failed} failed, {waiting} waiting to retry."
    if reclaimed:
        message += f" {reclaimed} tries of a stopped worker reclaimed."
    if failed:
        return RunOutcome.PARTIAL, message
    return RunOutcome.SUCCEEDED, message


for _name in PUSH_JOBS:
    runner(_name)(push_run)
