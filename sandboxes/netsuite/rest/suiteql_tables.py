"""The SuiteQL tables the sandbox answers, as SQL over the store's record tables.

Column names are those of the SuiteAnalytics (NetSuite2.com) data source that SuiteQL queries (the Records
Catalog, section_157909186990.html): lower case, references as the referenced record's internal id, booleans 'T'/'F'.
Dates are kept as epoch milliseconds inside the query, so they compare and sort as dates; suiteql formats them on
the way out. As in NetSuite, the lines of a sales order carry negative quantities and amounts on transactionline
(they credit revenue), purchase order lines positive ones, and the main line (id 0, mainline 'T') the total.
"""
from __future__ import annotations

from ..chart import SUITEQL_TABLES as SUITEQL_CHART_TABLES

DATE_COLUMNS = {"lastmodifieddate", "datecreated", "createddate", "trandate", "deleteddate", "linkdate",
                "linelastmodifieddate"}


def _text(path: str) -> str:
    return f"json_extract(body, '$.{path}')"


def _id(path: str) -> str:
    return f"CAST(json_extract(body, '$.{path}') AS INTEGER)"


def _flag(path: str) -> str:
    return f"CASE json_extract(body, '$.{path}') WHEN 'true' THEN 'T' ELSE 'F' END"


def _number(path: str) -> str:
    return f"CAST(json_extract(body, '$.{path}') AS REAL)"


def _select(columns: dict[str, str], source: str) -> str:
    return "SELECT " + ", ".join(f"{sql} AS {name}" for name, sql in columns.items()) + f" FROM {source}"


ENTITY = {
    "id": "internal_id", "externalid": "external_id", "entityid": _text("entityId"),
    "isinactive": _flag("isInactive"), "email": _text("email"), "phone": _text("phone"),
    "firstname": _text("firstName"), "lastname": _text("lastName"), "subsidiary": _id("subsidiary.internalId"),
    "datecreated": "created_ms", "lastmodifieddate": "last_modified_ms", "comments": _text("comments"),
}
CUSTOMER = {**ENTITY, "companyname": _text("companyName"), "isperson": _flag("isPerson"),
            "altname": f"COALESCE({_text('companyName')}, TRIM(COALESCE({_text('firstName')}, '') || ' ' || "
                       f"COALESCE({_text('lastName')}, '')))",
            "currency": _id("currency.internalId"), "terms": _id("terms.internalId")}
VENDOR = {**CUSTOMER, "legalname": _text("legalName"), "is1099eligible": _flag("is1099Eligible")}
CONTACT = {**ENTITY, "company": "parent_id", "title": _text("title"),
           "middlename": _text("middleName")}

SO_STATUS = {"_pendingApproval": "A", "_pendingFulfillment": "B", "_cancelled": "C", "_partiallyFulfilled": "D",
             "_pendingBillingPartFulfilled": "E", "_pendingBilling": "F", "_fullyBilled": "G", "_closed": "H"}
PO_STATUS = {"_pendingSupervisorApproval": "A", "_pendingReceipt": "B", "_rejectedBySupervisor": "C",
             "_partiallyReceived": "D", "_pendingBillingPartiallyReceived": "E", "_pendingBilling": "F",
             "_fullyBilled": "G", "_closed": "H"}
TYPE_CODES = {"salesOrder": "SalesOrd", "purchaseOrder": "PurchOrd", "customerPayment": "CustPymt",
              "invoice": "CustInvc", "customerDeposit": "CustDep", "depositApplication": "DepAppl",
              "creditMemo": "CustCred", "customerRefund": "CustRfnd", "journalEntry": "Journal"}


def _case(expression: str, mapping: dict[str, str]) -> str:
    return "CASE " + expression + " " + " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in mapping.items()) + " END"


# A payment's status letter follows its status text (records.py keeps "Not Deposited" until a deposit). The money
# records' letters as NetSuite lists them (CustInvc:A "Invoice : Open" ...); a voided transaction keeps the letter it
# had, and says it is voided in the `voided` column.
PAYMENT_STATUS = {"Unapproved Payment": "A", "Not Deposited": "B", "Deposited": "C"}
INVOICE_STATUS = {"Open": "A", "Paid In Full": "B"}
DEPOSIT_STATUS = {"Not Deposited": "A", "Deposited": "B", "Fully Applied": "C"}
CREDIT_STATUS = {"Open": "A", "Fully Applied": "B"}
_status = ("CASE type WHEN 'salesOrder' THEN " + _case(_text("orderStatus"), SO_STATUS)
           + " WHEN 'purchaseOrder' THEN " + _case(_text("orderStatus"), PO_STATUS)
           + " WHEN 'customerPayment' THEN COALESCE(" + _case(_text("status"), PAYMENT_STATUS) + ", 'B')"
           + " WHEN 'invoice' THEN COALESCE(" + _case(_text("status"), INVOICE_STATUS) + ", 'A')"
           + " WHEN 'customerDeposit' THEN COALESCE(" + _case(_text("status"), DEPOSIT_STATUS) + ", 'A')"
           + " WHEN 'creditMemo' THEN COALESCE(" + _case(_text("status"), CREDIT_STATUS) + ", 'A') END")
TRANSACTION = {
    "id": "internal_id", "externalid": "external_id", "tranid": "tran_id", "type": _case("type", TYPE_CODES),
    "recordtype": "lower(type)", "trandate": f"json_extract(body, '$.tranDate')", "entity": "parent_id",
    "memo": _text("memo"), "status": _status,
    # A journal entry's total is what it debits.
    "foreigntotal": f"CAST(COALESCE({_text('total')}, {_text('payment')}, (SELECT SUM(CAST(json_extract(l.value, "
                    f"'$.debit') AS REAL)) FROM json_each(body, '$.lineList.line') l)) AS REAL)", "currency": _id("currency.internalId"),
    "approvalstatus": _id("approvalStatus.internalId"), "otherrefnum": _text("otherRefNum"),
    "foreignpaymentamountused": f"CASE WHEN type IN ('customerPayment', 'creditMemo', 'depositApplication') "
                                f"THEN {_number('applied')} END",
    "foreignpaymentamountunused": f"CASE WHEN type IN ('customerPayment', 'creditMemo', 'depositApplication') "
                                  f"THEN {_number('unapplied')} END",
    # An invoice's paid and unpaid parts; a payment's or deposit's amount.
    "foreignamountpaid": f"CASE type WHEN 'invoice' THEN {_number('amountPaid')} END",
    "foreignamountunpaid": f"CASE type WHEN 'invoice' THEN {_number('amountRemaining')} END",
    "foreignpaymentamount": f"CASE WHEN type IN ('customerPayment', 'customerDeposit') THEN {_number('payment')} END",
    # 'T' once voided, whichever way (a direct void zeroes the amounts, a reversing journal keeps them).
    "voided": f"CASE WHEN {_text('_voided')} IS NOT NULL THEN 'T' ELSE 'F' END",
    "createdfrom": _id("createdFrom.internalId"),
    "reversal": _id("voidJournal.internalId"),
    "paymentmethod": _id("paymentMethod.internalId"),
    "createddate": "created_ms", "lastmodifieddate": "last_modified_ms",
}

_sign = "(CASE WHEN t.type IN ('salesOrder', 'invoice') THEN -1 ELSE 1 END)"
TRANSACTION_LINE = (
    "SELECT t.internal_id AS \"transaction\", 0 AS id, 0 AS linesequencenumber, 'T' AS mainline, 'F' AS taxline, "
    "t.parent_id AS entity, NULL AS item, NULL AS quantity, NULL AS rate, "
    "CAST(json_extract(t.body, '$.total') AS REAL) AS foreignamount, "
    "CAST(json_extract(t.body, '$.total') AS REAL) AS netamount, json_extract(t.body, '$.memo') AS memo, "
    "CAST(json_extract(t.body, '$.subsidiary.internalId') AS INTEGER) AS subsidiary, "
    "t.last_modified_ms AS linelastmodifieddate FROM transactions t "
    "UNION ALL "
    "SELECT t.internal_id, CAST(json_extract(l.value, '$.line') AS INTEGER), "
    "CAST(json_extract(l.value, '$.line') AS INTEGER), 'F', 'F', "
    "COALESCE(CAST(json_extract(l.value, '$.customer.internalId') AS INTEGER), t.parent_id), "
    "CAST(json_extract(l.value, '$.item.internalId') AS INTEGER), "
    f"{_sign} * CAST(json_extract(l.value, '$.quantity') AS REAL), CAST(json_extract(l.value, '$.rate') AS REAL), "
    f"{_sign} * CAST(json_extract(l.value, '$.amount') AS REAL), "
    f"{_sign} * CAST(json_extract(l.value, '$.amount') AS REAL), json_extract(l.value, '$.description'), "
    "CAST(json_extract(t.body, '$.subsidiary.internalId') AS INTEGER), t.last_modified_ms "
    "FROM transactions t, json_each(t.body, '$.itemList.item') l"
)

# Links between transactions: the earlier document is the previous one, the later the next. What a payment, a credit
# memo or a deposit application applies to (linktype Payment: the invoice is previous); what an invoice was billed
# from (OrdBill: the order) and a credit memo made from (the invoice); the order a deposit was received for (OrdDep);
# the deposit a deposit application applies (DepAppl); what a refund gives back (Refund: the payment, credit memo or
# deposit). Voided transactions keep their links, with the amounts a void left them.
_CODE = _case("{alias}.type", TYPE_CODES)
_link = ("SELECT {previous} AS previousdoc, t.internal_id AS nextdoc, {previous_type} AS previoustype, "
         + _CODE.format(alias="t") + " AS nexttype, '{linktype}' AS linktype, {amount} AS foreignamount, "
         "json_extract(t.body, '$.tranDate') AS linkdate{{lines}} FROM {source} WHERE {where}")
_LINK_PARTS = [
    _link.format(previous="CAST(json_extract(a.value, '$.doc') AS INTEGER)", previous_type="'CustInvc'",
                 linktype="Payment", amount="CAST(json_extract(a.value, '$.amount') AS REAL)",
                 source="transactions t, json_each(t.body, '$.applyList.apply') a",
                 where="t.type IN ('customerPayment', 'creditMemo', 'depositApplication') "
                       "AND json_extract(a.value, '$.apply') = 'true'"),
    _link.format(previous="CAST(json_extract(a.value, '$.doc') AS INTEGER)",
                 previous_type="CASE json_extract(a.value, '$.type') WHEN 'Credit Memo' THEN 'CustCred' "
                               "ELSE 'CustPymt' END",
                 linktype="Refund", amount="CAST(json_extract(a.value, '$.amount') AS REAL)",
                 source="transactions t, json_each(t.body, '$.applyList.apply') a",
                 where="t.type = 'customerRefund' AND json_extract(a.value, '$.apply') = 'true'"),
    _link.format(previous="CAST(json_extract(a.value, '$.doc') AS INTEGER)", previous_type="'CustDep'",
                 linktype="Refund", amount="CAST(json_extract(a.value, '$.amount') AS REAL)",
                 source="transactions t, json_each(t.body, '$.depositList.customerRefundDeposit') a",
                 where="t.type = 'customerRefund' AND json_extract(a.value, '$.apply') = 'true'"),
    _link.format(previous=_id("createdFrom.internalId").replace("body", "t.body"),
                 previous_type="CASE t.type WHEN 'invoice' THEN 'SalesOrd' ELSE 'CustInvc' END",
                 linktype="OrdBill", amount="CAST(json_extract(t.body, '$.total') AS REAL)", source="transactions t",
                 where="t.type IN ('invoice', 'creditMemo') AND json_extract(t.body, '$.createdFrom.internalId') "
                       "IS NOT NULL"),
    _link.format(previous=_id("salesOrder.internalId").replace("body", "t.body"), previous_type="'SalesOrd'",
                 linktype="OrdDep", amount="CAST(json_extract(t.body, '$.payment') AS REAL)", source="transactions t",
                 where="t.type = 'customerDeposit' AND json_extract(t.body, '$.salesOrder.internalId') IS NOT NULL"),
    _link.format(previous=_id("deposit.internalId").replace("body", "t.body"), previous_type="'CustDep'",
                 linktype="DepAppl", amount="CAST(json_extract(t.body, '$.applied') AS REAL)", source="transactions t",
                 where="t.type = 'depositApplication'"),
]
_LINKS = " UNION ALL ".join(_LINK_PARTS)
TRANSACTION_LINK = _LINKS.format(lines="")
TRANSACTION_LINE_LINK = _LINKS.format(lines=", 0 AS previousline, 0 AS nextline")

TABLES = {
    "customer": _select(CUSTOMER, "entities WHERE type = 'customer'"),
    "vendor": _select(VENDOR, "entities WHERE type = 'vendor'"),
    "contact": _select(CONTACT, "entities WHERE type = 'contact'"),
    "transaction": _select(TRANSACTION, "transactions"),
    "transactionline": TRANSACTION_LINE,
    "previoustransactionlink": TRANSACTION_LINK,
    "nexttransactionlink": TRANSACTION_LINK,
    "previoustransactionlinelink": TRANSACTION_LINE_LINK,
    "nexttransactionlinelink": TRANSACTION_LINE_LINK,
    "item": ("SELECT internal_id AS id, external_id AS externalid, json_extract(body, '$.itemId') AS itemid, "
             "json_extract(body, '$.displayName') AS displayname, "
             "CASE type WHEN 'serviceSaleItem' THEN 'Service' WHEN 'servicePurchaseItem' THEN 'Service' END "
             "AS itemtype, CASE json_extract(body, '$.isInactive') WHEN 'true' THEN 'T' ELSE 'F' END AS isinactive, "
             "created_ms AS createddate, last_modified_ms AS lastmodifieddate FROM items"),
    # The payment methods the account's payments use (the sandbox keeps no list of its own).
    "paymentmethod": ("SELECT DISTINCT CAST(json_extract(body, '$.paymentMethod.internalId') AS INTEGER) AS id, "
                      "json_extract(body, '$.paymentMethod.name') AS name, 'F' AS isinactive FROM transactions "
                      "WHERE json_extract(body, '$.paymentMethod.internalId') IS NOT NULL"),
    # The account's currencies: the sandbox keeps one, its base currency (records.CURRENCY).
    "currency": ("SELECT 1 AS id, 'USD' AS name, 'USD' AS symbol, 'T' AS isbasecurrency, 'F' AS isinactive, "
                 "1.0 AS exchangerate"),
    # Oracle's one-row table, for expressions without a record (SELECT SYSDATE FROM DUAL).
    "dual": "SELECT 'X' AS dummy",
    # Oracle's columns (recordid, recordtype, name, deleteddate, iscustomrecord, scriptid); the record type as the
    # record's REST/SuiteScript id, lower case (customerpayment), as the transaction table's recordtype column.
    "deletedrecord": ("SELECT internal_id AS recordid, lower(type) AS recordtype, name, deleted_ms AS deleteddate, "
                      "'F' AS iscustomrecord, NULL AS scriptid, external_id AS externalid FROM deleted_records"),
}

# The account's subsidiaries and currencies (chart.py).
TABLES.update(SUITEQL_CHART_TABLES)
