"""The record types the sandbox keeps, and NetSuite's rules for writing them.

Writes arrive as decoded bodies (see schema.Codec). This module merges them into what is stored,
resolves references, applies line semantics (replaceAll and line numbers), fills what NetSuite
computes (internal ids, tranId, totals, statuses, dates) and refuses what NetSuite refuses, with a
per-record code: INVALID_KEY_OR_REF, USER_ERROR, DUP_RCRD, RCRD_DSNT_EXIST.
Each record family's rules sit beside the others' so they can be compared: longer than most modules.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from . import accounting, chart, custom_fields
from .envelope import ACCOUNTING_NS, CUSTOMERS_NS, GENERAL_NS, PURCHASES_NS, RELATIONSHIPS_NS, SALES_NS
from .money_records import MoneyRules
from .store import FIRST_TRAN_NUMBER, Store, StoredRecord


@dataclass(frozen=True)
class RecordKind:
    type: str  # as in RecordRef/@type
    xsd_type: str
    family: str
    label: str
    search_type: str | None = None  # TransactionSearchBasic/type value
    tran_prefix: str | None = None


KINDS = {
    kind.type: kind
    for kind in (
        RecordKind("customer", f"{{{RELATIONSHIPS_NS}}}Customer", "entities", "Customer"),
        RecordKind("contact", f"{{{RELATIONSHIPS_NS}}}Contact", "entities", "Contact"),
        RecordKind("vendor", f"{{{RELATIONSHIPS_NS}}}Vendor", "entities", "Vendor"),
        RecordKind("salesOrder", f"{{{SALES_NS}}}SalesOrder", "transactions", "Sales Order", "_salesOrder", "SO"),
        RecordKind("purchaseOrder", f"{{{PURCHASES_NS}}}PurchaseOrder", "transactions", "Purchase Order",
                   "_purchaseOrder", "PO"),
        RecordKind("customerPayment", f"{{{CUSTOMERS_NS}}}CustomerPayment", "transactions", "Payment",
                   "_customerPayment", "PYMT"),
        # The money records (accounting.py, money_records.py).
        RecordKind("invoice", f"{{{SALES_NS}}}Invoice", "transactions", "Invoice", "_invoice", "INV"),
        RecordKind("customerDeposit", f"{{{CUSTOMERS_NS}}}CustomerDeposit", "transactions", "Customer Deposit",
                   "_customerDeposit", "DEP"),
        RecordKind("depositApplication", f"{{{CUSTOMERS_NS}}}DepositApplication", "transactions",
                   "Deposit Application", "_depositApplication", "DEPAPPL"),
        RecordKind("creditMemo", f"{{{CUSTOMERS_NS}}}CreditMemo", "transactions", "Credit Memo", "_creditMemo", "CM"),
        RecordKind("customerRefund", f"{{{CUSTOMERS_NS}}}CustomerRefund", "transactions", "Customer Refund",
                   "_customerRefund", "RFND"),
        RecordKind("journalEntry", f"{{{GENERAL_NS}}}JournalEntry", "transactions", "Journal", "_journal", "JE"),
        RecordKind("serviceSaleItem", f"{{{ACCOUNTING_NS}}}ServiceSaleItem", "items", "Service Item"),
        RecordKind("servicePurchaseItem", f"{{{ACCOUNTING_NS}}}ServicePurchaseItem", "items", "Service Item"),
    )
}
# The account's lists and customization records: subsidiaries, currencies (chart.py), custom field definitions
# (custom_fields.py).
KINDS.update({type_: RecordKind(type_, xsd_type, family, label)
              for type_, xsd_type, family, label in chart.LIST_KINDS + custom_fields.CUSTOMIZATION_KINDS})
BY_XSD_TYPE = {kind.xsd_type: kind for kind in KINDS.values()}
BY_SEARCH_TYPE = {kind.search_type: kind for kind in KINDS.values() if kind.search_type}
SALE_ITEM_TYPES = ("serviceSaleItem",)
PURCHASE_ITEM_TYPES = ("servicePurchaseItem",)

# Fields NetSuite sets itself; a client's value is ignored (as with ignoreReadOnlyFields=true).
READ_ONLY = {"internalId", "lastModifiedDate", "dateCreated", "createdDate", "total", "subTotal", "applied",
             "unapplied", "balance"}

SUBSIDIARY = {"internalId": "1", "name": "Parent Company"}
CURRENCY = {"internalId": "1", "name": "USD"}

ITEMS = [
    ("serviceSaleItem", 101, "FEE-ORIG", "Origination Fee"),
    ("serviceSaleItem", 102, "FEE-UW", "Underwriting Fee"),
    ("serviceSaleItem", 103, "FEE-ACH", "ACH Program Fee"),
    ("serviceSaleItem", 104, "FEE-WIRE", "Wire Fee"),
    ("servicePurchaseItem", 201, "BROKER-COMMISSION", "Broker Commission"),
]

SALES_ORDER_STATUS = {
    "_pendingApproval": "Pending Approval",
    "_pendingFulfillment": "Pending Fulfillment",
    "_cancelled": "Cancelled",
    "_partiallyFulfilled": "Partially Fulfilled",
    "_pendingBillingPartFulfilled": "Pending Billing/Partially Fulfilled",
    "_pendingBilling": "Pending Billing",
    "_fullyBilled": "Billed",
    "_closed": "Closed",
    "_undefined": "Undefined",
}
PURCHASE_ORDER_STATUS = {
    "_pendingSupervisorApproval": "Pending Supervisor Approval",
    "_pendingReceipt": "Pending Receipt",
    "_rejectedBySupervisor": "Rejected by Supervisor",
    "_partiallyReceived": "Partially Received",
    "_pendingBillingPartiallyReceived": "Pending Billing/Partially Received",
    "_pendingBilling": "Pending Bill",
    "_fullyBilled": "Fully Billed",
    "_closed": "Closed",
}
APPROVAL_STATUS = {"1": "Pending Approval", "2": "Approved", "3": "Rejected"}
OPEN_SALES_ORDER_STATUSES = ("_pendingApproval", "_pendingFulfillment", "_partiallyFulfilled",
                             "_pendingBillingPartFulfilled", "_pendingBilling")


WriteError = accounting.WriteError


def now_ms() -> int:
    # NetSuite keeps lastModifiedDate to the second (it always answers .000), which is what makes
    # ties on one timestamp a real watermark hazard; the sandbox keeps that precision.
    return int(time.time()) * 1000


def money(value: float) -> str:
    return repr(round(float(value), 2))


def number(text, default: float = 0.0) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return default


def entity_name(kind_type: str, body: dict) -> str:
    if kind_type in ("customer", "vendor"):
        if body.get("isPerson") == "true" or not body.get("companyName"):
            return " ".join(p for p in (body.get("firstName"), body.get("lastName")) if p) or body.get("entityId", "")
        return body["companyName"]
    if kind_type == "contact":
        return " ".join(p for p in (body.get("firstName"), body.get("lastName")) if p)
    if kind_type in ("serviceSaleItem", "servicePurchaseItem"):
        return body.get("itemId", "")
    return f"{KINDS[kind_type].label} #{body.get('tranId', '')}"


def ref_to(record: StoredRecord) -> dict:
    return {"internalId": str(record.internal_id), "name": entity_name(record.type, record.body)}


def seed_items(store: Store) -> None:
    """The service items the hub's value mappings point at; ids are fixed so mappings can be too."""
    with store.write() as connection:
        for item_type, internal_id, item_id, display_name in ITEMS:
            if Store.get(connection, "items", internal_id):
                continue
            stamp = now_ms()
            body = {"internalId": str(internal_id), "itemId": item_id, "displayName": display_name,
                    "isInactive": "false", "subsidiaryList": {"recordRef": [SUBSIDIARY]},
                    "createdDate": stamp, "lastModifiedDate": stamp}
            if item_type == "serviceSaleItem":
                body["salesDescription"] = display_name
            else:
                body["purchaseDescription"] = display_name
            Store.save(connection, "items", StoredRecord(internal_id, item_type, None, stamp, stamp, None, None, body))
    chart.seed_chart(store)
    custom_fields.seed_definitions(store)


class Writer(MoneyRules):
    """Applies one record write inside the caller's transaction."""

    def __init__(self, connection, zone: ZoneInfo | None = None, *, booking_reversal: bool = False):
        self.connection = connection
        # The account's zone, in which a custom date field written as text (over REST) is read.
        self.zone = zone or ZoneInfo("America/Los_Angeles")
        self._custom_fields = None
        # Set while a void books its reversing journal: the only journal entries the sandbox writes.
        self.booking_reversal = booking_reversal

    # -- lookups -----------------------------------------------------------------------------------
    def find(self, kind: RecordKind, internal_id: str | None, external_id: str | None) -> StoredRecord | None:
        if internal_id:
            try:
                record = Store.get(self.connection, kind.family, int(internal_id))
            except ValueError:
                return None
            return record if record and record.type == kind.type else None
        if external_id:
            return Store.get_by_external_id(self.connection, kind.family, kind.type, external_id)
        return None

    def resolve(self, field: str, ref, allowed: tuple[str, ...]) -> StoredRecord:
        if not isinstance(ref, dict):
            raise WriteError("INVALID_KEY_OR_REF", f"Invalid {field} reference.")
        wanted = ref.get("type")
        candidates = [wanted] if wanted in allowed else ([] if wanted else list(allowed))
        key = ref.get("internalId") or ref.get("externalId")
        for candidate in candidates:
            record = self.find(KINDS[candidate], ref.get("internalId"), ref.get("externalId"))
            if record:
                return record
        raise WriteError("INVALID_KEY_OR_REF", f"Invalid {field} reference key {key}.")

    # -- the write ---------------------------------------------------------------------------------
    def write(self, operation: str, kind: RecordKind, incoming: dict) -> StoredRecord:
        internal_id, external_id = incoming.get("internalId"), incoming.get("externalId")
        if operation == "upsert":
            if not external_id:
                raise WriteError("USER_ERROR", "An externalId is required to upsert a record.")
            existing = self.find(kind, None, external_id)
        elif operation == "update":
            if not internal_id and not external_id:
                raise WriteError("USER_ERROR", "You must specify an internalId or externalId to update a record.")
            existing = self.find(kind, internal_id, external_id)
            if existing is None:
                raise WriteError("RCRD_DSNT_EXIST", "That record does not exist.")
        else:
            existing = None
            if external_id and self.find(kind, None, external_id):
                raise WriteError("DUP_RCRD", f"A {kind.label} record with externalId {external_id} already exists.")
        if kind.family not in ("entities", "transactions") and existing is None:
            raise WriteError("INSUFFICIENT_PERMISSION", f"The sandbox keeps a fixed list of {kind.label} records; it "
                             "cannot create them (custom fields are declared with POST /_sandbox/custom-fields).")

        body = copy.deepcopy(existing.body) if existing else {}
        for key, value in incoming.items():
            if key in READ_ONLY or key.startswith("_"):
                continue
            if key == "nullFieldList":
                for name in value.get("name", []):
                    body.pop(name, None)
            elif key == "customFieldList":
                body[key] = _merge_custom_fields(body.get(key), value)
            elif key in LINE_LISTS:
                body[key] = _merge_lines(body.get(key), value, *LINE_LISTS[key])
            else:
                body[key] = value
        if external_id and existing and external_id != existing.external_id:
            if self.find(kind, None, external_id):
                raise WriteError("DUP_RCRD", f"A {kind.label} record with externalId {external_id} already exists.")

        booked_before = accounting.consumption(kind.type, existing.body) if existing else {}
        try:
            parent_id = getattr(self, f"_complete_{kind.type}", self._complete_list)(body, existing)
            if kind.family in ("entities", "transactions"):
                if self._custom_fields is None:
                    self._custom_fields = custom_fields.definitions(self.connection)
                custom_fields.apply(self._custom_fields, kind.type, kind.label, body, self.zone)
        except (chart.ChartError, custom_fields.CustomFieldError) as error:
            raise WriteError(error.code, error.message) from None
        stamp = now_ms()
        if existing:
            record = existing
            record.body = body
            record.parent_id = parent_id
        else:
            new_id = Store.next_internal_id(self.connection, kind.family)
            record = StoredRecord(new_id, kind.type, None, stamp, stamp, None, parent_id, body)
            body["createdDate" if kind.family == "transactions" else "dateCreated"] = stamp
            if kind.tran_prefix and not body.get("tranId"):
                number_ = Store.next_value(self.connection, f"tran_{kind.type}", FIRST_TRAN_NUMBER)
                body["tranId"] = f"{kind.tran_prefix}{number_}"
        record.external_id = external_id or (existing.external_id if existing else None)
        record.tran_id = body.get("tranId")
        record.last_modified_ms = stamp
        body["internalId"] = str(record.internal_id)
        if record.external_id:
            body["externalId"] = record.external_id
        body["lastModifiedDate"] = stamp
        for line_number, line in enumerate((body.get("itemList") or {}).get("item") or [], start=1):
            line.setdefault("line", str(line_number))
        Store.save(self.connection, kind.family, record)
        if kind.type in accounting.MONEY_TYPES:
            accounting.rebook(self.connection, booked_before, accounting.consumption(kind.type, body), stamp)
        return record

    # -- per type ----------------------------------------------------------------------------------
    def _entity_defaults(self, body: dict, kind_type: str, existing=None) -> None:
        if body.get("isPerson") == "true":
            missing = [name for name in ("firstName", "lastName") if not body.get(name)]
        else:
            missing = [] if body.get("companyName") else ["companyName"]
        if missing:
            raise WriteError("USER_ERROR", "Please enter value(s) for: " + ", ".join(missing))
        body.setdefault("entityId", entity_name(kind_type, body))
        # Subsidiary and currencies as a OneWorld account has them (chart.py).
        chart.entity_rules(body, existing, lambda: self._has_transactions(existing),
                           list_key="vendorCurrency" if kind_type == "vendor" else "currency")

    def _has_transactions(self, entity) -> bool:
        return entity is not None and self.connection.execute(
            "SELECT 1 FROM transactions WHERE parent_id = ? LIMIT 1", (entity.internal_id,)).fetchone() is not None

    def _subsidiary(self, body: dict, entity: StoredRecord | None = None) -> None:
        """The record's subsidiary: one the account has, and on a transaction its entity's (chart.py)."""
        if entity is not None:
            chart.transaction_rules(body, entity)
        elif body.get("subsidiary") is None:
            body["subsidiary"] = chart.subsidiary_ref(chart.PARENT)
        else:
            body["subsidiary"] = chart.known_subsidiary(body["subsidiary"])

    def _currency(self, body: dict, entity: StoredRecord | None = None) -> dict:
        """The record's currency: one the account has; on a transaction one its entity may use (set by _subsidiary
        with that entity)."""
        if entity is not None:
            return body["currency"]
        if body.get("currency") is None:
            return dict(CURRENCY)
        return chart.known_currency(body["currency"])

    def _complete_customer(self, body: dict, existing) -> None:
        self._entity_defaults(body, "customer", existing)
        return None

    def _complete_vendor(self, body: dict, existing) -> None:
        self._entity_defaults(body, "vendor", existing)
        return None

    def _complete_list(self, body: dict, existing) -> None:
        return None

    def _complete_contact(self, body: dict, existing) -> int | None:
        if not body.get("lastName"):
            raise WriteError("USER_ERROR", "Please enter value(s) for: lastName")
        self._subsidiary(body)
        parent = None
        if body.get("company") is not None:
            company = self.resolve("company", body["company"], ("customer", "vendor"))
            body["company"] = ref_to(company)
            parent = company.internal_id
        body.setdefault("entityId", entity_name("contact", body))
        return parent

    def _lines(self, body: dict, allowed_items: tuple[str, ...], required: bool) -> float:
        lines = (body.get("itemList") or {}).get("item") or []
        if required and not lines:
            raise WriteError("USER_ERROR", "You must enter at least one line item for this transaction.")
        total = 0.0
        for position, line in enumerate(lines, start=1):
            if line.get("item") is None:
                raise WriteError("USER_ERROR", f"Please enter value(s) for: item (line {position})")
            item = self.resolve("item", line["item"], allowed_items)
            line["item"] = ref_to(item)
            line.setdefault("description", item.body.get("salesDescription") or item.body.get("purchaseDescription")
                            or item.body.get("displayName"))
            quantity = number(line.get("quantity"), 1.0)
            line["quantity"] = repr(quantity)
            if line.get("rate") is not None and line.get("amount") is None:
                line["amount"] = money(quantity * number(line["rate"]))
            elif line.get("amount") is not None and line.get("rate") is None:
                line["rate"] = f"{number(line['amount']) / quantity:.2f}" if quantity else "0.00"
            elif line.get("amount") is None:
                raise WriteError("USER_ERROR", f"Please enter value(s) for: amount (line {position})")
            if line.get("customer") is not None:
                line["customer"] = ref_to(self.resolve("customer", line["customer"], ("customer",)))
            total += number(line["amount"])
        if lines:
            body["itemList"] = {"item": lines}
        return total

    def _complete_salesOrder(self, body: dict, existing) -> int:
        if body.get("entity") is None:
            raise WriteError("USER_ERROR", "Please enter value(s) for: entity")
        entity = self.resolve("entity", body["entity"], ("customer",))
        body["entity"] = ref_to(entity)
        self._subsidiary(body, entity)
        body["currency"] = self._currency(body, entity)
        total = self._lines(body, SALE_ITEM_TYPES, required=True)
        body["subTotal"] = money(total)
        body["total"] = money(total)
        body.setdefault("orderStatus", "_pendingFulfillment")
        if existing is None or body.get("orderStatus") != existing.body.get("orderStatus") or "status" not in body:
            body["status"] = SALES_ORDER_STATUS.get(body["orderStatus"], body.get("status", ""))
        body.setdefault("tranDate", now_ms())
        body.setdefault("_paid", "0.0")
        return entity.internal_id

    def _complete_purchaseOrder(self, body: dict, existing) -> int:
        if body.get("entity") is None:
            raise WriteError("USER_ERROR", "Please enter value(s) for: entity")
        entity = self.resolve("entity", body["entity"], ("vendor",))
        body["entity"] = ref_to(entity)
        self._subsidiary(body, entity)
        body["currency"] = self._currency(body, entity)
        has_expenses = bool((body.get("expenseList") or {}).get("expense"))
        total = self._lines(body, PURCHASE_ITEM_TYPES, required=not has_expenses)
        total += sum(number(e.get("amount")) for e in (body.get("expenseList") or {}).get("expense") or [])
        body["subTotal"] = money(total)
        body["total"] = money(total)
        approval = (body.get("approvalStatus") or {}).get("internalId") or "2"
        if approval not in APPROVAL_STATUS:
            raise WriteError("INVALID_KEY_OR_REF", f"Invalid approvalStatus reference key {approval}.")
        body["approvalStatus"] = {"internalId": approval, "name": APPROVAL_STATUS[approval]}
        default_status = "_pendingReceipt" if approval == "2" else "_pendingSupervisorApproval"
        body.setdefault("orderStatus", default_status)
        if existing is None or body.get("orderStatus") != existing.body.get("orderStatus") or "status" not in body:
            body["status"] = PURCHASE_ORDER_STATUS.get(body["orderStatus"], body.get("status", ""))
        body.setdefault("tranDate", now_ms())
        return entity.internal_id

    def _complete_serviceSaleItem(self, body: dict, existing) -> None:
        return None

    _complete_servicePurchaseItem = _complete_serviceSaleItem


def _merge_custom_fields(current: dict | None, incoming: dict) -> dict:
    fields = {f.get("scriptId") or f.get("internalId"): f for f in (current or {}).get("customField", [])}
    for field in incoming.get("customField", []):
        fields[field.get("scriptId") or field.get("internalId")] = field
    return {"customField": list(fields.values())}


# Sublists and the key their lines are matched by on an update with replaceAll=false.
LINE_LISTS = {"itemList": ("line", "item"), "applyList": ("doc", "apply"), "depositList": ("doc", "customerRefundDeposit"),
              "creditList": ("doc", "credit"), "lineList": ("line", "line")}


def _merge_lines(current: dict | None, incoming: dict, key: str, list_name: str = "item") -> dict:
    """NetSuite's sublist rules: replaceAll (the default) swaps every line; replaceAll=false updates
    the lines whose key matches and appends the rest."""
    new_lines = [dict(line) for line in incoming.get(list_name, [])]
    if incoming.get("replaceAll", "true") in ("true", "1") or not current:
        for number_, line in enumerate(new_lines, start=1):
            if key == "line":
                line["line"] = str(number_)
        return {list_name: new_lines}
    lines = [dict(line) for line in current.get(list_name, [])]
    by_key = {str(line.get(key)): line for line in lines}
    next_line = max((int(line.get("line", 0)) for line in lines), default=0) + 1
    for line in new_lines:
        match = by_key.get(str(line.get(key))) if line.get(key) is not None else None
        if match is not None:
            if key == "line" and ("quantity" in line or "rate" in line) and "amount" not in line:
                match.pop("amount", None)  # NetSuite recomputes the amount from the new quantity or rate
            match.update(line)
        elif key == "line" and line.get("line") is not None:
            raise WriteError("USER_ERROR", f"Line {line['line']} does not exist on this transaction.")
        else:
            if key == "line":
                line["line"] = str(next_line)
                next_line += 1
            lines.append(line)
    return {list_name: lines}
