"""Remittances for the demo and tests: customer payments against funded customers' open sales orders.

Deterministic for a given seed, day and data: the same orders are paid the same amounts. Payments are
spread over the requested days (at office hours in the account's zone) so lastModifiedDate varies
the way the remittance sync's watermark needs.
"""
from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from .records import KINDS, OPEN_SALES_ORDER_STATUSES, Writer, money, number
from .store import Store


def open_orders(connection) -> list:
    orders = []
    for row in connection.execute(
            "SELECT internal_id FROM transactions WHERE type = 'salesOrder' ORDER BY internal_id"):
        order = Store.get(connection, "transactions", row[0])
        remaining = number(order.body.get("total")) - number(order.body.get("_paid"))
        if order.body.get("orderStatus") in OPEN_SALES_ORDER_STATUSES and remaining > 0.005:
            orders.append(order)
    return orders


def generate(store: Store, *, days: int, per_day: int = 5, seed: int = 1, zone: ZoneInfo,
             today: dt.date | None = None, backdate: bool = True, modified_at: dt.datetime | None = None) -> dict:
    """Payments against open sales orders, `per_day` for each of the last `days` days.

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
                remaining = number(order.body.get("total")) - number(order.body.get("_paid"))
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
                    "applyList": {"apply": [{"apply": "true", "doc": str(order.internal_id), "amount": money(amount)}]},
                })
                payment.body["tranDate"] = stamp
                if modified_at is not None or backdate:
                    # Date the payment on its day, so the remittance watermark sees a spread, not one instant.
                    modified = int(modified_at.timestamp()) * 1000 if modified_at is not None else stamp
                    payment.body["createdDate"] = payment.body["lastModifiedDate"] = modified
                    payment.created_ms = payment.last_modified_ms = modified
                Store.save(connection, "transactions", payment)
                created.append({"internalId": payment.internal_id, "tranId": payment.tran_id,
                                "salesOrder": order.internal_id, "amount": money(amount), "date": day.isoformat()})
    return {"payments": len(created), "created": created}
