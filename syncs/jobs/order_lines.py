"""The lines jobs: keep an existing order's lines in step with Salesforce.

The whole line list is sent with replaceAll, so a changed fee replaces its line and a removed fee leaves no orphan.
An order the hub has never tried gets its lines when it is created, so it is skipped here. An order whose try is
still on its way (or failed) carries the lines read when it was planned: the lines read now are planned too, held
back until that order is in NetSuite, so a fee changed meanwhile is not lost.
"""
from __future__ import annotations

from ..attempts import PlannedRecord
from ..clients.salesforce import soql_format
from ..engine import content_hash, links_for, parse_salesforce_datetime
from ..models import AttemptStatus, RecordLink, SyncAttempt
from .pushes import IDS_PER_QUERY, PushContext, PushJob, PushPurchaseOrders, changed_since, select_list
from .registry import job_spec


class OrderLines(PushJob):
    order_job = ""  # the job that writes the order itself (whose lines this one keeps in step)
    plans_from_links = True

    @property
    def order_spec(self) -> PushJob:
        return job_spec(self.order_job)

    def after_read(self, ctx, salesforce, since):
        """The order's own push tells finance of an application that lost its funded stage; its lines job doesn't."""

    def before_plan(self, ctx, records, links):
        unlinked = [record["Id"] for record in records if record["Id"] not in links or not links[record["Id"]].netsuite_internal_id]
        ctx.orders_unlinked = _orders_tried_unlinked(self.order_job, unlinked)

    def plan(self, ctx, record, links):
        link = links.get(record["Id"])
        parent = None
        if link is not None and link.netsuite_internal_id:
            external_id, known_hash = link.netsuite_external_id, link.detail_hash
        elif record["Id"] in ctx.orders_unlinked:
            # Compared with the lines that order's try carries: only different lines need a write of their own.
            external_id, known_hash = ctx.orders_unlinked[record["Id"]]
            parent = {"record_type": self.record_type, "salesforce_id": record["Id"], "field": "itemList",
                      "job": self.order_job}
        else:
            return None
        order_spec = self.order_spec
        lines = order_spec.lines(ctx, record)
        detail_hash = content_hash(lines)
        if known_hash == detail_hash:
            return None
        return PlannedRecord(
            salesforce_id=record["Id"], netsuite_external_id=external_id, record_name=self.name_of(record),
            content_hash=detail_hash, waiting_on=record["Id"] if parent else "",
            payload={"record": {"type": self.netsuite_type, "externalId": external_id,
                                "fields": {"itemList": {"replaceAll": True, "item": lines}}},
                     "parent": parent, "link": {"record_type": self.record_type, "detail_hash": detail_hash,
                                                "lines_modstamp": order_spec.lines_modstamp(record)}},
        )


class PushSalesOrderLines(OrderLines):
    """Reads changed fee line items (deleted ones too) and re-sends the lines of their funded applications."""

    source_object = "OpportunityLineItem"
    line_object = "OpportunityLineItem"
    netsuite_type = "salesOrder"
    include_deleted = True

    def read_query(self, ctx):
        fields = select_list(["Id", "SystemModstamp", "OpportunityId", "IsDeleted"])
        return changed_since(ctx.job, fields, self.source_object, "", {})

    def records_of_page(self, ctx, salesforce, page):
        # One read of the orders' links serves both the line items and the applications they belong to.
        links = links_for(self.record_type, {item["OpportunityId"] for item in page if item.get("OpportunityId")})
        return self._applications_of_lines(ctx, salesforce, _lines_not_yet_synced(page, links)), links

    def unchanged_count(self, page, planned):
        return 0   # a page of line items stands for fewer applications: nothing to count as unchanged

    def read_by_ids(self, ctx, salesforce, ids):
        return self._applications_of_lines(ctx, salesforce, [{"OpportunityId": i} for i in ids])

    @property
    def notified_by(self):
        # A funded application's own message, and a fee line item's (a changed fee).
        return (self.order_spec.source_object, self.source_object)

    def notified_records(self, ctx, salesforce, object_type, ids):
        if object_type != self.source_object:
            return self.read_by_ids(ctx, salesforce, ids)
        # A deleted line changes its order's lines too, so deleted line items are read as well.
        line_items = []
        for start in range(0, len(ids), IDS_PER_QUERY):
            line_items += salesforce.query_all(soql_format(
                "SELECT Id, OpportunityId FROM OpportunityLineItem WHERE Id IN {ids}", ids=ids[start:start + IDS_PER_QUERY]),
                include_deleted=True)
        return self._applications_of_lines(ctx, salesforce, line_items)

    def latest_query(self, ctx):
        # The lines job reads changed line items but sends whole orders: it is previewed from its application.
        order_spec = self.order_spec
        condition, values = order_spec.where(ctx)
        return f"SELECT Id FROM {order_spec.source_object} WHERE {condition} ORDER BY SystemModstamp DESC LIMIT 1", values

    def _applications_of_lines(self, ctx: PushContext, salesforce, line_items: list[dict]) -> list[dict]:
        """The funded applications (with all their current lines) whose line items changed."""
        ids = sorted({item["OpportunityId"] for item in line_items if item.get("OpportunityId")})
        if not ids:
            return []
        order_spec = self.order_spec
        condition, values = order_spec.where(ctx)
        fields = select_list(["Id", "SystemModstamp", *order_spec.extra_fields])
        soql = (f"SELECT {fields}, {order_spec.child_query(ctx)} FROM {order_spec.source_object} "
                f"WHERE Id IN {{ids}} AND {condition}")
        # A page of 2,000 line items can name over a thousand applications: one IN list would pass the request-URI
        # limit, so ask a few hundred at a time.
        applications = []
        for start in range(0, len(ids), IDS_PER_QUERY):
            applications += salesforce.query_all(soql_format(soql, ids=ids[start:start + IDS_PER_QUERY], **values))
        return applications


class PushPurchaseOrderLines(OrderLines, PushPurchaseOrders):
    source_object = "Opportunity"
    netsuite_type = "purchaseOrder"


def _orders_tried_unlinked(order_job: str, application_ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """Of these applications, those whose order has an open or failed try: application id → (the order's external id,
    the hash of the lines that try carries)."""
    if not application_ids:
        return {}
    tries = SyncAttempt.objects.filter(
        job__name=order_job, salesforce_id__in=application_ids, superseded=False,
        status__in=[AttemptStatus.PENDING, AttemptStatus.RUNNING, AttemptStatus.FAILED, AttemptStatus.DEAD],
    ).exclude(netsuite_external_id="")
    return {salesforce_id: (external_id, ((payload or {}).get("link") or {}).get("detail_hash"))
            for salesforce_id, external_id, payload in tries.values_list("salesforce_id", "netsuite_external_id", "request_payload")}


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
