"""Remittances for the demo and tests, in the funder's cycle: a funded application's sales order is billed into an
invoice for the purchased receivables, and the daily ACH remittances are customer payments applied to that invoice
(NetSuite applies payments to invoices, not to orders: see accounting.py).

Deterministic for a given seed, day and data: the same orders are paid the same amounts. Payments are
spread over the requested days (at office hours in the account's zone) so lastModifiedDate varies
the way the remittance sync's watermark needs.
"""
from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from . import accounting
from .records import KINDS, Writer, money, number
from .store import Store

BILLABLE_STATUSES = ("_pendingApproval", "_pendingFulfillment", "_partiallyFulfilled", "_pendingBillingPartFulfilled",
                     "_pendingBilling", "_fullyBilled")


def open_invoices(connection, order_id: int) -> list:
    """The order's invoices that still have something to pay, oldest first."""
    rows = connection.execute(
        "SELECT internal_id FROM transactions WHERE type = 'invoice' "
        "AND json_extract(body, '$.createdFrom.internalId') = ? ORDER BY internal_id", (str(order_id),)).fetchall()
    invoices = [Store.get(connection, "transactions", row[0]) for row in rows]
    return [i for i in invoices if not i.body.get("_voided") and number(i.body.get("amountRemaining")) > 0.005]


def owed(connection, order) -> float:
    """What the order's customer still owes on it: its unbilled part and its open invoices."""
    unbilled = number(order.body.get("total")) - accounting.billed(order.body)
    return max(unbilled, 0.0) + sum(number(i.body.get("amountRemaining")) for i in open_invoices(connection, order.internal_id))


def open_orders(connection) -> list:
    """Orders something is still owed on, in one pass over the invoices (not one query per order)."""
    open_billed: dict[str, float] = {}
    for order_id, remaining in connection.execute(
            "SELECT json_extract(body, '$.createdFrom.internalId'), "
            "SUM(CAST(json_extract(body, '$.amountRemaining') AS REAL)) FROM transactions "
            "WHERE type = 'invoice' AND json_extract(body, '$._voided') IS NULL GROUP BY 1"):
        open_billed[str(order_id)] = remaining or 0.0
    orders = []
    for row in connection.execute(
            "SELECT internal_id FROM transactions WHERE type = 'salesOrder' ORDER BY internal_id"):
        order = Store.get(connection, "transactions", row[0])
        unbilled = number(order.body.get("total")) - accounting.billed(order.body)
        if (order.body.get("orderStatus") in BILLABLE_STATUSES
                and max(unbilled, 0.0) + open_billed.get(str(order.internal_id), 0.0) > 0.005):
            orders.append(order)
    return orders


def bill(writer: Writer, order, amount: float | None = None):
    """An invoice for the order's unbilled part (or `amount` of it), as a billing clerk's Bill button makes it."""
    proposed = accounting.invoice_from_order(order, amount)
    if not proposed["itemList"]["item"]:
        from .records import WriteError
        raise WriteError("USER_ERROR", f"Sales Order #{order.tran_id} has nothing left to bill.")
    return writer.write("add", KINDS["invoice"], {
        "entity": {"internalId": str(order.parent_id)}, "createdFrom": {"internalId": str(order.internal_id)},
        "memo": f"Purchased receivables of {order.body.get('tranId')}",
        "itemList": {"item": [{k: v for k, v in line.items() if k != "description"}
                              for line in proposed["itemList"]["item"]]}})


def invoice_to_pay(writer: Writer, order):
    """The order's oldest open invoice, billing the order first when nothing is billed and open."""
    invoices = open_invoices(writer.connection, order.internal_id)
    if invoices:
        return invoices[0]
    return bill(writer, order)


def generate(store: Store, *, days: int, per_day: int = 5, seed: int = 1, zone: ZoneInfo,
             today: dt.date | None = None, backdate: bool = True, modified_at: dt.datetime | None = None) -> dict:
    """Payments on open sales orders' invoices (billing the orders where nothing is billed and open), `per_day` for
    each of the last `days` days.

    backdate=True dates the records on their day (history for a backfill); False stamps them as written now, as
    NetSuite does for a payment entered today. modified_at pins lastModifiedDate to a moment (a test hook for
    watermark edge cases such as 23:59 in the account's zone).
    """
    rng = random.Random(seed)
    now = dt.datetime.now(zone)
    today = today or now.date()
    created = []
    with store.write() as connection:
        writer = Writer(connection)
        for offset in range(days - 1, -1, -1):
            day = today - dt.timedelta(days=offset)
            candidates = open_orders(connection)
            if not candidates:
                break
            chosen = sorted(rng.sample(candidates, min(per_day, len(candidates))), key=lambda o: o.internal_id)
            for order in chosen:
                order = Store.get(connection, "transactions", order.internal_id)
                invoice = invoice_to_pay(writer, order)
                remaining = number(invoice.body.get("amountRemaining"))
                amount = min(remaining, round(number(order.body.get("total")) * rng.uniform(0.03, 0.12), 2))
                amount = max(amount, 0.01)
                moment = dt.datetime.combine(day, dt.time(9), zone) + dt.timedelta(seconds=rng.randrange(8 * 3600))
                if moment > now:
                    moment = now - dt.timedelta(seconds=rng.randrange(1, 600))
                stamp = int(moment.timestamp()) * 1000
                payment = writer.write("add", KINDS["customerPayment"], {
                    "customer": {"internalId": str(order.parent_id)},
                    "payment": money(amount),
                    "memo": f"Remittance {day.isoformat()} for {order.body.get('tranId')}",
                    "applyList": {"apply": [{"apply": "true", "doc": str(invoice.internal_id), "amount": money(amount)}]},
                })
                payment.body["tranDate"] = stamp
                if backdate and invoice.created_ms > stamp:
                    # Billed just now for a remittance dated earlier: the invoice is dated before its first payment.
                    billed_at = stamp - 3600 * 1000
                    invoice.body["tranDate"] = invoice.body["createdDate"] = invoice.body["lastModifiedDate"] = billed_at
                    invoice.created_ms = invoice.last_modified_ms = billed_at
                    Store.save(connection, "transactions", invoice)
                if modified_at is not None or backdate:
                    # Date the payment on its day, so the remittance watermark sees a spread, not one instant.
                    modified = int(modified_at.timestamp()) * 1000 if modified_at is not None else stamp
                    payment.body["createdDate"] = payment.body["lastModifiedDate"] = modified
                    payment.created_ms = payment.last_modified_ms = modified
                Store.save(connection, "transactions", payment)
                created.append({"internalId": payment.internal_id, "tranId": payment.tran_id,
                                "salesOrder": order.internal_id, "invoice": invoice.internal_id,
                                "amount": money(amount), "date": day.isoformat()})
    return {"payments": len(created), "created": created}
