"""The remittance pull: NetSuite's money → Remittance__c, and the application totals recomputed from Salesforce.

Each run sweeps, from one start (the watermark less the overlap), the customer payments, customer deposits, deposit
applications, credit memos and customer refunds modified since, then the deletions of those types since
(`deleted_since`). What it reads is kept in the hub's books (MoneyTransaction): a remittance's amount can depend on a
transaction read in another run (a refund of last month's payment), and a void or a delete must find the
remittances it undoes. The rules that turn transactions into remittances are in syncs/money.py. A page's invoices
are asked for their sales orders in one batch (`transactions_created_from`), and the orders' applications come from
the hub's links: no request per payment.

After the writes the application totals are recomputed from the Remittance__c records in Salesforce, and finance
gets a review item for each change of money that came back and for unapplied cash (one per cause: a second run
files nothing).
"""
from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from mappings.models import MasterRule
from mappings.transforms import map_record

from .. import finance
from .. import money
from ..attempts import PlannedRecord, attempts_plan
from ..clients.salesforce import soql_format
from ..concurrency import netsuite_budget
from ..engine import BatchSender, content_hash
from ..models import AttemptStatus, MoneyTransaction, RecordLink, SyncAttempt, SyncRun
from .pulls import PullContext, PullJob, _jsonable, _read_through_request_faults
from .salesforce_writer import SalesforceBatchWriter

logger = logging.getLogger(__name__)
ROLLUP_FIELDS = ["Total_Remitted__c", "Remittance_Balance__c", "Total_Credited__c"]
# NetSuite documents getList up to 1000 records; the client batches transactions_created_from the same way.
CREATED_FROM_BATCH = 1000


class LedgerBooks:
    """money.Books answered from the hub's books (MoneyTransaction) and links, loaded in a few queries a page."""

    def __init__(self):
        self.rows: dict[tuple[str, str], MoneyTransaction] = {}
        self.invoices: dict[str, str] = {}
        self.applications: dict[str, str] = {}

    def load(self, keys) -> None:
        wanted = {key for key in keys if key not in self.rows}
        by_type: dict[str, set[str]] = {}
        for record_type, internal_id in wanted:
            by_type.setdefault(record_type, set()).add(internal_id)
        for record_type, ids in by_type.items():
            for row in MoneyTransaction.objects.filter(record_type=record_type, internal_id__in=ids):
                self.rows[(record_type, row.internal_id)] = row

    def load_invoices(self, invoice_ids) -> set[str]:
        """The invoices' orders the books know; returns the invoices they don't."""
        wanted = {i for i in invoice_ids if i not in self.invoices}
        for internal_id, created_from in MoneyTransaction.objects.filter(
                record_type=money.INVOICE, internal_id__in=wanted).values_list("internal_id", "created_from"):
            self.invoices[internal_id] = created_from
        return wanted - set(self.invoices)

    def load_applications(self, order_ids) -> None:
        wanted = {o for o in order_ids if o and o not in self.applications}
        if not wanted:
            return
        self.applications.update({o: "" for o in wanted})
        self.applications.update(RecordLink.objects.filter(record_type="SalesOrder", netsuite_internal_id__in=wanted)
                                 .values_list("netsuite_internal_id", "salesforce_id"))

    def row(self, record_type: str, internal_id: str) -> MoneyTransaction | None:
        return self.rows.get((record_type, internal_id))

    # --- money.Books ----------------------------------------------------------------------------------------------
    def transaction(self, record_type, internal_id):
        row = self.row(record_type, internal_id)
        return row.record if row is not None else None

    def deleted(self, record_type, internal_id):
        row = self.row(record_type, internal_id)
        return row is not None and row.deleted_at is not None

    def refunds_of(self, record_type, internal_id):
        row = self.row(record_type, internal_id)
        return dict(row.refunds) if row is not None else {}

    def invoice_order(self, invoice_id):
        return self.invoices.get(invoice_id, "")

    def order_application(self, order_id):
        return self.applications.get(order_id, "")


class PullRemittances(PullJob):
    """NetSuite's money → Remittance__c, upserted by the remittance key (syncs/money.py)."""

    transaction_type = money.PAYMENT
    transaction_types = money.MONEY_TYPES
    body_fields_only = False
    target_object = "Remittance__c"
    operation = "upsert"
    external_id_field = "NetSuite_Payment_Id__c"
    link = ("Remittance__c", "Remittance", "customerPayment")

    @property
    def netsuite_record_types(self):
        return (money.PAYMENT,)

    def refusal(self, job, mappings):
        refusal = super().refusal(job, mappings)
        if refusal:
            return refusal
        rule = MasterRule.objects.filter(record_type="Application").first()
        if rule is None or not rule.may_write(system="salesforce", fields=ROLLUP_FIELDS):
            return (f"The remittance roll-up fields {', '.join(ROLLUP_FIELDS)} are not NetSuite's to write on an "
                    "Application by the master rules. Refused before any remote call.")
        return ""

    # --- a page ---------------------------------------------------------------------------------------------------
    def plan_page(self, ctx: PullContext, records: list[dict], transaction_type: str) -> list[PlannedRecord]:
        books = LedgerBooks()
        sources = books_record(books, transaction_type, records)
        self._resolve_orders(ctx, books, sources)
        return self._plan_sources(ctx, books, sources)

    def after_pages(self, ctx: PullContext) -> list[PlannedRecord]:
        """NetSuite's deletions of money since the sweep's start: each deleted transaction's remittances go to 0."""
        netsuite = ctx.netsuite
        deletions = _read_through_request_faults(lambda: netsuite.deleted_since(
            list(money.MONEY_TYPES), ctx.start, hold=netsuite_budget().slot))
        books = LedgerBooks()
        sources = books_deleted(books, deletions)
        if not sources:
            return []
        self._resolve_orders(ctx, books, sources)
        return self._plan_sources(ctx, books, sources)

    def _resolve_orders(self, ctx: PullContext, books: LedgerBooks, sources: set[tuple[str, str]]) -> None:
        """Everything the sources' remittances depend on, in a few queries and one NetSuite request per 1000 new
        invoices."""
        books.load(sources)
        refund_targets = {key for record_type, internal_id in sources if record_type == money.REFUND
                          for key in money.refunded_lines(books.transaction(record_type, internal_id) or {})}
        books.load(refund_targets)
        records = [(t, books.transaction(t, i)) for t, i in sources | refund_targets]
        invoices = set().union(*[money.referenced_invoices(t, r) for t, r in records if r]) if records else set()
        unknown = sorted(books.load_invoices(invoices))
        for start in range(0, len(unknown), CREATED_FROM_BATCH):
            chunk = unknown[start:start + CREATED_FROM_BATCH]
            orders = _read_through_request_faults(lambda: ctx.netsuite.transactions_created_from(
                money.INVOICE, chunk, hold=netsuite_budget().slot))
            MoneyTransaction.objects.bulk_create(
                [MoneyTransaction(record_type=money.INVOICE, internal_id=i, created_from=str(orders.get(i) or ""))
                 for i in chunk], update_conflicts=True, unique_fields=["record_type", "internal_id"],
                update_fields=["created_from"])
            books.invoices.update({i: str(orders.get(i) or "") for i in chunk})
        orders = set(books.invoices.values())
        for _, record in records:
            if record:
                orders.add(str((record.get("salesOrder") or {}).get("internalId") or ""))
        books.load_applications(orders)

    def _plan_sources(self, ctx: PullContext, books: LedgerBooks, sources: set[tuple[str, str]]) -> list[PlannedRecord]:
        keys = sorted(key for key in sources if key[0] in money.REMITTANCE_SOURCES and books.row(*key) is not None)
        all_parts: list[tuple[MoneyTransaction, list[money.RemittancePart], dict]] = []
        for record_type, internal_id in keys:
            row = books.row(record_type, internal_id)
            parts = money.remittance_parts(books, record_type, internal_id, previous=row.parts)
            all_parts.append((row, parts, dict(row.parts)))
        customers = {part.customer_id for _, parts, _ in all_parts for part in parts}
        accounts = dict(RecordLink.objects.filter(record_type="Account", netsuite_internal_id__in=customers)
                        .values_list("netsuite_internal_id", "salesforce_id"))
        part_keys = [part.key for _, parts, _ in all_parts for part in parts]
        synced = dict(SyncAttempt.objects.filter(job=ctx.job, netsuite_internal_id__in=part_keys,
                                                 status=AttemptStatus.SUCCEEDED)
                      .order_by("id").values_list("netsuite_internal_id", "source_hash"))
        planned, changed_rows = [], []
        for row, parts, previous in all_parts:
            record = row.record or {}
            reviews = {change.part.key: finance.reversal_note(change, record) for change in money.part_changes(parts, previous)}
            reviews.update({part.key: finance.unapplied_note(part, record) for part in money.unapplied(parts)})
            for part in parts:
                item = self._planned(ctx, record, part, accounts, previous.get(part.key), reviews.get(part.key))
                if synced.get(item.netsuite_internal_id) != item.content_hash:
                    planned.append(item)
            state = {part.key: part.state() for part in parts}
            if state != row.parts:
                row.parts = state
                changed_rows.append(row)
        MoneyTransaction.objects.bulk_update(changed_rows, ["parts"])
        return planned

    def _planned(self, ctx, record: dict, part: money.RemittancePart, accounts: dict, before: dict | None,
                 review: dict | None) -> PlannedRecord:
        source = {**record, "internalId": part.key, "tranId": part.number, "payment": part.amount, "total": part.amount,
                  "status": part.status}
        mapped = map_record(ctx.mappings.rows, source, value_maps=ctx.mappings.value_maps)
        fields = {**mapped, "Application__c": part.application_id or None}
        fields.setdefault("Type__c", part.type_label)
        fields.setdefault("Original_Amount__c", part.original_amount)
        if part.currency:
            fields.setdefault("Currency__c", part.currency)
        if accounts.get(part.customer_id):
            fields["Account__c"] = accounts[part.customer_id]
        # The totals of the application it is on now, and of the one it was on, are recomputed after the writes.
        rollup = sorted({a for a in (part.application_id, (before or {}).get("application_id")) if a})
        body = {"object": self.target_object, "mode": "upsert", "external_id_field": self.external_id_field,
                "record": fields, "rollup": rollup}
        payload = {**body, "review": review} if review else body
        name = f"{money.NOUNS[part.source_type]} {part.number or part.source_id}"
        return PlannedRecord(netsuite_internal_id=part.key, netsuite_external_id=str(record.get("externalId") or ""),
                             record_name=name, payload=payload, content_hash=content_hash(body))

    # --- after the writes -----------------------------------------------------------------------------------------
    def after_sweep(self, run, writer):
        totals = rollup(run, writer)
        finance.reviews_file_from_run(run=run, totals=totals)


def books_record(books: LedgerBooks, record_type: str, records: list[dict]) -> set[tuple[str, str]]:
    """Keep a page's transactions in the books; returns the transactions whose remittances to plan again."""
    ids = [str(record["internalId"]) for record in records]
    books.load((record_type, i) for i in ids)
    sources: set[tuple[str, str]] = set()
    new_rows, changed = [], []
    refund_changes: list[tuple[str, dict, dict]] = []   # refund id, lines before, lines now
    for record in records:
        internal_id = str(record["internalId"])
        stored = _jsonable(record)
        digest = content_hash(stored)
        row = books.row(record_type, internal_id)
        if row is None:
            row = MoneyTransaction(record_type=record_type, internal_id=internal_id)
            books.rows[(record_type, internal_id)] = row
            new_rows.append(row)
        elif row.content_hash != digest:
            changed.append(row)
        if record_type == money.REFUND and row.content_hash != digest:
            refund_changes.append((internal_id, money.refunded_lines(row.record or {}), money.refunded_lines(stored)))
        row.record, row.content_hash, row.tran_id = stored, digest, str(record.get("tranId") or "")[:64]
        sources.add((record_type, internal_id))
    with transaction.atomic():
        MoneyTransaction.objects.bulk_create(new_rows)
        MoneyTransaction.objects.bulk_update(changed, ["record", "content_hash", "tran_id"])
        sources |= _refunds_apply(books, refund_changes)
    return sources


def books_deleted(books: LedgerBooks, deletions: list[dict]) -> set[tuple[str, str]]:
    """Mark the deleted transactions the books hold; returns those (and what a deleted refund refunded) to plan."""
    keys = {(str(d["type"]), str(d["internalId"])) for d in deletions}
    books.load(keys)
    moments = {(str(d["type"]), str(d["internalId"])): d.get("deletedDate") for d in deletions}
    newly = [books.row(*key) for key in keys if books.row(*key) is not None and books.row(*key).deleted_at is None]
    sources = set()
    refund_changes = []
    for row in newly:
        row.deleted_at = moments[(row.record_type, row.internal_id)] or timezone.now()
        sources.add((row.record_type, row.internal_id))
        if row.record_type == money.REFUND:
            refund_changes.append((row.internal_id, money.refunded_lines(row.record or {}), {}))
    with transaction.atomic():
        MoneyTransaction.objects.bulk_update(newly, ["deleted_at"])
        sources |= _refunds_apply(books, refund_changes)
    return sources


def _refunds_apply(books: LedgerBooks, changes: list[tuple[str, dict, dict]]) -> set[tuple[str, str]]:
    """What each refund refunds, kept on the refunded transactions (a refund deleted refunds nothing)."""
    targets = {key for _, before, now in changes for key in [*before, *now]}
    if not targets:
        return set()
    books.load(targets)
    placeholders, touched = [], {}
    for refund_id, before, now in changes:
        for key in set(before) | set(now):
            row = books.row(*key)
            if row is None:
                # Refunded before the hub read it (a backfill from a later date): it counts once it is read.
                row = MoneyTransaction(record_type=key[0], internal_id=key[1])
                books.rows[key] = row
                placeholders.append(row)
            refunds = dict(row.refunds)
            if key in now:
                refunds[refund_id] = now[key]
            else:
                refunds.pop(refund_id, None)
            row.refunds = refunds
            touched[key] = row
    MoneyTransaction.objects.bulk_create(placeholders)
    MoneyTransaction.objects.bulk_update([row for row in touched.values() if row not in placeholders], ["refunds"])
    return set(touched)


def rollup(run: SyncRun, writer: SalesforceBatchWriter) -> dict[str, dict]:
    """Total remitted, total credited and balance on each application whose remittances this run wrote, computed
    from the Remittance__c records in Salesforce, so the figures are right whatever was synced before. Returns each
    application's name and totals before and after."""
    # The distinct application ids only, read by the database: every attempt of a large run, payloads and all,
    # held more memory than the rest of the run together.
    written = (SyncAttempt.objects.filter(run=run, status=AttemptStatus.SUCCEEDED).exclude(operation="rollup")
               .order_by().values_list("request_payload__rollup", flat=True).distinct())
    applications = sorted({a for value in written if value for a in ([value] if isinstance(value, str) else value)})
    if not applications:
        return {}
    salesforce = writer.salesforce
    planned, totals = [], {}
    for start in range(0, len(applications), 200):
        chunk = applications[start:start + 200]
        remitted = {app: 0.0 for app in chunk}
        credited = {app: 0.0 for app in chunk}
        for remittance in salesforce.query_all(soql_format(
                "SELECT Application__c, Amount__c, Type__c FROM Remittance__c WHERE Application__c IN {ids}", ids=chunk)):
            bucket = credited if remittance.get("Type__c") in money.CREDIT_TYPES else remitted
            bucket[remittance["Application__c"]] += remittance["Amount__c"] or 0.0
        for application in salesforce.query_all(soql_format(
                "SELECT Id, Name, Payback_Amount__c, Total_Remitted__c, Total_Credited__c, Remittance_Balance__c "
                "FROM Opportunity WHERE Id IN {ids}", ids=chunk)):
            app = application["Id"]
            record = {"Id": app, "Total_Remitted__c": round(remitted[app], 2), "Total_Credited__c": round(credited[app], 2)}
            payback = application.get("Payback_Amount__c")
            if payback is not None:
                record["Remittance_Balance__c"] = round(payback - remitted[app] - credited[app], 2)
            totals[app] = {"name": application.get("Name") or app,
                           "remitted_before": application.get("Total_Remitted__c") or 0.0,
                           "remitted": record["Total_Remitted__c"], "credited": record["Total_Credited__c"],
                           "balance_before": application.get("Remittance_Balance__c"),
                           "balance": record.get("Remittance_Balance__c")}
            payload = {"object": "Opportunity", "mode": "update", "record": record}
            planned.append(PlannedRecord(salesforce_id=app, record_name="remittance roll-up", payload=payload,
                                         content_hash=content_hash(payload)))
    attempts_plan(run=run, planned=planned, operation="rollup")
    with BatchSender(job=run.job, run=run, send_batch=writer, threads=1, batch_size=200):
        pass
    return totals
