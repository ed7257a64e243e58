"""The money records as the hub reads them, whatever the transport: NetSuite's invoices, customer payments,
deposits, deposit applications, credit memos, refunds and journal entries, normalised to one shape (interface.py,
`transaction_pages`): who the customer is, what the record books now (`total`), whether it is voided, and what it
applies to.

SOAP names the customer `customer` on payments, deposits and refunds but `entity` on invoices and credit memos, and
the amount `payment` on payments and deposits, `total` on invoices, credit memos and refunds, `applied` on deposit
applications; REST's SuiteQL gives it as columns and the links between transactions as a table (rest_reads). Neither
has a "voided" field on SOAP: a void reads as the status "Voided", and a void by reversing journal as the refund's
`voidJournal` (SuiteQL: transaction.voided).
"""
from __future__ import annotations

MONEY_TYPES = ("invoice", "customerPayment", "customerDeposit", "depositApplication", "creditMemo", "customerRefund",
               "journalEntry")
# TransactionSearchBasic's type values, where they are not "_" + the record type.
SEARCH_TYPES = {"journalEntry": "_journal"}
# What an apply line's `type` label names, as a record type.
LINE_TYPES = {"Invoice": "invoice", "Payment": "customerPayment", "Credit Memo": "creditMemo", "Journal": "journalEntry",
              "Customer Deposit": "customerDeposit", "Deposit": "customerDeposit", "Cash Sale": "cashSale"}
AMOUNT_FIELD = {"customerPayment": "payment", "customerDeposit": "payment", "depositApplication": "applied"}


def search_type(record_type: str) -> str:
    return SEARCH_TYPES.get(record_type, f"_{record_type}")


def _ref(value) -> dict | None:
    if not isinstance(value, dict) or not value.get("internalId"):
        return None
    return {"internalId": str(value["internalId"]), "name": value.get("name")}


def _float(value) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _lines(value: dict | None, inner: str, default_type: str) -> list[dict]:
    lines = []
    for line in ((value or {}).get(inner) or []):
        if line.get("apply") in (True, "true") and line.get("doc") is not None:
            lines.append({"doc": str(line["doc"]), "type": LINE_TYPES.get(line.get("type") or "", default_type),
                          "amount": _float(line.get("amount")) or 0.0, "apply": True})
    return lines


def from_soap(record: dict, record_type: str, *, with_lines: bool = True) -> dict:
    """A SOAP search record (soap_xml's reader: zeep's values) with the normalised fields beside NetSuite's own.
    `with_lines`: the record was read with its sublists (bodyFieldsOnly false), so no applyList means none."""
    result = dict(record)
    status = record.get("status") or ""
    void_journal = _ref(record.get("voidJournal"))
    result.update({
        "internalId": str(record.get("internalId") or ""), "externalId": str(record.get("externalId") or ""),
        "customer": _ref(record.get("customer")) or _ref(record.get("entity")),
        "total": _float(record.get(AMOUNT_FIELD.get(record_type, "total"))) or 0.0,
        "voided": status == "Voided" or void_journal is not None,
        "status": status, "currency": _ref(record.get("currency")),
    })
    if record_type == "journalEntry":
        result["total"] = sum(_float(line.get("debit")) or 0.0 for line in (record.get("lineList") or {}).get("line") or [])
    if record_type in ("customerPayment", "customerDeposit", "customerRefund"):
        result["paymentMethod"] = _ref(record.get("paymentMethod"))
    if record_type in ("customerPayment", "creditMemo", "depositApplication"):
        result["applied"], result["unapplied"] = _float(record.get("applied")), _float(record.get("unapplied"))
    if record_type == "customerDeposit" and _ref(record.get("salesOrder")):
        result["salesOrder"] = {"internalId": _ref(record["salesOrder"])["internalId"]}
    if record_type in ("invoice", "creditMemo", "journalEntry") and _ref(record.get("createdFrom")):
        made_from = {"invoice": "salesOrder", "creditMemo": "invoice"}.get(record_type)
        result["createdFrom"] = {"internalId": _ref(record["createdFrom"])["internalId"],
                                 "type": made_from or (record["createdFrom"].get("type") or "")}
    if record_type == "depositApplication" and _ref(record.get("deposit")):
        result["deposit"] = {"internalId": _ref(record["deposit"])["internalId"]}
    if void_journal:
        result["voidJournal"] = {"internalId": void_journal["internalId"]}
    if with_lines or "applyList" in record or "depositList" in record:
        lines = _lines(record.get("applyList"), "apply", "invoice")
        if record_type == "customerRefund":
            lines += _lines(record.get("depositList"), "customerRefundDeposit", "customerDeposit")
        result["applyList"] = {"apply": lines}
    return result
