"""In-memory NetSuite and Salesforce for the money logic's fast tests.

FakeNetSuite follows the contract of issue #16 (the NetSuite half's interface): records are plain dicts with
`internalId`, `tranId`, `lastModifiedDate` (aware, the account's zone), `customer`, `total`, `voided`, `status`,
`currency`, `applyList` (applied lines only), `salesOrder` on a deposit, `createdFrom` on an invoice and a credit
memo; `transactions_created_from` and `deleted_since` as declared there. A direct void zeroes the total and every
line (the lines leave the apply list). Internal ids are unique within the transactions group.

FakeSalesforce holds Remittance__c and Opportunity records, upserts by external id and answers the few queries the
remittance pull and the reconciliation send (by object, `Id IN` / `Application__c IN` / `StageName =`).
"""
from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from syncs.clients.netsuite import SearchPage

ACCOUNT_ZONE = ZoneInfo("America/Los_Angeles")


class FakeNetSuite:
    idempotent_batches = False

    def __init__(self):
        self.records: dict[str, dict[str, dict]] = {}
        self.deletions: list[dict] = []
        self.ids = itertools.count(5001)
        self.numbers = itertools.count(1)
        self.clock = datetime.now(ACCOUNT_ZONE).replace(microsecond=0) - timedelta(days=1)
        self.calls: list[str] = []

    # --- the books ------------------------------------------------------------------------------------------------
    def _stamp(self) -> datetime:
        self.clock += timedelta(seconds=1)
        return self.clock

    def _add(self, record_type: str, prefix: str, customer: str, total: float, **fields) -> dict:
        internal_id = str(next(self.ids))
        now = self._stamp()
        record = {"internalId": internal_id, "externalId": "", "tranId": f"{prefix}{next(self.numbers):05d}",
                  "tranDate": now, "createdDate": now, "lastModifiedDate": now, "memo": "",
                  "customer": {"internalId": customer, "name": f"Customer {customer}"}, "total": float(total),
                  "voided": False, "status": fields.pop("status", ""), "currency": {"internalId": "1", "name": "USD"},
                  **fields}
        self.records.setdefault(record_type, {})[internal_id] = record
        return record

    def sales_order(self, *, customer: str, external_id: str, total: float) -> dict:
        return self._add("salesOrder", "SO", customer, total, externalId=external_id, status="Pending Billing")

    def purchase_order(self, *, vendor: str, external_id: str, total: float) -> dict:
        return self._add("purchaseOrder", "PO", vendor, total, externalId=external_id, status="Pending Receipt")

    def invoice(self, *, order: dict, total: float) -> dict:
        return self._add("invoice", "INV", order["customer"]["internalId"], total, status="Open",
                         createdFrom={"internalId": order["internalId"], "type": "salesOrder"})

    def payment(self, *, customer: str, total: float, applies=(), method: str = "ACH") -> dict:
        lines = [{"doc": invoice["internalId"], "type": "invoice", "amount": float(amount), "apply": True}
                 for invoice, amount in applies]
        applied = sum(amount for _, amount in applies)
        return self._add("customerPayment", "PYMT", customer, total, payment=float(total), applied=float(applied),
                         unapplied=float(total - applied), status="Deposited",
                         paymentMethod={"internalId": "1", "name": method}, applyList={"apply": lines})

    def deposit(self, *, order: dict, total: float) -> dict:
        return self._add("customerDeposit", "DEP", order["customer"]["internalId"], total, payment=float(total),
                         salesOrder={"internalId": order["internalId"]}, status="Not Deposited",
                         paymentMethod={"internalId": "2", "name": "Wire"})

    def deposit_application(self, *, deposit: dict, invoice: dict, amount: float) -> dict:
        return self._add("depositApplication", "DEPAPP", deposit["customer"]["internalId"], amount,
                         applied=float(amount), deposit={"internalId": deposit["internalId"]},
                         applyList={"apply": [{"doc": invoice["internalId"], "type": "invoice", "amount": float(amount),
                                               "apply": True}]})

    def credit_memo(self, *, invoice: dict, total: float) -> dict:
        return self._add("creditMemo", "CM", invoice["customer"]["internalId"], total, status="Open",
                         createdFrom={"internalId": invoice["internalId"], "type": "invoice"},
                         applied=0.0, unapplied=float(total), applyList={"apply": []})

    def refund(self, *, customer: str, lines) -> dict:
        apply = [{"doc": record["internalId"], "type": record_type, "amount": float(amount), "apply": True}
                 for record_type, record, amount in lines]
        return self._add("customerRefund", "RFND", customer, sum(amount for _, _, amount in lines),
                         applyList={"apply": apply}, status="")

    def find(self, internal_id: str) -> tuple[str, dict]:
        for record_type, records in self.records.items():
            if internal_id in records:
                return record_type, records[internal_id]
        raise KeyError(internal_id)

    def void(self, internal_id: str, *, mode: str = "direct") -> None:
        _, record = self.find(internal_id)
        record["voided"] = True
        record["status"] = "Voided"
        if mode == "direct":
            record["total"] = record["payment"] = 0.0
            record["applied"] = record["unapplied"] = 0.0
            record["applyList"] = {"apply": []}
        record["lastModifiedDate"] = self._stamp()

    def change(self, internal_id: str, **fields) -> None:
        _, record = self.find(internal_id)
        record.update(fields)
        record["lastModifiedDate"] = self._stamp()

    def delete(self, internal_id: str) -> None:
        record_type, record = self.find(internal_id)
        del self.records[record_type][internal_id]
        self.deletions.append({"internalId": internal_id, "type": record_type, "deletedDate": self._stamp(),
                               "name": record["tranId"]})

    # --- the client interface -------------------------------------------------------------------------------------
    def server_time(self) -> datetime:
        return self._stamp()

    def transaction_pages(self, *, transaction_type, modified_since, created_since=None, page_size=1000,
                          body_fields_only=True, resume_after=None, hold=None, retrying=lambda read: read(),
                          pages_at_once=2):
        self.calls.append(f"transaction_pages:{transaction_type}")
        records = sorted((r for r in self.records.get(transaction_type, {}).values()
                          if modified_since is None or r["lastModifiedDate"] >= modified_since),
                         key=lambda r: (r["lastModifiedDate"], int(r["internalId"])))
        pages = [records[i:i + page_size] for i in range(0, len(records), page_size)] or [[]]
        for number, page in enumerate(pages, start=1):
            copies = [_copy(r, body_fields_only) for r in page]
            last = page[-1] if page else None
            yield SearchPage(records=copies, page_index=number, total_pages=len(pages), total_records=len(records),
                             resume_after=(last["lastModifiedDate"], f"modified:{last['internalId']}") if last else None)

    def transactions_created_from(self, record_type, internal_ids, *, hold=None):
        self.calls.append(f"transactions_created_from:{len(internal_ids)}")
        found = {}
        for internal_id in internal_ids:
            record = self.records.get(record_type, {}).get(str(internal_id))
            if record and record.get("createdFrom"):
                found[str(internal_id)] = record["createdFrom"]["internalId"]
        return found

    def deleted_since(self, record_types, since, *, hold=None):
        self.calls.append("deleted_since")
        return [dict(d) for d in self.deletions if d["type"] in record_types and (since is None or d["deletedDate"] >= since)]

    def external_ids(self, record_type):
        return [r["externalId"] for r in self.records.get(record_type, {}).values()]


def _copy(record: dict, body_fields_only: bool) -> dict:
    copy = {k: (dict(v) if isinstance(v, dict) else v) for k, v in record.items()}
    if "applyList" in record:
        copy["applyList"] = {"apply": [dict(line) for line in record["applyList"]["apply"]]}
        if body_fields_only:
            copy.pop("applyList")
    return copy


class FakeSalesforce:
    api_usage = None
    api_usage_seen = None

    def __init__(self):
        self.objects: dict[str, dict[str, dict]] = {"Remittance__c": {}, "Opportunity": {}, "OpportunityLineItem": {}}
        self.ids = itertools.count(1)
        self.writes = 0

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self.ids):015d}"

    def fee_line(self, application: dict, total: float) -> dict:
        record = {"Id": self.new_id("00k"), "OpportunityId": application["Id"], "TotalPrice": float(total)}
        self.objects["OpportunityLineItem"][record["Id"]] = record
        return record

    def application(self, **fields) -> dict:
        record = {"Id": self.new_id("006"), "Name": f"APP-{len(self.objects['Opportunity']) + 1}", "StageName": "Funded",
                  "Total_Remitted__c": None, "Total_Credited__c": None, "Remittance_Balance__c": None, **fields}
        self.objects["Opportunity"][record["Id"]] = record
        return record

    def describe_fields(self, object_name):
        return {}

    def upsert_collection(self, object_name, external_id_field, records):
        results = []
        table = self.objects.setdefault(object_name, {})
        for record in records:
            self.writes += 1
            key = record[external_id_field]
            existing = next((r for r in table.values() if r.get(external_id_field) == key), None)
            if existing is None:
                existing = {"Id": self.new_id("a01")}
                table[existing["Id"]] = existing
                created = True
            else:
                created = False
            existing.update(record)
            results.append({"success": True, "id": existing["Id"], "created": created, "errors": []})
        return results

    def update_collection(self, object_name, records):
        results = []
        for record in records:
            self.writes += 1
            self.objects[object_name][record["Id"]].update(record)
            results.append({"success": True, "id": record["Id"], "errors": []})
        return results

    def query_all(self, soql, **kwargs):
        object_name = re.search(r"\bFROM (\w+)", soql).group(1)
        rows = list(self.objects.get(object_name, {}).values())
        for field in ("Id", "Application__c", "OpportunityId", "StageName"):
            match = re.search(rf"\b{field} IN \(([^)]*)\)", soql)
            if match:
                ids = {value.strip().strip("'") for value in match.group(1).split(",")}
                rows = [r for r in rows if r.get(field) in ids]
        stage = re.search(r"StageName = '([^']*)'", soql)
        if stage:
            rows = [r for r in rows if r.get("StageName") == stage.group(1)]
        return [dict(r) for r in rows]

    def remittances(self) -> dict[str, dict]:
        return {r["NetSuite_Payment_Id__c"]: r for r in self.objects["Remittance__c"].values()}
