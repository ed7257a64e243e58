"""Bulk, deterministic records for benchmarks and demos, written straight to storage.

Going through SOAP would take minutes for 100,000 records; the bodies built here have the same
shape the write path stores (see records.Writer), so searches cannot tell the difference.
"""
from __future__ import annotations

import json

from .records import CURRENCY, SUBSIDIARY, money
from .store import FIRST_INTERNAL_ID, FIRST_TRAN_NUMBER, Store

BASE_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z: fixed, so two seeds of the same size are identical
STEP_MS = 30_000


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


def seed(store: Store, *, customers: int, sales_orders: int = 0) -> dict:
    with store.write() as connection:
        first_customer = Store.next_value(connection, "internal_id", FIRST_INTERNAL_ID, customers)
        rows = []
        names = []
        for n in range(customers):
            internal_id = first_customer + n
            stamp = BASE_MS + n * STEP_MS
            body = _customer(internal_id, n, stamp)
            names.append(body["companyName"])
            rows.append((internal_id, "customer", body["externalId"], stamp, stamp, None, None,
                         json.dumps(body, separators=(",", ":"))))
        connection.executemany("INSERT INTO entities VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        rows = []
        if sales_orders and customers:
            first_order = Store.next_value(connection, "internal_id", FIRST_INTERNAL_ID, sales_orders)
            first_number = Store.next_value(connection, "tran_salesOrder", FIRST_TRAN_NUMBER, sales_orders)
            for n in range(sales_orders):
                internal_id, customer = first_order + n, n % customers
                stamp = BASE_MS + n * STEP_MS + STEP_MS // 2
                body = _sales_order(internal_id, n, first_number + n, first_customer + customer, names[customer], stamp)
                rows.append((internal_id, "salesOrder", body["externalId"], stamp, stamp, body["tranId"],
                             first_customer + customer, json.dumps(body, separators=(",", ":"))))
            connection.executemany("INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return {"customers": customers, "sales_orders": sales_orders}
