"""How money moves in the sandbox account, as NetSuite books it: invoices billed from sales orders, customer payments
applied to invoices, customer deposits for an order and their deposit applications, credit memos, customer refunds,
voids (direct, or by a reversing journal entry) and what a delete must leave alone.

References (docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/):
- a payment is applied to invoices (or cash sales), not to orders: Customer Payment, section_N3667711.html;
- a deposit is money received for an order before it is billed, applied to its invoice later: section_N3667158.html,
  Deposit Application article_0830101547.html;
- billing an order (`initialize` of an invoice from it, partial billing): section_N3508536.html;
- voiding: "the total and all the line items for the transaction are set to zero. The transaction is not removed",
  a direct void or a void by reversing journal by the account's preference, and which record types support which
  (section_4413162576.html, section_4483109897.html: customer payment, deposit and credit memo direct void only;
  customer refund both; deposit application none).

Every money record "consumes" others: a payment, a credit memo or a deposit application pays invoices, a deposit
application uses its deposit, a refund gives back a payment's, a credit memo's or a deposit's credit, an invoice bills
its order. What each consumes is derived from its body (consumption()), and each write books the difference between
before and after on the records consumed (rebook()), so an update, a void and a delete undo exactly what was booked.
Bookkeeping fields start with "_" (never answered); what NetSuite shows (amountPaid, amountRemaining, applied,
unapplied, status) is derived from them by refresh().
"""
from __future__ import annotations

from .store import Store, StoredRecord

MONEY_TYPES = ("invoice", "customerPayment", "customerDeposit", "depositApplication", "creditMemo", "customerRefund",
               "journalEntry")
# The void each type supports (section_4483109897.html); a type not listed cannot be voided.
VOID_SUPPORT = {
    "customerPayment": {"direct"},
    "customerDeposit": {"direct"},
    "creditMemo": {"direct"},
    "invoice": {"direct"},
    "customerRefund": {"direct", "reversing_journal"},
}
VOID_MODES = ("direct", "reversing_journal")
# Accounts a reversing journal posts to: the sandbox keeps no chart of accounts, so two fixed ones stand in.
AR_ACCOUNT = {"internalId": "1", "name": "Accounts Receivable"}
BANK_ACCOUNT = {"internalId": "2", "name": "Undeposited Funds"}
TOLERANCE = 0.005


class WriteError(Exception):
    """A per-record refusal, with NetSuite's code (records.Writer raises it too)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


AccountingError = WriteError


def _number(text, default: float = 0.0) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return default


def _money(value: float) -> str:
    return repr(round(float(value), 2))


def _applied_lines(body: dict, list_name: str = "applyList", inner: str = "apply") -> dict[int, float]:
    applied: dict[int, float] = {}
    for line in (body.get(list_name) or {}).get(inner) or []:
        if line.get("apply") == "true" and str(line.get("doc", "")).isdigit():
            applied[int(line["doc"])] = applied.get(int(line["doc"]), 0.0) + _number(line.get("amount"))
    return applied


def consumption(record_type: str, body: dict | None) -> dict[int, dict[str, float]]:
    """What a money record takes from other transactions: {internal id: {bookkeeping field: amount}}. A voided record
    takes nothing (a direct void zeroes it; a reversing journal gives it back)."""
    if not body or body.get("_voided"):
        return {}
    taken: dict[int, dict[str, float]] = {}

    def take(doc: int, field: str, amount: float) -> None:
        if abs(amount) > 1e-9:
            taken.setdefault(doc, {})
            taken[doc][field] = taken[doc].get(field, 0.0) + amount

    if record_type in ("customerPayment", "creditMemo", "depositApplication"):
        for doc, amount in _applied_lines(body).items():
            take(doc, "_paid", amount)
    if record_type == "depositApplication" and (body.get("deposit") or {}).get("internalId", "").isdigit():
        take(int(body["deposit"]["internalId"]), "_applied", _number(body.get("applied")))
    if record_type == "customerRefund":
        for doc, amount in _applied_lines(body).items():
            take(doc, "_refunded", amount)
        for doc, amount in _applied_lines(body, "depositList", "customerRefundDeposit").items():
            take(doc, "_refunded", amount)
    if record_type == "invoice" and (body.get("createdFrom") or {}).get("internalId", "").isdigit():
        for line in (body.get("itemList") or {}).get("item") or []:
            take(int(body["createdFrom"]["internalId"]), f"_billed_{line.get('orderLine') or 0}", _number(line.get("amount")))
    return taken


def rebook(connection, before: dict, after: dict, stamp: int) -> None:
    """Book the change from `before` to `after` (consumption()s) on the records consumed."""
    for doc in set(before) | set(after):
        changes = {}
        for field in set(before.get(doc, {})) | set(after.get(doc, {})):
            delta = after.get(doc, {}).get(field, 0.0) - before.get(doc, {}).get(field, 0.0)
            if abs(delta) > 1e-9:
                changes[field] = delta
        if not changes:
            continue
        target = Store.get(connection, "transactions", doc)
        if target is None:
            continue
        for field, delta in changes.items():
            target.body[field] = _money(_number(target.body.get(field)) + delta)
        status = target.body.get("status")
        refresh(target.type, target.body)
        if target.body.get("status") != status:
            # A status NetSuite changes (an invoice paid in full, an order billed) is a change of the record.
            target.body["lastModifiedDate"] = target.last_modified_ms = stamp
        Store.save(connection, "transactions", target)


def billed(order_body: dict) -> float:
    return sum(_number(v) for k, v in order_body.items() if k.startswith("_billed_"))


def billed_by_line(order_body: dict) -> dict[str, float]:
    return {k[len("_billed_"):]: _number(v) for k, v in order_body.items() if k.startswith("_billed_")}


ORDER_STATUS_LABELS = {"_pendingBilling": "Pending Billing", "_fullyBilled": "Billed"}
SALES_ORDER_LABELS = {"_pendingApproval": "Pending Approval", "_pendingFulfillment": "Pending Fulfillment",
                      "_partiallyFulfilled": "Partially Fulfilled", **ORDER_STATUS_LABELS}


def refresh(record_type: str, body: dict) -> None:
    """What NetSuite shows, from what is booked."""
    voided = bool(body.get("_voided"))
    if record_type == "invoice":
        total = _number(body.get("total"))
        paid = _number(body.get("_paid"))
        body["amountPaid"] = _money(paid)
        body["amountRemaining"] = _money(max(total - paid, 0.0))
        body["balance"] = body["amountRemaining"]
        body["status"] = "Voided" if voided else ("Paid In Full" if total - paid <= TOLERANCE and total > 0 else "Open")
    elif record_type == "salesOrder":
        amount = billed(body)
        if amount <= TOLERANCE and body.get("_unbilled_status"):
            # Its invoices deleted or voided: the order is back where it was before billing.
            body["orderStatus"] = body.pop("_unbilled_status")
            body["status"] = SALES_ORDER_LABELS.get(body["orderStatus"], body.get("status"))
        if amount > TOLERANCE and body.get("orderStatus") not in ("_closed", "_cancelled"):
            body.setdefault("_unbilled_status", body.get("orderStatus"))
            # Service lines need no fulfilment: a billed order is Pending Billing until all of it is billed, then
            # Billed (the statuses NetSuite lists for an order).
            fully = amount >= _number(body.get("total")) - TOLERANCE
            body["orderStatus"] = "_fullyBilled" if fully else "_pendingBilling"
            body["status"] = ORDER_STATUS_LABELS[body["orderStatus"]]
    elif record_type == "customerPayment":
        payment = _number(body.get("payment"))
        applied = sum(_applied_lines(body).values())
        body["applied"] = _money(applied)
        body["unapplied"] = _money(payment - applied - _number(body.get("_refunded")))
        if voided:
            body["status"] = "Voided"
    elif record_type == "creditMemo":
        total = _number(body.get("total"))
        applied = sum(_applied_lines(body).values())
        unapplied = total - applied - _number(body.get("_refunded"))
        body["applied"] = _money(applied)
        body["unapplied"] = _money(unapplied)
        body["amountRemaining"] = _money(unapplied)
        body["status"] = "Voided" if voided else ("Fully Applied" if unapplied <= TOLERANCE else "Open")
    elif record_type == "customerDeposit":
        payment = _number(body.get("payment"))
        used = _number(body.get("_applied")) + _number(body.get("_refunded"))
        body["status"] = "Voided" if voided else ("Fully Applied" if used >= payment - TOLERANCE and payment > 0
                                                  else "Not Deposited")
    elif record_type == "customerRefund":
        if voided:
            body["status"] = "Voided"


def deposit_remaining(deposit_body: dict) -> float:
    return (_number(deposit_body.get("payment")) - _number(deposit_body.get("_applied"))
            - _number(deposit_body.get("_refunded")))


def credit_remaining(record: StoredRecord) -> float:
    """What a payment or credit memo still holds as credit (refundable)."""
    return _number(record.body.get("unapplied"))


def dependants(connection, record: StoredRecord, family: str) -> int:
    """How many records hang on this one: NetSuite refuses to delete a record others depend on (an invoice with
    payments applied, a deposit with applications, an order with invoices, a customer with transactions)."""
    if family == "entities":
        count = connection.execute("SELECT COUNT(*) FROM transactions WHERE parent_id = ?", (record.internal_id,)).fetchone()[0]
        return count + connection.execute("SELECT COUNT(*) FROM entities WHERE parent_id = ?",
                                          (record.internal_id,)).fetchone()[0]
    if family != "transactions":
        return 0
    booked = [k for k in record.body if k.startswith(("_paid", "_applied", "_refunded", "_billed_"))]
    return sum(1 for k in booked if abs(_number(record.body.get(k))) > TOLERANCE)


def check_writable(existing: StoredRecord | None) -> None:
    if existing is not None and existing.body.get("_voided"):
        raise AccountingError("CANT_MODIFY_VOID_TRANS", "You cannot modify a voided transaction.")


# -- voids -----------------------------------------------------------------------------------------------------------
def void(connection, record: StoredRecord, mode: str, stamp: int, next_journal) -> dict:
    """Void a transaction as the account's preference says; answers the voided record's summary (and the reversing
    journal's internal id). `next_journal(body)` stores a new journal entry body and returns its record."""
    if mode not in VOID_MODES:
        raise AccountingError("INVALID_KEY_OR_REF", f"Unknown void mode {mode!r}; one of {', '.join(VOID_MODES)}.")
    supported = VOID_SUPPORT.get(record.type, set())
    if not supported:
        raise AccountingError("INVALID_RCRD_TYPE", f"The record type {record.type} is not voidable.")
    if mode not in supported:
        # "For transaction types that use direct void, you must disable the Void Transactions Using Reversing
        # Journals feature ... to avoid an error being thrown" (section_4483109897.html).
        raise AccountingError("INVALID_RCRD_TYPE", f"A {record.type} can only be voided directly; this account voids "
                              "with reversing journals.")
    if record.body.get("_voided"):
        raise AccountingError("CANT_VOID_TRANS", "This transaction has already been voided.")
    if dependants(connection, record, "transactions"):
        raise AccountingError("CANT_VOID_TRANS", "This transaction cannot be voided: other transactions are applied "
                              "to it.")
    before = consumption(record.type, record.body)
    body = record.body
    body["_voided"] = mode
    summary = {"type": record.type, "internalId": str(record.internal_id), "tranId": body.get("tranId"),
               "voided": True, "mode": mode}
    if mode == "direct":
        for field in ("payment", "total", "subTotal", "applied", "unapplied", "amountRemaining", "amountPaid", "balance"):
            if field in body:
                body[field] = "0.0"
        for list_name, inner in (("applyList", "apply"), ("itemList", "item"), ("depositList", "customerRefundDeposit")):
            for line in (body.get(list_name) or {}).get(inner) or []:
                for field in ("amount", "rate"):
                    if field in line:
                        line[field] = "0.0"
        body["memo"] = "VOID"
    else:
        amount = _number(body.get("total"))
        journal = next_journal({
            "tranDate": stamp, "memo": f"Void of {body.get('tranId')}", "approved": "true",
            "createdFrom": {"internalId": str(record.internal_id), "type": record.type},
            "subsidiary": body.get("subsidiary"), "currency": body.get("currency"),
            "lineList": {"line": [
                {"line": "1", "account": dict(BANK_ACCOUNT), "debit": _money(amount), "entity": body.get("customer"),
                 "memo": f"Void of {body.get('tranId')}"},
                {"line": "2", "account": dict(AR_ACCOUNT), "credit": _money(amount), "entity": body.get("customer"),
                 "memo": f"Void of {body.get('tranId')}"}]},
        })
        body["voidJournal"] = {"internalId": str(journal.internal_id), "name": f"Journal #{journal.tran_id}"}
        summary["journal"] = {"internalId": str(journal.internal_id), "tranId": journal.tran_id}
    refresh(record.type, body)
    body["lastModifiedDate"] = record.last_modified_ms = stamp
    Store.save(connection, "transactions", record)
    rebook(connection, before, {}, stamp)
    summary["total"] = _number(body.get("total", body.get("payment")))
    summary["status"] = body.get("status")
    return summary


# -- billing ---------------------------------------------------------------------------------------------------------
def unbilled_lines(order: StoredRecord, amount: float | None = None) -> list[dict]:
    """The invoice lines NetSuite proposes for an order: each line's unbilled part, filled in order up to `amount`
    when one is given (partial billing)."""
    done = billed_by_line(order.body)
    lines = []
    left = amount
    for line in (order.body.get("itemList") or {}).get("item") or []:
        open_amount = round(_number(line.get("amount")) - done.get(str(line.get("line")), 0.0), 2)
        if open_amount <= TOLERANCE:
            continue
        if left is not None:
            if left <= TOLERANCE:
                break
            open_amount = round(min(open_amount, left), 2)
            left -= open_amount
        lines.append({"item": dict(line["item"]), "description": line.get("description"), "quantity": "1.0",
                      "rate": f"{open_amount:.2f}", "amount": _money(open_amount), "orderLine": str(line.get("line"))})
    return lines


def invoice_from_order(order: StoredRecord, amount: float | None = None) -> dict:
    """The invoice `initialize` answers for an order (InitializeRecord type invoice, reference the order)."""
    lines = unbilled_lines(order, amount)
    return {"entity": dict(order.body["entity"]), "createdFrom": {"internalId": str(order.internal_id),
                                                                   "name": f"Sales Order #{order.tran_id}"},
            "currency": order.body.get("currency"), "subsidiary": order.body.get("subsidiary"),
            "memo": order.body.get("memo"), "itemList": {"item": lines},
            "total": _money(sum(_number(line["amount"]) for line in lines))}


def credit_memo_from_invoice(invoice: StoredRecord) -> dict:
    lines = [{k: v for k, v in line.items() if k in ("item", "description", "quantity", "rate", "amount")}
             for line in (invoice.body.get("itemList") or {}).get("item") or []]
    return {"entity": dict(invoice.body["entity"]), "createdFrom": {"internalId": str(invoice.internal_id),
                                                                     "name": f"Invoice #{invoice.tran_id}"},
            "currency": invoice.body.get("currency"), "subsidiary": invoice.body.get("subsidiary"),
            "itemList": {"item": lines}}


def application_from_deposit(deposit: StoredRecord) -> dict:
    """The deposit application `initialize` proposes for a deposit: what is left of it, to apply."""
    return {"deposit": {"internalId": str(deposit.internal_id), "name": f"Customer Deposit #{deposit.tran_id}"},
            "customer": dict(deposit.body["customer"]), "currency": deposit.body.get("currency"),
            "subsidiary": deposit.body.get("subsidiary"), "depDate": deposit.body.get("tranDate"),
            "unapplied": _money(deposit_remaining(deposit.body))}
