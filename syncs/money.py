"""How a remittance follows the money as NetSuite books it: pure rules, no I/O.

A customer payment is applied to invoices; an invoice was billed from a sales order (`createdFrom`); the order's
external id is its application. So each payment becomes one remittance per application it pays (split by the
amounts applied), and what it does not pay on an application the hub knows (unapplied, or an invoice of no known
order) stays on the merchant's Account, never on an application by a guess. A customer deposit is money received
for a sales order before billing: it belongs to that order's application. Its deposit application, which later
applies it to the invoice, moves no new money and counts nothing. A credit memo reduces what is owed without being
money received: a remittance of type Credit Memo, summed apart (Total_Credited__c). A customer refund gives money
back: what it refunds of a payment or a deposit lowers that remittance; what it refunds of a credit memo is a
remittance of its own, negative, of type Refund.

Money that comes back never deletes a remittance: a voided or deleted transaction's remittances read 0 with the
status saying why, a refunded one reads what is left, and `Original_Amount__c` keeps what NetSuite first booked.

Remittance keys (`Remittance__c.NetSuite_Payment_Id__c`, the upsert's external id). Transaction internal ids are
unique across the transactions group, so a transaction's id is a safe key:
- `<id>`: the transaction's remittance on the application of its first applied invoice, or on the Account when it
  pays no known application (today's records keep their keys);
- `<id>-<sales order id>`: its part on each further application it pays;
- `<id>-U`: its unapplied rest, on the Account, when part of it is applied to an application.
A key the transaction no longer carries (re-applied elsewhere, or zeroed by a direct void) keeps its record, at 0.

`Books` answers the questions the rules ask; the pull answers them from what it has read (syncs/jobs/remittances.py)
and the reconciliation from what it reads of NetSuite now (syncs/reconcile_amounts.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Protocol

PAYMENT = "customerPayment"
DEPOSIT = "customerDeposit"
DEPOSIT_APPLICATION = "depositApplication"
CREDIT_MEMO = "creditMemo"
REFUND = "customerRefund"
INVOICE = "invoice"
SALES_ORDER = "salesOrder"
# The sweep's order: what a refund refunds is read before the refund.
MONEY_TYPES = (PAYMENT, DEPOSIT, DEPOSIT_APPLICATION, CREDIT_MEMO, REFUND)
# The transactions that are remittances of their own (a deposit application only moves a deposit).
REMITTANCE_SOURCES = (PAYMENT, DEPOSIT, CREDIT_MEMO, REFUND)
TYPE_LABELS = {PAYMENT: "Payment", DEPOSIT: "Deposit", CREDIT_MEMO: "Credit Memo", REFUND: "Refund"}
NOUNS = {PAYMENT: "Payment", DEPOSIT: "Deposit", CREDIT_MEMO: "Credit memo", REFUND: "Refund"}
# Remittance types that are credits (what is owed goes down) rather than money received.
CREDIT_TYPES = ("Credit Memo",)
UNAPPLIED_SUFFIX = "-U"
DELETED = "Deleted in NetSuite"
VOIDED = "Voided"
REFUNDED = "Refunded"
PART_REFUNDED = "Partly refunded"
REAPPLIED = "Re-applied in NetSuite"


class Books(Protocol):
    def transaction(self, record_type: str, internal_id: str) -> dict | None:
        """The transaction as last read (None if never read)."""

    def deleted(self, record_type: str, internal_id: str) -> bool:
        """NetSuite deleted it."""

    def refunds_of(self, record_type: str, internal_id: str) -> dict[str, float]:
        """Refund internal id → amount it refunds of this payment, deposit or credit memo (live refunds only)."""

    def invoice_order(self, invoice_id: str) -> str:
        """The sales order an invoice was billed from ('' if unknown)."""

    def order_application(self, order_id: str) -> str:
        """The Salesforce application a sales order was created from ('' if none)."""


@dataclass
class RemittancePart:
    key: str
    source_type: str
    source_id: str
    number: str
    application_id: str     # the Salesforce application, '' when on the Account only
    customer_id: str        # the NetSuite customer (its Account)
    amount: float           # what counts now
    original_amount: float  # what NetSuite first booked
    status: str
    order_id: str = ""
    currency: str = ""

    @property
    def type_label(self) -> str:
        return TYPE_LABELS[self.source_type]

    @property
    def on_account_only(self) -> bool:
        return not self.application_id

    def state(self) -> dict:
        """What the hub keeps of a part to compare the next one with."""
        return {k: v for k, v in asdict(self).items() if k in ("application_id", "amount", "original_amount", "status",
                                                                "order_id", "customer_id", "number")}


def money(value) -> float:
    return round(float(value or 0), 2)


def applied_lines(record: dict) -> list[dict]:
    return [line for line in ((record.get("applyList") or {}).get("apply") or []) if line.get("apply", True)]


def referenced_invoices(record_type: str, record: dict) -> set[str]:
    """The invoices whose sales orders planning this transaction needs."""
    invoices = {str(line["doc"]) for line in applied_lines(record) if line.get("type", INVOICE) == INVOICE and line.get("doc")}
    created_from = record.get("createdFrom") or {}
    if record_type == CREDIT_MEMO and created_from.get("internalId") and created_from.get("type", INVOICE) == INVOICE:
        invoices.add(str(created_from["internalId"]))
    return invoices if record_type in (PAYMENT, CREDIT_MEMO, DEPOSIT_APPLICATION) else set()


def refunded_lines(record: dict) -> dict[tuple[str, str], float]:
    """(record type, internal id) → amount, of what a customer refund refunds. A voided refund refunds nothing (a
    direct void zeroes its lines; a void by reversing journal keeps them, and the journal gives the money back)."""
    refunded: dict[tuple[str, str], float] = {}
    if record.get("voided"):
        return refunded
    for line in applied_lines(record):
        if line.get("doc") and line.get("type") in (PAYMENT, DEPOSIT, CREDIT_MEMO):
            key = (line["type"], str(line["doc"]))
            refunded[key] = money(refunded.get(key, 0) + money(line.get("amount")))
    return refunded


def _order_of_line(books: Books, line: dict) -> str:
    # A payment applies to invoices only (NetSuite lists no order in its apply sublist); credit memos and journals
    # on it move no money onto an application.
    if line.get("type", INVOICE) == INVOICE:
        return books.invoice_order(str(line.get("doc") or ""))
    return ""


def _shares(books: Books, record_type: str, record: dict) -> list[tuple[str, str, float]]:
    """(application, sales order, amount) in the order NetSuite lists them, one per application."""
    if record_type == DEPOSIT:
        order = str((record.get("salesOrder") or {}).get("internalId") or "")
        application = books.order_application(order) if order else ""
        return [(application, order, money(record.get("total")))] if application else []
    if record_type == CREDIT_MEMO:
        created_from = record.get("createdFrom") or {}
        lines = ([{"doc": created_from["internalId"], "type": created_from.get("type", INVOICE)}]
                 if created_from.get("internalId") else []) + applied_lines(record)
        for line in lines:
            order = _order_of_line(books, line)
            application = books.order_application(order) if order else ""
            if application:
                return [(application, order, money(record.get("total")))]
        return []
    if record_type == REFUND:
        # Its own remittance is what it refunds of credit memos, on the credit memo's application.
        credits = [(doc, amount) for (line_type, doc), amount in refunded_lines(record).items() if line_type == CREDIT_MEMO]
        if not credits:
            return []
        memo = books.transaction(CREDIT_MEMO, credits[0][0])
        memo_shares = _shares(books, CREDIT_MEMO, memo) if memo else []
        application, order = (memo_shares[0][0], memo_shares[0][1]) if memo_shares else ("", "")
        return [(application, order, -money(sum(amount for _, amount in credits)))]
    shares: dict[str, list] = {}
    for line in applied_lines(record):
        order = _order_of_line(books, line)
        application = books.order_application(order) if order else ""
        if application:
            shares.setdefault(application, [application, order, 0.0])[2] += float(line.get("amount") or 0)
    return [(application, order, money(amount)) for application, order, amount in shares.values()]


def remittance_parts(books: Books, record_type: str, internal_id: str, *, previous: dict[str, dict] | None = None
                     ) -> list[RemittancePart]:
    """The remittances one transaction stands for now, given what the hub last planned for it (`previous`)."""
    previous = previous or {}
    record = books.transaction(record_type, internal_id)
    if record is None:
        return [_zeroed(record_type, internal_id, key, state, DELETED) for key, state in previous.items()]
    customer = str((record.get("customer") or {}).get("internalId") or "")
    number = str(record.get("tranId") or "")
    currency = str((record.get("currency") or {}).get("name") or "")
    total = money(record.get("total"))
    shares = _shares(books, record_type, record)
    if record_type == REFUND:
        # A refund of payments or deposits only lowers them; of credit memos it is money out on its own (on the
        # Account when the credit memo is on no application).
        on_account = None
        if shares and not shares[0][0]:
            shares, on_account = [], shares[0][2]
    else:
        on_account = money(total - sum(amount for _, _, amount in shares))
    layout: list[tuple[str, str, str, float]] = []   # key, application, order, amount
    for index, (application, order, amount) in enumerate(shares):
        layout.append((internal_id if index == 0 else f"{internal_id}-{order}", application, order, amount))
    if on_account is not None and (abs(on_account) >= 0.005 or not layout):
        layout.append((f"{internal_id}{UNAPPLIED_SUFFIX}" if layout else internal_id, "", "", on_account))

    status = str(record.get("status") or "")
    refunded = money(sum(books.refunds_of(record_type, internal_id).values())) if record_type in (PAYMENT, DEPOSIT) else 0.0
    parts = []
    # What a refund takes back comes off the unapplied rest first (NetSuite refunds a payment's unapplied amount),
    # then off the applications, last first.
    remaining_refund = refunded
    effective: dict[str, float] = {}
    for key, application, order, amount in sorted(layout, key=lambda part: (part[1] != "", -layout.index(part))):
        taken = min(max(amount, 0.0), remaining_refund)
        remaining_refund = money(remaining_refund - taken)
        effective[key] = money(amount - taken)
    gone = books.deleted(record_type, internal_id)
    for key, application, order, amount in layout:
        before = previous.get(key) or {}
        original = money(before["original_amount"]) if before.get("original_amount") else amount
        now = effective[key]
        part_status = status
        if gone:
            now, part_status = 0.0, DELETED
        elif record.get("voided"):
            now, part_status = 0.0, VOIDED
        elif now < amount:
            part_status = REFUNDED if now <= 0 else PART_REFUNDED
        if gone or record.get("voided"):
            # A direct void zeroes the lines: the remittance stays where it was, at 0.
            application = before.get("application_id", application) if before else application
            order = before.get("order_id", order) if before else order
        parts.append(RemittancePart(key=key, source_type=record_type, source_id=internal_id, number=number,
                                    application_id=application, customer_id=customer, amount=money(now),
                                    original_amount=original, status=part_status, order_id=order, currency=currency))
    carried = {part.key for part in parts}
    for key, state in previous.items():
        if key not in carried:
            reason = DELETED if gone else VOIDED if record.get("voided") else REAPPLIED
            part = _zeroed(record_type, internal_id, key, state, reason)
            part.customer_id, part.currency, part.number = customer or part.customer_id, currency, number or part.number
            parts.append(part)
    return parts


def _zeroed(record_type: str, internal_id: str, key: str, state: dict, status: str) -> RemittancePart:
    return RemittancePart(key=key, source_type=record_type, source_id=internal_id, number=str(state.get("number") or ""),
                          application_id=state.get("application_id", ""), customer_id=state.get("customer_id", ""),
                          amount=0.0, original_amount=money(state.get("original_amount")), status=status,
                          order_id=state.get("order_id", ""))


@dataclass
class PartChange:
    """A remittance whose amount NetSuite changed since the hub last planned it, worth telling finance."""

    part: RemittancePart
    before: float
    after: float

    @property
    def verb(self) -> str:
        status = self.part.status
        if status == DELETED:
            return "deleted in NetSuite"
        if status == VOIDED:
            return "voided in NetSuite"
        if status in (REFUNDED, PART_REFUNDED):
            return "refunded in NetSuite" if status == REFUNDED else "partly refunded in NetSuite"
        if status == REAPPLIED:
            return "re-applied in NetSuite"
        if self.part.source_type == CREDIT_MEMO and self.before == 0:
            return "booked in NetSuite"
        return "changed in NetSuite"


def part_changes(parts: list[RemittancePart], previous: dict[str, dict]) -> list[PartChange]:
    """The parts worth a finance review: money that came back (a remittance that went down, once it had reached
    Salesforce) and credit memos (what is owed went down)."""
    changes = []
    for part in parts:
        before = previous.get(part.key)
        was = money(before["amount"]) if before else 0.0
        if part.source_type == CREDIT_MEMO:
            if abs(part.amount - was) >= 0.005:
                changes.append(PartChange(part, was, part.amount))
        elif before is not None and part.amount < was - 0.004:
            changes.append(PartChange(part, was, part.amount))
    return changes


def unapplied(parts: list[RemittancePart]) -> list[RemittancePart]:
    """Money received that is on no application: unapplied cash for finance's queue."""
    return [part for part in parts if part.source_type in (PAYMENT, DEPOSIT) and part.on_account_only and part.amount >= 0.005]
