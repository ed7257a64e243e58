"""The SuiteTalk operations beside add/get/search that the money records need: initialize, delete and deleteList,
getDeleted and getAll, as a part of operations.NetSuiteApp. Also the deletes and voids both transports and the
/_sandbox/ controls share.

References (docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/):
- initialize: section_N3508536.html (an invoice initialized from a sales order proposes its unbilled lines);
- delete / deleteList: "delete", "deleteList" (deleteList at most 200 records);
- getDeleted: section_N3497592.html (filter by type and deleted date; each deleted record's type, name, internal id,
  external id and deleted date), paged by pageIndex;
- getAll: section_N3489077.html (only the types of GetAllRecordType; the sandbox keeps currencies of those).
"""
from __future__ import annotations

import math

from . import accounting, records
from .envelope import ACCOUNTING_NS, core, msg
from .records import KINDS, Writer
from .schema import XSI_TYPE_KEY
from .store import Store

DELETE_LIST_LIMIT = 200
GET_DELETED_PAGE_SIZE = 1000
RECORD_REF = core("RecordRef")
CURRENCY_TYPE = f"{{{ACCOUNTING_NS}}}Currency"
# InitializeRecord type → (the reference types it may be made from, how)
INITIALIZERS = {
    ("invoice", "salesOrder"): accounting.invoice_from_order,
    ("creditMemo", "invoice"): accounting.credit_memo_from_invoice,
    ("depositApplication", "customerDeposit"): accounting.application_from_deposit,
}


def _status_ok() -> dict:
    return {"isSuccess": "true"}


def _status_error(code: str, message: str) -> dict:
    return {"isSuccess": "false", "statusDetail": [{"type": "ERROR", "code": code, "message": message}]}


def delete_record(connection, kind, record, stamp: int) -> None:
    """Delete a record NetSuite would let go, remembering it in the deleted-record list; undo what it had booked."""
    if kind.family == "items":
        raise accounting.AccountingError("INSUFFICIENT_PERMISSION", "The sandbox keeps a fixed list of items.")
    if accounting.dependants(connection, record, kind.family):
        code = "CANT_DELETE_TRANS" if kind.family == "transactions" else "CANT_DELETE_CHILD_RCRDS_EXIST"
        raise accounting.AccountingError(code, "This record cannot be deleted because it has dependent records: "
                                         "other transactions are applied to it or created from it.")
    before = accounting.consumption(record.type, record.body) if kind.type in accounting.MONEY_TYPES else {}
    Store.delete(connection, kind.family, record, records.entity_name(record.type, record.body), stamp)
    accounting.rebook(connection, before, {}, stamp)


def void_record(store: Store, record_type: str, internal_id: str, mode: str) -> dict:
    """POST /_sandbox/void: void a transaction as NetSuite's UI or SuiteScript would (neither SOAP 2023_2 nor REST
    has a void operation)."""
    kind = KINDS.get(record_type)
    if kind is None or kind.family != "transactions":
        raise accounting.AccountingError("INVALID_RCRD_TYPE", f"The record type {record_type} is not voidable.")
    with store.write() as connection:
        writer = Writer(connection, booking_reversal=True)
        record = writer.find(kind, str(internal_id), None)
        if record is None:
            raise accounting.AccountingError("RCRD_DSNT_EXIST", "That record does not exist.")

        def journal(body: dict):
            return writer.write("add", KINDS["journalEntry"], body)

        return accounting.void(connection, record, mode, records.now_ms(), journal)


def bill_order(store: Store, sales_order_id: str, amount: float | None) -> dict:
    """POST /_sandbox/bill: an invoice created from the order, for all its unbilled amount or `amount` of it."""
    from .payments import bill
    with store.write() as connection:
        writer = Writer(connection)
        order = writer.find(KINDS["salesOrder"], str(sales_order_id), None)
        if order is None:
            raise accounting.AccountingError("RCRD_DSNT_EXIST", "That sales order does not exist.")
        invoice = bill(writer, order, amount)
    return {"internalId": str(invoice.internal_id), "tranId": invoice.tran_id,
            "total": float(invoice.body["total"]), "salesOrder": str(order.internal_id)}


class MoneyOperations:
    """Mixed into operations.NetSuiteApp (self.store, self.codec, self._refs, self._check_count come from there)."""

    # -- initialize --------------------------------------------------------------------------------------------------
    def op_initialize(self, request):
        element = request.body.find(msg("initializeRecord"))
        wanted = self.codec.decode(element, core("InitializeRecord"))
        return "initializeResponse", {"readResponse": self._initialize(wanted)}, 1

    def _initialize(self, wanted: dict) -> dict:
        target, reference = wanted.get("type"), wanted.get("reference") or {}
        make = INITIALIZERS.get((target, reference.get("type")))
        if make is None:
            return {"status": _status_error("INVALID_INITIALIZE_REF", f"The sandbox cannot initialize a {target} "
                                            f"from a {reference.get('type')}.")}
        with self.store.read() as connection:
            source = Writer(connection).find(KINDS[reference["type"]], reference.get("internalId"),
                                             reference.get("externalId"))
        if source is None:
            return {"status": _status_error("INVALID_INITIALIZE_REF", "That record does not exist.")}
        proposed = make(source)
        if target == "invoice" and not proposed["itemList"]["item"]:
            return {"status": _status_error("INVALID_REF_CANT_INITIALIZE", f"Sales Order #{source.tran_id} has "
                                            "nothing left to bill.")}
        proposed[XSI_TYPE_KEY] = KINDS[target].xsd_type
        for number_, line in enumerate((proposed.get("itemList") or {}).get("item") or [], start=1):
            line["line"] = str(number_)
        return {"status": _status_ok(), "record": proposed}

    # -- delete ------------------------------------------------------------------------------------------------------
    def op_delete(self, request):
        refs = self._refs(request)
        return "deleteResponse", {"writeResponse": self._delete_all(refs)[0]}, 1

    def op_deleteList(self, request):
        refs = self._refs(request)
        if len(refs) > DELETE_LIST_LIMIT:
            from . import faults
            raise faults.record_count_exceeded("deleteList", DELETE_LIST_LIMIT, len(refs))
        responses = self._delete_all(refs)
        return "deleteListResponse", {"writeResponseList": {"status": _status_ok(), "writeResponse": responses}}, len(refs)

    def _delete_all(self, refs: list[dict]) -> list[dict]:
        responses = []
        with self.store.write() as connection:
            writer = Writer(connection)
            for ref in refs:
                base_ref = {XSI_TYPE_KEY: RECORD_REF, "internalId": ref.get("internalId"),
                            "externalId": ref.get("externalId"), "type": ref.get("type")}
                kind = KINDS.get(ref.get("type") or "")
                if kind is None:
                    responses.append({"status": _status_error("INVALID_RCRD_TYPE", f"The sandbox does not keep "
                                                              f"{ref.get('type')} records."), "baseRef": base_ref})
                    continue
                record = writer.find(kind, ref.get("internalId"), ref.get("externalId"))
                if record is None:
                    responses.append({"status": _status_error("RCRD_DSNT_EXIST", "That record does not exist."),
                                      "baseRef": base_ref})
                    continue
                connection.execute("SAVEPOINT record")
                try:
                    delete_record(connection, kind, record, records.now_ms())
                except accounting.AccountingError as error:
                    connection.execute("ROLLBACK TO record")
                    connection.execute("RELEASE record")
                    responses.append({"status": _status_error(error.code, error.message), "baseRef": base_ref})
                    continue
                connection.execute("RELEASE record")
                base_ref.update({"internalId": str(record.internal_id), "externalId": record.external_id})
                responses.append({"status": _status_ok(), "baseRef": base_ref})
        return responses

    # -- getDeleted --------------------------------------------------------------------------------------------------
    def op_getDeleted(self, request):
        element = request.body.find(msg("getDeletedFilter"))
        wanted = self.codec.decode(element, core("GetDeletedFilter")) if element is not None else {}
        page_index = int(request.body.findtext(msg("pageIndex")) or 1)
        clauses, params = ["1"], []
        date = wanted.get("deletedDate")
        if date:
            from .search import SearchError, _date_clause
            from zoneinfo import ZoneInfo
            try:
                clause, extra = _date_clause("deleted_ms", date.get("operator"),
                                             [date.get("searchValue"), date.get("searchValue2")], ZoneInfo(str(self.zone)))
            except SearchError as error:
                return self._get_deleted_error(error.code, error.message)
            clauses.append(clause)
            params += extra
        types = wanted.get("type")
        if types:
            values = [v for v in types.get("searchValue", [])]
            marks = ",".join("?" * len(values)) or "NULL"
            clauses.append(f"type {'NOT ' if types.get('operator') == 'noneOf' else ''}IN ({marks})")
            params += values
        where = " AND ".join(clauses)
        with self.store.read() as connection:
            total = connection.execute(f"SELECT COUNT(*) FROM deleted_records WHERE {where}", params).fetchone()[0]
            rows = connection.execute(
                f"SELECT internal_id, type, external_id, name, deleted_ms FROM deleted_records WHERE {where} "
                "ORDER BY deleted_ms, internal_id LIMIT ? OFFSET ?",
                params + [GET_DELETED_PAGE_SIZE, (max(page_index, 1) - 1) * GET_DELETED_PAGE_SIZE]).fetchall()
        pages = math.ceil(total / GET_DELETED_PAGE_SIZE)
        if page_index < 1 or (page_index > pages and not (total == 0 and page_index == 1)):
            return self._get_deleted_error("INVALID_PAGE_INDEX", f"Page {page_index} is out of range; there are "
                                           f"{pages} page(s).")
        deleted = [{"deletedDate": row[4],
                    "record": {XSI_TYPE_KEY: RECORD_REF, "internalId": str(row[0]), "externalId": row[2],
                               "type": row[1], "name": row[3]}} for row in rows]
        result = {"status": _status_ok(), "totalRecords": str(total), "pageSize": str(GET_DELETED_PAGE_SIZE),
                  "totalPages": str(pages), "pageIndex": str(page_index),
                  "deletedRecordList": {"deletedRecord": deleted}}
        return "getDeletedResponse", {"getDeletedResult": result}, len(deleted)

    @staticmethod
    def _get_deleted_error(code: str, message: str):
        return "getDeletedResponse", {"getDeletedResult": {"status": _status_error(code, message)}}, 0

    # -- getAll ------------------------------------------------------------------------------------------------------
    def op_getAll(self, request):
        element = request.body.find(msg("record"))
        record_type = (element.get("recordType") or "").strip() if element is not None else ""
        if record_type != "currency":
            result = {"status": _status_error("INVALID_RCRD_TYPE", f"The sandbox keeps no {record_type} records "
                                              "(of the getAll types it keeps currencies).")}
            return "getAllResponse", {"getAllResult": result}, 0
        currencies = [{XSI_TYPE_KEY: CURRENCY_TYPE, "internalId": c["internalId"], "name": c["name"],
                       "symbol": c.get("symbol", c["name"]), "isBaseCurrency": c.get("isBaseCurrency", "false"),
                       "isInactive": "false", "exchangeRate": c.get("exchangeRate", "1.0")}
                      for c in accounting_currencies()]
        result = {"status": _status_ok(), "totalRecords": str(len(currencies)),
                  "recordList": {"record": currencies}}
        return "getAllResponse", {"getAllResult": result}, len(currencies)


def accounting_currencies() -> list[dict]:
    """The account's currencies (chart.py): a subsidiary's currency is a base currency."""
    from . import chart

    bases = {currency for _, currency, _ in chart.SUBSIDIARIES.values()}
    return [{**chart.currency_ref(key), "symbol": code, "isBaseCurrency": "true" if key in bases else "false"}
            for key, (code, _) in chart.CURRENCIES.items()]


# -- the demo's other money events (/_sandbox/ controls), each as a clerk would enter it -----------------------------
def deposit_for_order(store: Store, sales_order_id: str | None, amount: float | None) -> dict:
    """POST /_sandbox/deposit: a customer deposit received for an order (the newest one with nothing billed when
    none is named), for `amount` or a tenth of the order."""
    with store.write() as connection:
        writer = Writer(connection)
        if sales_order_id:
            order = writer.find(KINDS["salesOrder"], str(sales_order_id), None)
        else:
            row = connection.execute(
                "SELECT internal_id FROM transactions WHERE type = 'salesOrder' AND json_extract(body, '$.orderStatus') "
                "IN ('_pendingApproval', '_pendingFulfillment') ORDER BY internal_id DESC LIMIT 1").fetchone()
            order = Store.get(connection, "transactions", row[0]) if row else None
        if order is None:
            raise accounting.AccountingError("RCRD_DSNT_EXIST", "No sales order to take a deposit for.")
        value = amount if amount is not None else round(float(order.body.get("total") or 0) / 10, 2)
        deposit = writer.write("add", KINDS["customerDeposit"], {
            "customer": {"internalId": str(order.parent_id)}, "salesOrder": {"internalId": str(order.internal_id)},
            "payment": records.money(value), "memo": f"Deposit for {order.tran_id}"})
    return {"internalId": str(deposit.internal_id), "tranId": deposit.tran_id, "total": value,
            "salesOrder": str(order.internal_id)}


def unapplied_payment(store: Store, customer_id: str | None, amount: float) -> dict:
    """POST /_sandbox/unapplied: a payment received but applied to nothing (a remittance nobody could match), from
    `customer` or the customer of the newest order."""
    with store.write() as connection:
        writer = Writer(connection)
        if not customer_id:
            row = connection.execute("SELECT parent_id FROM transactions WHERE type = 'salesOrder' "
                                     "ORDER BY internal_id DESC LIMIT 1").fetchone()
            if row is None:
                raise accounting.AccountingError("RCRD_DSNT_EXIST", "No customer with an order to take a payment from.")
            customer_id = str(row[0])
        payment = writer.write("add", KINDS["customerPayment"], {
            "customer": {"internalId": str(customer_id)}, "payment": records.money(amount),
            "memo": "Remittance without a reference"})
    return {"internalId": str(payment.internal_id), "tranId": payment.tran_id, "total": amount,
            "customer": str(customer_id)}


def refund(store: Store, record_type: str, internal_id: str, amount: float | None) -> dict:
    """POST /_sandbox/refund: a customer refund of a payment's or credit memo's unapplied credit, or of a deposit's
    remaining amount (all of it without `amount`)."""
    with store.write() as connection:
        writer = Writer(connection)
        kind = KINDS.get(record_type)
        if kind is None or record_type not in ("customerPayment", "creditMemo", "customerDeposit"):
            raise accounting.AccountingError("INVALID_RCRD_TYPE", f"A refund gives back a payment's, credit memo's or "
                                             f"deposit's money, not a {record_type}'s.")
        credit = writer.find(kind, str(internal_id), None)
        if credit is None:
            raise accounting.AccountingError("RCRD_DSNT_EXIST", "That record does not exist.")
        left = (accounting.deposit_remaining(credit.body) if record_type == "customerDeposit"
                else accounting.credit_remaining(credit))
        value = round(amount if amount is not None else left, 2)
        line = {"apply": "true", "doc": str(credit.internal_id), "amount": records.money(value)}
        sublist = ({"depositList": {"customerRefundDeposit": [line]}} if record_type == "customerDeposit"
                   else {"applyList": {"apply": [line]}})
        made = writer.write("add", KINDS["customerRefund"], {"customer": {"internalId": str(credit.parent_id)},
                                                             "memo": f"Refund of {credit.tran_id}", **sublist})
    return {"internalId": str(made.internal_id), "tranId": made.tran_id, "total": value}


def delete_by_control(store: Store, record_type: str, internal_id: str) -> dict:
    """POST /_sandbox/delete: delete a record as a user would (refused when another depends on it)."""
    kind = KINDS.get(record_type)
    if kind is None:
        raise accounting.AccountingError("INVALID_RCRD_TYPE", f"The sandbox does not keep {record_type} records.")
    with store.write() as connection:
        record = Writer(connection).find(kind, str(internal_id), None)
        if record is None:
            raise accounting.AccountingError("RCRD_DSNT_EXIST", "That record does not exist.")
        delete_record(connection, kind, record, records.now_ms())
    return {"type": record_type, "internalId": str(internal_id), "deleted": True}
