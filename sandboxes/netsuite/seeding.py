"""Bulk, deterministic records for benchmarks and demos, written straight to storage.

Going through SOAP would take minutes for 100,000 records; the bodies built here have the same
shape the write path stores (see records.Writer), so searches cannot tell the difference.
"""
from __future__ import annotations

import json
import random

from .records import CURRENCY, SUBSIDIARY, money
from .store import FIRST_TRAN_NUMBER, Store

BASE_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z: fixed, so two seeds of the same size are identical
STEP_MS = 30_000
DAY_MS = 86_400_000
OFFICE_OPENS_MS = 16 * 3_600_000  # 16:00 UTC, 08:00 in Los Angeles: payments land over eight office hours
OFFICE_HOURS_S = 8 * 3600
PAYMENT_METHODS = [({"internalId": "3", "name": "ACH"}, 80), ({"internalId": "4", "name": "Wire"}, 10),
                   ({"internalId": "2", "name": "Check"}, 6), (None, 4)]


def _customer(internal_id: int, n: int, stamp: int) -> dict:
    name = f"Seed Merchant {n:06d}"
    return {"internalId": str(internal_id), "externalId": f"SEED-CUST-{n:06d}", "entityId": name,
            "isPerson": "false", "companyName": name, "email": f"ap{n}@merchant{n}.example",
            "phone": f"555-{n % 10000:04d}", "subsidiary": SUBSIDIARY, "currency": CURRENCY,
            "dateCreated": stamp, "lastModifiedDate": stamp}


def _sales_order(internal_id: int, n: int, tran_number: int, customer_id: int, customer_name: str, stamp: int) -> dict:
    origination = 500 + (n % 20) * 25
    lines = [
        {"item": {"internalId": "101", "name": "FEE-ORIG"}, "quantity": "1.0", "description": "Origination Fee",
         "rate": f"{origination:.2f}", "amount": money(origination), "line": "1"},
        {"item": {"internalId": "103", "name": "FEE-ACH"}, "quantity": "1.0", "description": "ACH Program Fee",
         "rate": "150.00", "amount": "150.0", "line": "2"},
    ]
    total = money(origination + 150)
    return {"internalId": str(internal_id), "externalId": f"SEED-APP-{n:06d}", "createdDate": stamp,
            "entity": {"internalId": str(customer_id), "name": customer_name}, "currency": CURRENCY,
            "tranDate": stamp, "tranId": f"SO{tran_number}", "orderStatus": "_pendingFulfillment",
            "memo": f"Seeded funding {n:06d}", "subTotal": total, "total": total, "subsidiary": SUBSIDIARY,
            "status": "Pending Fulfillment", "itemList": {"item": lines}, "_paid": "0.0", "lastModifiedDate": stamp}


def _invoice(internal_id: int, tran_number: int, order: dict, stamp: int) -> dict:
    """The invoice that bills the whole order (the purchased receivables), the order marked billed."""
    lines = [{"item": dict(line["item"]), "quantity": "1.0", "description": line["description"], "rate": line["rate"],
              "amount": line["amount"], "orderLine": line["line"], "line": str(number)}
             for number, line in enumerate(order["itemList"]["item"], start=1)]
    for line in order["itemList"]["item"]:
        order[f"_billed_{line['line']}"] = line["amount"]
    order.update({"orderStatus": "_fullyBilled", "status": "Billed"})
    return {"internalId": str(internal_id), "tranId": f"INV{tran_number}", "entity": dict(order["entity"]),
            "createdFrom": {"internalId": order["internalId"], "name": f"Sales Order #{order['tranId']}"},
            "currency": CURRENCY, "subsidiary": SUBSIDIARY, "memo": f"Purchased receivables of {order['tranId']}",
            "itemList": {"item": lines}, "subTotal": order["total"], "total": order["total"], "_paid": "0.0",
            "amountPaid": "0.0", "amountRemaining": order["total"], "balance": order["total"], "status": "Open",
            "tranDate": stamp, "createdDate": stamp, "lastModifiedDate": stamp}


def _payment(internal_id: int, tran_number: int, invoice: dict, amount: float, method: dict | None, stamp: int) -> dict:
    due = float(invoice["total"]) - float(invoice["_paid"])
    body = {"customer": dict(invoice["entity"]), "payment": money(amount),
            "memo": f"Remittance for {invoice['createdFrom']['name'].rpartition('#')[2]}",
            "applyList": {"apply": [{"apply": "true", "doc": invoice["internalId"], "amount": money(amount),
                                     "type": "Invoice", "refNum": invoice["tranId"], "total": invoice["total"],
                                     "currency": "USD", "applyDate": invoice["tranDate"], "due": money(due)}]},
            "subsidiary": SUBSIDIARY, "currency": CURRENCY, "total": money(amount), "applied": money(amount),
            "unapplied": "0.0", "status": "Not Deposited", "tranDate": stamp, "createdDate": stamp,
            "tranId": f"PYMT{tran_number}", "internalId": str(internal_id), "lastModifiedDate": stamp}
    if method:
        body["paymentMethod"] = dict(method)
    _book_on_invoice(invoice, amount)
    return body


def _book_on_invoice(invoice: dict, amount: float) -> None:
    invoice["_paid"] = money(float(invoice["_paid"]) + amount)
    remaining = max(float(invoice["total"]) - float(invoice["_paid"]), 0.0)
    invoice.update({"amountPaid": invoice["_paid"], "amountRemaining": money(remaining), "balance": money(remaining),
                    "status": "Paid In Full" if remaining <= 0.005 else "Open"})


def _void(payment: dict, invoice: dict, stamp: int) -> None:
    """A direct void (accounting.void): the payment and its lines zeroed, kept, its invoice open again."""
    _book_on_invoice(invoice, -float(payment["payment"]))
    for field in ("payment", "total", "applied", "unapplied"):
        payment[field] = "0.0"
    payment["applyList"]["apply"][0]["amount"] = "0.0"
    payment.update({"memo": "VOID", "status": "Voided", "_voided": "direct", "lastModifiedDate": stamp})


def _payment_stamps(count: int, *, first_day_ms: int, days: int, rng: random.Random) -> list[int]:
    """`count` moments spread evenly over `days` days from `first_day_ms`, each at a random second of the day's
    office hours: ordered, to the second like NetSuite's lastModifiedDate, so some share a second."""
    stamps = []
    for day in range(days):
        on_day = count * (day + 1) // days - count * day // days
        seconds = sorted(rng.randrange(OFFICE_HOURS_S) for _ in range(on_day))
        stamps += [first_day_ms + day * DAY_MS + OFFICE_OPENS_MS + second * 1000 for second in seconds]
    return stamps


def seed(store: Store, *, customers: int, sales_orders: int = 0, payments: int = 0, payment_days: int = 365,
         random_seed: int = 1, customer_external_ids: list[str] | None = None,
         order_external_ids: list[str] | None = None, reversals_share: float = 0.0) -> dict:
    """Customers, sales orders (order n belongs to customer n mod customers), each order billed by one invoice, and
    customer payments applied to the invoices in turn, dated over `payment_days` days after the last order (history
    for a backfill).

    `reversals_share` of the payments are undone later the same day, half of them voided (directly: kept, zeroed,
    their invoice open again) and half deleted (gone, in the deleted-record list), as ACH returns and payments
    entered by mistake are.

    The external ids default to SEED-CUST-n and SEED-APP-n; a benchmark passes the ids of the Salesforce records
    the hub would have pushed them from."""
    if payments and not (sales_orders and customers):
        raise ValueError("payments are applied to the sales orders' invoices: seed some sales orders too")
    if not 0.0 <= reversals_share <= 1.0:
        raise ValueError("reversals_share is a share of the payments, between 0 and 1")
    for given, count, what in ((customer_external_ids, customers, "customer"),
                               (order_external_ids, sales_orders, "order")):
        if given is not None and len(given) != count:
            raise ValueError(f"{len(given)} {what} external ids for {count} records")
    rng = random.Random(random_seed)
    with store.write() as connection:
        first_customer = Store.next_internal_id(connection, "entities", customers)
        rows = []
        names = []
        for n in range(customers):
            internal_id = first_customer + n
            stamp = BASE_MS + n * STEP_MS
            body = _customer(internal_id, n, stamp)
            if customer_external_ids is not None:
                body["externalId"] = customer_external_ids[n]
            names.append(body["companyName"])
            rows.append((internal_id, "customer", body["externalId"], stamp, stamp, None, None,
                         json.dumps(body, separators=(",", ":"))))
        connection.executemany("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        orders = []
        if sales_orders and customers:
            first_order = Store.next_internal_id(connection, "transactions", sales_orders)
            first_number = Store.next_value(connection, "tran_salesOrder", FIRST_TRAN_NUMBER, sales_orders)
            for n in range(sales_orders):
                internal_id, customer = first_order + n, n % customers
                stamp = BASE_MS + n * STEP_MS + STEP_MS // 2
                body = _sales_order(internal_id, n, first_number + n, first_customer + customer, names[customer], stamp)
                if order_external_ids is not None:
                    body["externalId"] = order_external_ids[n]
                orders.append(body)
        invoices = []
        if orders and payments:
            first_invoice = Store.next_internal_id(connection, "transactions", len(orders))
            first_number = Store.next_value(connection, "tran_invoice", FIRST_TRAN_NUMBER, len(orders))
            invoices = [_invoice(first_invoice + n, first_number + n, order, order["lastModifiedDate"] + STEP_MS // 4)
                        for n, order in enumerate(orders)]
        by_order = {invoice["createdFrom"]["internalId"]: invoice for invoice in invoices}
        rows = []
        deleted = []
        voided = deleted_count = 0
        if payments:
            first_payment = Store.next_internal_id(connection, "transactions", payments)
            first_number = Store.next_value(connection, "tran_customerPayment", FIRST_TRAN_NUMBER, payments)
            first_day_ms = (orders[-1]["lastModifiedDate"] // DAY_MS + 1) * DAY_MS
            stamps = _payment_stamps(payments, first_day_ms=first_day_ms, days=payment_days, rng=rng)
            # Each order gets its share of the payments, every payment a part of what the order still owes.
            rounds = -(-payments // len(orders))
            turn = []
            for n in range(payments):
                if not turn:
                    turn = rng.sample(orders, len(orders))
                order = turn.pop()
                amount = max(0.01, round(float(order["total"]) * rng.uniform(0.5, 0.95) / (rounds + 1), 2))
                method = rng.choices([m for m, _ in PAYMENT_METHODS], [w for _, w in PAYMENT_METHODS])[0]
                invoice = by_order[order["internalId"]]
                body = _payment(first_payment + n, first_number + n, invoice, amount, method, stamps[n])
                modified = stamps[n]
                if reversals_share and rng.random() < reversals_share:
                    undone_at = stamps[n] + rng.randrange(60, 3600) * 1000
                    if rng.random() < 0.5:
                        _void(body, invoice, undone_at)
                        modified = undone_at
                        voided += 1
                    else:
                        _book_on_invoice(invoice, -amount)
                        deleted.append((first_payment + n, "customerPayment", None, f"Payment #{body['tranId']}",
                                        undone_at))
                        deleted_count += 1
                        continue
                rows.append((first_payment + n, "customerPayment", None, modified, stamps[n], body["tranId"],
                             int(order["entity"]["internalId"]), json.dumps(body, separators=(",", ":"))))
        # The orders are written after the payments, with what the payments paid of them.
        rows = [(int(order["internalId"]), "salesOrder", order["externalId"], order["lastModifiedDate"],
                 order["createdDate"], order["tranId"], int(order["entity"]["internalId"]),
                 json.dumps(order, separators=(",", ":"))) for order in orders] + [
            (int(invoice["internalId"]), "invoice", None, invoice["lastModifiedDate"], invoice["createdDate"],
             invoice["tranId"], int(invoice["entity"]["internalId"]), json.dumps(invoice, separators=(",", ":")))
            for invoice in invoices] + rows
        connection.executemany("INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        connection.executemany("INSERT INTO deleted_records VALUES (?, ?, ?, ?, ?)", deleted)
    return {"customers": customers, "sales_orders": sales_orders, "invoices": len(invoices),
            "payments": payments - deleted_count, "voided": voided, "deleted": deleted_count}
