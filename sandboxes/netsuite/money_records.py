"""NetSuite's rules for writing the money records (invoice, customer payment, customer deposit, deposit application,
credit memo, customer refund, journal entry), as a part of records.Writer. What they do to the records they apply to
is booked by accounting.rebook once the write is complete.
"""
from __future__ import annotations

from . import accounting
from .accounting import TOLERANCE, WriteError
from .store import Store

SALE_ITEM_TYPES = ("serviceSaleItem",)


def _n(text, default: float = 0.0) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return default


def _m(value: float) -> str:
    return repr(round(float(value), 2))


class MoneyRules:
    """Mixed into records.Writer: `self.connection`, `resolve`, `_lines`, `_subsidiary`, `_currency`, `WriteError`
    come from there."""

    # -- helpers -----------------------------------------------------------------------------------------------------
    def _customer_of(self, body: dict, field: str = "customer"):
        from .records import ref_to  # records imports this module
        if body.get(field) is None:
            raise WriteError("USER_ERROR", f"Please enter value(s) for: {field}")
        customer = self.resolve(field, body[field], ("customer",))
        body[field] = ref_to(customer)
        # The customer's subsidiary, and a currency it may use (chart.py).
        self._subsidiary(body, customer)
        body["currency"] = self._currency(body, customer)
        return customer

    def _transaction(self, internal_id) -> object | None:
        text = str(internal_id or "")
        return Store.get(self.connection, "transactions", int(text)) if text.isdigit() else None

    def _own_before(self, existing, list_name="applyList", inner="apply") -> dict[int, float]:
        return accounting._applied_lines(existing.body, list_name, inner) if existing else {}

    def _apply_lines(self, body: dict, *, customer, allowed: dict[str, str], available, before: dict[int, float],
                     limit: float, list_name: str = "applyList", inner: str = "apply") -> float:
        """Check and complete an apply sublist; answers the total applied. `allowed` maps the record types a line
        may name to the label NetSuite shows in the line's `type`; `available(record)` what the line may take.

        A line naming a transaction that is not in the sublist (a sales order, another customer's invoice, one paid
        already) applies nothing: NetSuite lists only the customer's open documents in a payment's apply sublist
        (Customer Payment, section_N3667711.html: a payment is applied to invoices), so there is no such line to
        mark, and the amount stays unapplied."""
        applied = 0.0
        kept = []
        for line in (body.get(list_name) or {}).get(inner) or []:
            doc = self._transaction(line.get("doc"))
            if (doc is None or doc.type not in allowed or doc.parent_id != customer.internal_id
                    or doc.body.get("_voided")):
                continue
            open_amount = available(doc) + before.get(doc.internal_id, 0.0)
            if open_amount <= TOLERANCE and before.get(doc.internal_id) is None:
                continue
            line.update({"doc": str(doc.internal_id), "type": allowed[doc.type], "refNum": doc.body.get("tranId"),
                         "total": doc.body.get("total") or doc.body.get("payment"), "currency": "USD"})
            line["due" if inner == "apply" else "remaining"] = _m(max(open_amount, 0.0))
            line.setdefault("applyDate" if inner == "apply" else "depositDate", doc.body.get("tranDate"))
            if line.get("apply", "true") == "true":
                line["apply"] = "true"
                line.setdefault("amount", _m(max(min(open_amount, limit - applied), 0.0)))
                if _n(line["amount"]) - open_amount > TOLERANCE:
                    raise WriteError("USER_ERROR", f"The amount applied to {doc.body.get('tranId')} exceeds what is "
                                     "due on it.")
                applied += _n(line["amount"])
            kept.append(line)
        if applied - limit > TOLERANCE:
            raise WriteError("USER_ERROR", "The total applied exceeds the amount available.")
        if kept or (body.get(list_name) or {}).get(inner):
            body[list_name] = {inner: kept}
        return applied

    @staticmethod
    def _invoice_due(invoice) -> float:
        return _n(invoice.body.get("total")) - _n(invoice.body.get("_paid"))

    # -- invoice -----------------------------------------------------------------------------------------------------
    def _complete_invoice(self, body: dict, existing) -> int:
        accounting.check_writable(existing)
        order = None
        if body.get("createdFrom") is not None:
            ref = body["createdFrom"]
            order = self._transaction(ref.get("internalId"))
            if order is None or order.type != "salesOrder":
                raise WriteError("INVALID_KEY_OR_REF", f"Invalid createdFrom reference key {ref.get('internalId')}.")
            body["createdFrom"] = {"internalId": str(order.internal_id), "name": f"Sales Order #{order.tran_id}"}
            body.setdefault("entity", dict(order.body["entity"]))
            if not (body.get("itemList") or {}).get("item"):
                body["itemList"] = {"item": accounting.unbilled_lines(order)}
        customer = self._customer_of(body, "entity")
        if order is not None and order.parent_id != customer.internal_id:
            raise WriteError("INVALID_KEY_OR_REF", f"Invalid createdFrom reference key {order.internal_id}.")
        total = self._lines(body, SALE_ITEM_TYPES, required=True)
        if order is not None:
            before = accounting.consumption("invoice", existing.body if existing else None).get(order.internal_id, {})
            already = accounting.billed(order.body) - sum(before.values())
            if already + total - _n(order.body.get("total")) > TOLERANCE:
                raise WriteError("USER_ERROR", f"You cannot bill more than the order's unbilled amount "
                                 f"({_n(order.body.get('total')) - already:.2f}).")
        body["subTotal"] = _m(total)
        body["total"] = _m(total)
        body.setdefault("_paid", "0.0")
        if existing is not None and _n(body["_paid"]) - total > TOLERANCE:
            raise WriteError("USER_ERROR", "The invoice total cannot be less than what has been paid on it.")
        body.setdefault("tranDate", self._now())
        accounting.refresh("invoice", body)
        return customer.internal_id

    # -- customer payment --------------------------------------------------------------------------------------------
    def _complete_customerPayment(self, body: dict, existing) -> int:
        accounting.check_writable(existing)
        customer = self._customer_of(body)
        if body.get("payment") is None:
            raise WriteError("USER_ERROR", "Please enter value(s) for: payment")
        payment = _n(body["payment"])
        limit = payment - _n(body.get("_refunded"))
        self._apply_lines(body, customer=customer, allowed={"invoice": "Invoice"}, available=self._invoice_due,
                          before=self._own_before(existing), limit=limit)
        body["payment"] = _m(payment)
        body["total"] = _m(payment)
        body.setdefault("status", "Not Deposited")
        body.setdefault("tranDate", self._now())
        accounting.refresh("customerPayment", body)
        return customer.internal_id

    # -- customer deposit --------------------------------------------------------------------------------------------
    def _complete_customerDeposit(self, body: dict, existing) -> int:
        accounting.check_writable(existing)
        customer = self._customer_of(body)
        if body.get("payment") is None:
            raise WriteError("USER_ERROR", "Please enter value(s) for: payment")
        if body.get("salesOrder") is not None:
            order = self._transaction(body["salesOrder"].get("internalId"))
            if order is None or order.type != "salesOrder" or order.parent_id != customer.internal_id:
                raise WriteError("INVALID_KEY_OR_REF",
                                 f"Invalid salesOrder reference key {body['salesOrder'].get('internalId')}.")
            body["salesOrder"] = {"internalId": str(order.internal_id), "name": f"Sales Order #{order.tran_id}"}
        payment = _n(body["payment"])
        if existing is not None and _n(body.get("_applied")) + _n(body.get("_refunded")) - payment > TOLERANCE:
            raise WriteError("USER_ERROR", "The deposit cannot be less than what has been applied or refunded of it.")
        body["payment"] = _m(payment)
        body.setdefault("tranDate", self._now())
        accounting.refresh("customerDeposit", body)
        return customer.internal_id

    # -- deposit application -----------------------------------------------------------------------------------------
    def _complete_depositApplication(self, body: dict, existing) -> int:
        from .records import ref_to  # records imports this module
        accounting.check_writable(existing)
        ref = body.get("deposit")
        if ref is None:
            raise WriteError("USER_ERROR", "Please enter value(s) for: deposit")
        deposit = self._transaction(ref.get("internalId"))
        if deposit is None or deposit.type != "customerDeposit" or deposit.body.get("_voided"):
            raise WriteError("INVALID_KEY_OR_REF", f"Invalid deposit reference key {ref.get('internalId')}.")
        customer = Store.get(self.connection, "entities", deposit.parent_id)
        body["deposit"] = {"internalId": str(deposit.internal_id), "name": f"Customer Deposit #{deposit.tran_id}"}
        body["customer"] = ref_to(customer)
        body["depDate"] = deposit.body.get("tranDate")
        self._subsidiary(body, customer)
        body["currency"] = self._currency(body, customer)
        before = _n(existing.body.get("applied")) if existing else 0.0
        left = accounting.deposit_remaining(deposit.body) + before
        applied = self._apply_lines(body, customer=customer, allowed={"invoice": "Invoice"},
                                    available=self._invoice_due, before=self._own_before(existing), limit=left)
        body["applied"] = _m(applied)
        body["total"] = _m(applied)
        body["unapplied"] = _m(left - applied)
        body.setdefault("tranDate", self._now())
        return customer.internal_id

    # -- credit memo -------------------------------------------------------------------------------------------------
    def _complete_creditMemo(self, body: dict, existing) -> int:
        accounting.check_writable(existing)
        invoice = None
        if body.get("createdFrom") is not None:
            ref = body["createdFrom"]
            invoice = self._transaction(ref.get("internalId"))
            if invoice is None or invoice.type != "invoice":
                raise WriteError("INVALID_KEY_OR_REF", f"Invalid createdFrom reference key {ref.get('internalId')}.")
            body["createdFrom"] = {"internalId": str(invoice.internal_id), "name": f"Invoice #{invoice.tran_id}"}
            body.setdefault("entity", dict(invoice.body["entity"]))
        customer = self._customer_of(body, "entity")
        if invoice is not None and invoice.parent_id != customer.internal_id:
            raise WriteError("INVALID_KEY_OR_REF", f"Invalid createdFrom reference key {invoice.internal_id}.")
        total = self._lines(body, SALE_ITEM_TYPES, required=True)
        if invoice is not None and existing is None and not (body.get("applyList") or {}).get("apply"):
            # A credit memo made from an invoice is applied to it, as far as it is still open.
            body["applyList"] = {"apply": [{"doc": str(invoice.internal_id), "apply": "true"}]}
        limit = total - _n(body.get("_refunded"))
        self._apply_lines(body, customer=customer, allowed={"invoice": "Invoice"}, available=self._invoice_due,
                          before=self._own_before(existing), limit=limit)
        body["subTotal"] = _m(total)
        body["total"] = _m(total)
        body.setdefault("tranDate", self._now())
        accounting.refresh("creditMemo", body)
        return customer.internal_id

    # -- customer refund ---------------------------------------------------------------------------------------------
    def _complete_customerRefund(self, body: dict, existing) -> int:
        accounting.check_writable(existing)
        customer = self._customer_of(body)
        credits = self._apply_lines(
            body, customer=customer, allowed={"customerPayment": "Payment", "creditMemo": "Credit Memo"},
            available=accounting.credit_remaining, before=self._own_before(existing), limit=float("inf"))
        deposits = self._apply_lines(
            body, customer=customer, allowed={"customerDeposit": "Customer Deposit"},
            available=lambda deposit: accounting.deposit_remaining(deposit.body),
            before=self._own_before(existing, "depositList", "customerRefundDeposit"), limit=float("inf"),
            list_name="depositList", inner="customerRefundDeposit")
        for line in (body.get("depositList") or {}).get("customerRefundDeposit") or []:
            line.pop("type", None)
            line.pop("applyDate", None)
            line.pop("due", None)
        total = credits + deposits
        if total <= TOLERANCE:
                raise WriteError("USER_ERROR", "You must apply at least one credit or deposit to a refund.")
        body["total"] = _m(total)
        body.setdefault("tranDate", self._now())
        accounting.refresh("customerRefund", body)
        return customer.internal_id

    # -- journal entry -----------------------------------------------------------------------------------------------
    def _complete_journalEntry(self, body: dict, existing) -> None:
        if not self.booking_reversal:
            raise WriteError("INSUFFICIENT_PERMISSION", "The sandbox books journal entries only as a void's reversing "
                             "journal (POST /_sandbox/void in reversing_journal mode).")
        self._subsidiary(body)
        return None

    @staticmethod
    def _now() -> int:
        from .records import now_ms
        return now_ms()
