"""SuiteQL for the REST transport: the queries the hub asks, and their rows as the interface's record dicts, shaped
as the SOAP transport's search records are (the pull mappings read either).

A pull reads with a keyset cursor ordered by (lastmodifieddate, id), which SOAP searches cannot ask for: each page
starts after the last record of the one before, so a record modified meanwhile moves behind the cursor and is read
again later in the same sweep, never skipped, and no page depends on a deep offset (SuiteQL stops answering past
100,000 rows). A big sweep is read in ranges of internal ids side by side, each range such a cursor of its own
(`keyset_pages`, `_ranges`).

SuiteQL answers every value as text, a date or date-time column as a date alone in the account's date format; the
queries ask for date-times with TO_CHAR(..., 'YYYY-MM-DD HH24:MI:SS'), which SuiteQL writes in the integration user's
time zone (NETSUITE_TIME_ZONE), and compare with TO_TIMESTAMP in that zone too.
"""
from __future__ import annotations

import math
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, time as day_time

from ..errors import TransientError
from .interface import SearchPage, UnknownRecordType

STAMP = "YYYY-MM-DD HH24:MI:SS"
STAMP_PY = "%Y-%m-%d %H:%M:%S"
# The hub's transaction record types and SuiteQL's type codes.
TYPE_CODES = {"salesOrder": "SalesOrd", "purchaseOrder": "PurchOrd", "customerPayment": "CustPymt",
              "invoice": "CustInvc", "customerDeposit": "CustDep", "depositApplication": "DepAppl",
              "creditMemo": "CustCred", "customerRefund": "CustRfnd", "journalEntry": "Journal"}
CODE_TYPES = {code: name for name, code in TYPE_CODES.items()}
# Each record type's SuiteQL table, and the condition that picks the type from a shared table.
RECORD_TABLES = {"customer": ("customer", ""), "vendor": ("vendor", ""), "contact": ("contact", ""),
                 **{name: ("transaction", f"type = '{code}'") for name, code in TYPE_CODES.items()}}
# Lists a value mapping may name by internal id, with the SuiteQL column that names a row (Records Catalog).
NAMED_LISTS = {"subsidiary": "name", "currency": "name"}
# Line record types (as SOAP names them) and the record and sublist they live in.
LINE_TYPES = {"salesOrderItem": ("salesOrder", "item"), "purchaseOrderItem": ("purchaseOrder", "item")}
# SuiteQL answers a transaction's status as its letter; SOAP (and the pull mappings) as the status's name. Names
# per type as NetSuite lists them (SalesOrd:B is "Sales Order : Pending Fulfillment").
STATUS_NAMES = {
    "SalesOrd": {"A": "Pending Approval", "B": "Pending Fulfillment", "C": "Cancelled", "D": "Partially Fulfilled",
                 "E": "Pending Billing/Partially Fulfilled", "F": "Pending Billing", "G": "Billed", "H": "Closed"},
    "PurchOrd": {"A": "Pending Supervisor Approval", "B": "Pending Receipt", "C": "Rejected by Supervisor",
                 "D": "Partially Received", "E": "Pending Billing/Partially Received", "F": "Pending Bill",
                 "G": "Fully Billed", "H": "Closed"},
    "CustPymt": {"A": "Unapproved Payment", "B": "Not Deposited", "C": "Deposited"},
    "CustInvc": {"A": "Open", "B": "Paid In Full"},
    "CustDep": {"A": "Not Deposited", "B": "Deposited", "C": "Fully Applied"},
    "CustCred": {"A": "Open", "B": "Fully Applied"},
}
# The money types (money.py) and what their rows carry beside the common columns.
MONEY_CODES = {"CustInvc", "CustPymt", "CustDep", "DepAppl", "CustCred", "CustRfnd", "Journal"}
WITH_METHOD = {"CustPymt", "CustDep", "CustRfnd"}
WITH_APPLIED = {"CustPymt", "CustCred", "DepAppl"}
CLOCK_QUERY = f"SELECT TO_CHAR(SYSDATE, '{STAMP}') AS servertime FROM DUAL"
LINK_PAGE = 1000


def quoted(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def entity_table(record_type: str) -> str:
    """The SuiteQL table of an entity record type (customer, vendor, contact)."""
    table, condition = _table(record_type)
    if condition:
        raise UnknownRecordType(record_type)
    return table


def _table(record_type: str) -> tuple[str, str]:
    try:
        return RECORD_TABLES[record_type]
    except KeyError:
        raise UnknownRecordType(record_type) from None


def by_external_ids_query(record_type: str, external_ids: list[str]) -> str:
    table, condition = _table(record_type)
    where = f"externalid IN ({', '.join(quoted(e) for e in external_ids)})"
    return f"SELECT id, externalid FROM {table} WHERE {where}" + (f" AND {condition}" if condition else "")


def external_ids_query(record_type: str, after_id: int) -> str:
    table, condition = _table(record_type)
    return (f"SELECT id, externalid FROM {table} WHERE id > {int(after_id)}" + (f" AND {condition}" if condition else "")
            + " ORDER BY id")


def _stamp(moment: datetime, zone) -> str:
    if moment.tzinfo is None:
        raise ValueError("a SuiteQL cursor needs an aware datetime")
    # Whole seconds, rounded down: NetSuite keeps dates to the second, and `>=` a second early only reads more.
    return f"TO_TIMESTAMP({quoted(moment.astimezone(zone).strftime(STAMP_PY))}, '{STAMP}')"


def _sweep_filters(code: str, *, modified_since, created_since, position, ids, zone) -> list[str]:
    """The WHERE conditions of a sweep's page (or of its bounds): the type, the start, the keyset position, and the
    range of internal ids `ids` = (lowest, below) it is limited to, either end open when None."""
    where = [f"t.type = '{code}'"]
    if modified_since is not None:
        where.append(f"t.lastmodifieddate >= {_stamp(modified_since, zone)}")
    if created_since is not None:
        where.append(f"t.createddate >= {_stamp(created_since, zone)}")
    if position is not None:
        moment, last_id = position
        at = _stamp(moment, zone)
        where.append(f"(t.lastmodifieddate > {at} OR (t.lastmodifieddate = {at} AND t.id > {int(last_id)}))")
    low, below = ids
    if low is not None:
        where.append(f"t.id >= {int(low)}")
    if below is not None:
        where.append(f"t.id < {int(below)}")
    return where


def _type_code(transaction_type: str) -> str:
    code = TYPE_CODES.get(transaction_type)
    if code is None:
        raise UnknownRecordType(transaction_type)
    return code


def page_query(*, transaction_type: str, modified_since, created_since, position, body_fields_only: bool, zone,
               ids: tuple[int | None, int | None] = (None, None)) -> str:
    code = _type_code(transaction_type)
    columns = ["t.id", "t.externalid", "t.tranid", "t.status", "t.foreigntotal", "t.entity",
               "TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate", f"TO_CHAR(t.createddate, '{STAMP}') AS createddate",
               f"TO_CHAR(t.lastmodifieddate, '{STAMP}') AS lastmodifieddate"]
    source = "transaction t"
    if code in WITH_METHOD:
        columns += ["t.paymentmethod", "pm.name AS paymentmethodname"]
        source += " LEFT JOIN paymentmethod pm ON pm.id = t.paymentmethod"
    if code in WITH_APPLIED:
        columns += ["t.foreignpaymentamountused", "t.foreignpaymentamountunused"]
    if code in MONEY_CODES:
        columns += ["t.memo", "t.voided", "t.createdfrom", "cf.type AS createdfromtype", "t.reversal", "t.currency",
                    "cur.name AS currencyname", "c.altname AS entityname"]
        source += (" LEFT JOIN currency cur ON cur.id = t.currency LEFT JOIN customer c ON c.id = t.entity"
                   " LEFT JOIN transaction cf ON cf.id = t.createdfrom")
    where = _sweep_filters(code, modified_since=modified_since, created_since=created_since, position=position,
                           ids=ids, zone=zone)
    return (f"SELECT {', '.join(columns)} FROM {source} WHERE {' AND '.join(where)} "
            "ORDER BY t.lastmodifieddate, t.id")


def bounds_query(*, transaction_type: str, modified_since, created_since, position, zone) -> str:
    """The lowest and highest internal id, and how many, of what a sweep has still to read past `position`: where
    to split it into ranges. SuiteQL supports MIN, MAX and COUNT (section_158513731864.html)."""
    where = _sweep_filters(_type_code(transaction_type), modified_since=modified_since, created_since=created_since,
                           position=position, ids=(None, None), zone=zone)
    return ("SELECT MIN(t.id) AS lowest, MAX(t.id) AS highest, COUNT(*) AS remaining FROM transaction t "
            f"WHERE {' AND '.join(where)}")


def links_query(payment_ids: list[str]) -> str:
    """What the transactions link to: each link's earlier document (what a payment applies to, the order a deposit
    was received for, the deposit an application applies, what a refund gives back)."""
    ids = ", ".join(str(int(i)) for i in payment_ids)
    return ("SELECT nextdoc, previousdoc, previoustype, linktype, foreignamount FROM previoustransactionlink "
            f"WHERE nextdoc IN ({ids}) ORDER BY nextdoc, previousdoc, linktype")


def created_from_query(record_type: str, internal_ids: list[str]) -> str:
    code = TYPE_CODES.get(record_type)
    if code is None:
        raise UnknownRecordType(record_type)
    ids = ", ".join(str(int(i)) for i in internal_ids)
    return f"SELECT id, createdfrom FROM transaction WHERE type = '{code}' AND id IN ({ids}) AND createdfrom IS NOT NULL"


def deleted_query(record_types: list[str], since, zone, after: tuple[datetime, int] | None) -> str:
    """deletedrecord by (deleteddate, recordid), a keyset like the transaction pages'."""
    kinds = ", ".join(quoted(t.lower()) for t in record_types)
    where = [f"recordtype IN ({kinds})"]
    if since is not None:
        where.append(f"deleteddate >= {_stamp(since, zone)}")
    if after is not None:
        at = _stamp(after[0], zone)
        where.append(f"(deleteddate > {at} OR (deleteddate = {at} AND recordid > {int(after[1])}))")
    return (f"SELECT recordid, recordtype, name, TO_CHAR(deleteddate, '{STAMP}') AS deleteddate FROM deletedrecord "
            f"WHERE {' AND '.join(where)} ORDER BY deleteddate, recordid")


def account_datetime(text: str, zone) -> datetime:
    try:
        return datetime.strptime(text.strip(), STAMP_PY).replace(tzinfo=zone)
    except ValueError:
        raise TransientError("UNEXPECTED_RESPONSE", f"NetSuite's SuiteQL answered {text!r} where a date-time "
                             f"({STAMP}) was asked for") from None


def _number(text):
    if text in (None, ""):
        return None
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def transaction_record(row: dict, transaction_type: str, zone) -> dict:
    """A SuiteQL transaction row as the record a SOAP search returns (the fields the pull mappings read)."""
    code = TYPE_CODES[transaction_type]
    record = {"internalId": str(row["id"]), "externalId": row.get("externalid"), "tranId": row.get("tranid"),
              "status": STATUS_NAMES.get(code, {}).get(row.get("status"), row.get("status")),
              "total": _number(row.get("foreigntotal")),
              "createdDate": account_datetime(row["createddate"], zone),
              "lastModifiedDate": account_datetime(row["lastmodifieddate"], zone)}
    if row.get("trandate"):
        # A calendar date, read as SOAP answers it: midnight in the account's zone.
        day = datetime.strptime(row["trandate"], "%Y-%m-%d").date()
        record["tranDate"] = datetime.combine(day, day_time(0), zone)
    entity = {"internalId": str(row["entity"])} if row.get("entity") else None
    if code in MONEY_CODES:
        return _money_record(record, row, code, entity)
    if code == "CustPymt":
        record["customer"] = entity
        record["payment"] = record["total"]
        record["applied"] = _number(row.get("foreignpaymentamountused"))
        record["unapplied"] = _number(row.get("foreignpaymentamountunused"))
        if row.get("paymentmethod"):
            record["paymentMethod"] = {"internalId": str(row["paymentmethod"]), "name": row.get("paymentmethodname")}
    else:
        record["entity"] = entity
    return record


def _money_record(record: dict, row: dict, code: str, entity: dict | None) -> dict:
    """A money row in the shape money.from_soap gives a SOAP record (interface.py, transaction_pages)."""
    voided = row.get("voided") == "T"
    if entity is not None:
        entity["name"] = row.get("entityname")
    record.update({"externalId": row.get("externalid") or "", "memo": row.get("memo"), "customer": entity,
                   "voided": voided, "total": record["total"] or 0.0,
                   "currency": ({"internalId": str(row["currency"]), "name": row.get("currencyname")}
                                if row.get("currency") else None)})
    if voided:
        record["status"] = "Voided"
    elif code not in STATUS_NAMES:
        record["status"] = ""
    if code in WITH_METHOD:
        record["paymentMethod"] = ({"internalId": str(row["paymentmethod"]), "name": row.get("paymentmethodname")}
                                   if row.get("paymentmethod") else None)
    if code in WITH_APPLIED:
        record["applied"] = _number(row.get("foreignpaymentamountused"))
        record["unapplied"] = _number(row.get("foreignpaymentamountunused"))
    if code == "CustPymt":
        record["payment"] = record["total"]
    if code == "DepAppl":
        record["total"] = record["applied"] or 0.0
    if row.get("createdfrom") and code in ("CustInvc", "CustCred", "Journal"):
        record["createdFrom"] = {"internalId": str(row["createdfrom"]),
                                 "type": CODE_TYPES.get(row.get("createdfromtype"), row.get("createdfromtype") or "")}
    if row.get("reversal"):
        record["voidJournal"] = {"internalId": str(row["reversal"])}
    return record


# What a link's earlier document is to the later one, by link type (the sandbox's PreviousTransactionLink).
APPLY_LINKS = {"Payment", "Refund"}


def _attach_links(client, records: list[dict], transaction_type: str, body_fields_only: bool, hold, retrying) -> None:
    """Each record's links in one query for the page (paged past a thousand links): a deposit's sales order, a
    deposit application's deposit, and, with body fields only off, the applyList SOAP gives."""
    by_id = {record["internalId"]: record for record in records}
    if not body_fields_only:
        for record in records:
            record["applyList"] = {"apply": []}
    query = links_query(list(by_id))
    offset = 0
    while True:
        answer = retrying(lambda: client.suiteql(query, limit=LINK_PAGE, offset=offset, hold=hold))
        for row in answer.get("items") or []:
            record = by_id.get(str(row.get("nextdoc")))
            if record is None or not row.get("previousdoc"):
                continue
            previous, linktype = str(row["previousdoc"]), row.get("linktype")
            if linktype in APPLY_LINKS and not body_fields_only:
                record["applyList"]["apply"].append({
                    "doc": previous, "type": CODE_TYPES.get(row.get("previoustype"), "invoice"), "apply": True,
                    "amount": _number(row.get("foreignamount")) or 0.0})
            elif linktype == "OrdDep" and transaction_type == "customerDeposit":
                record["salesOrder"] = {"internalId": previous}
            elif linktype == "DepAppl" and transaction_type == "depositApplication":
                record["deposit"] = {"internalId": previous}
        if not answer.get("hasMore"):
            return
        offset += LINK_PAGE


# A sweep of more pages than this is read in ranges side by side when the pull's share allows more than one page at
# once; a smaller one keeps one cursor (after its first page at most one more is left, which a range would not read
# any sooner, and the bounds query would be a request more).
SINGLE_CURSOR_PAGES = 2


@dataclass
class _Answer:
    """One keyset page as read: its records, whether SuiteQL has more past it, and how many matched in all."""
    records: list[dict]
    more: bool
    total: int

    @property
    def last_key(self) -> tuple[datetime, int]:
        last = self.records[-1]
        return last["lastModifiedDate"], int(last["internalId"])


def _resume_position(resume_after) -> tuple[datetime, int] | None:
    if resume_after and str(resume_after[1]).startswith("modified:") and resume_after[1][9:].isdigit():
        return resume_after[0], int(resume_after[1][9:])
    return None


def _mark(position: tuple[datetime, int]) -> tuple[datetime, str]:
    return position[0], f"modified:{position[1]}"


def id_ranges(lowest: int, highest: int, count: int) -> list[tuple[int | None, int | None]]:
    """`count` ranges of internal ids, (lowest id, below), as equal spans of lowest..highest, the first open below and
    the last open above: together they hold every id, those of records created after the bounds were read too."""
    count = max(1, min(count, highest - lowest + 1))
    span = math.ceil((highest - lowest + 1) / count)
    cuts = [lowest + span * number for number in range(1, count)]
    return list(zip([None, *cuts], [*cuts, None]))


def keyset_pages(client, *, transaction_type: str, modified_since, created_since, page_size: int,
                 body_fields_only: bool, resume_after, hold, retrying, pages_at_once: int = 1):
    """SearchPages of one transaction type by (lastmodifieddate, id), each request inside `hold` and read through
    `retrying`. `resume_after` (datetime, "modified:<id>") starts after a position an interrupted run reached; a
    position of another transport's making is ignored (the sweep starts over; what was read is skipped by its
    content hash).

    The first page comes from one cursor. A keyset page needs the last key of the one before, so one cursor reads
    one page ahead: the next page is asked for (in a reader thread, which touches no database) while this page's
    applications are read and while the hub plans and writes it. A sweep of more than SINGLE_CURSOR_PAGES pages,
    when `pages_at_once` allows more than one, is read on in ranges side by side instead (`_ranges`)."""
    code = _type_code(transaction_type)
    zone = client.zone

    def read_page(after, ids=(None, None)) -> _Answer:
        query = page_query(transaction_type=transaction_type, modified_since=modified_since,
                           created_since=created_since, position=after, body_fields_only=body_fields_only, zone=zone,
                           ids=ids)
        answer = retrying(lambda: client.suiteql(query, limit=page_size, hold=hold))
        rows = answer.get("items") or []
        return _Answer(records=[transaction_record(row, transaction_type, zone) for row in rows],
                       more=bool(answer.get("hasMore")) and bool(rows),
                       total=int(answer.get("totalResults") or len(rows)))

    def links(records: list[dict]) -> None:
        if code in MONEY_CODES:
            _attach_links(client, records, transaction_type, body_fields_only, hold, retrying)

    def read_range(after, ids) -> _Answer:
        page = read_page(after, ids)
        links(page.records)
        return page

    def read_bounds(after) -> tuple[int | None, int | None, int]:
        query = bounds_query(transaction_type=transaction_type, modified_since=modified_since,
                             created_since=created_since, position=after, zone=zone)
        row = (retrying(lambda: client.suiteql(query, limit=1, hold=hold)).get("items") or [{}])[0]
        numbers = [int(row[name]) if str(row.get(name) or "").isdigit() else None
                   for name in ("lowest", "highest", "remaining")]
        return numbers[0], numbers[1], numbers[2] or 0

    position = _resume_position(resume_after)
    total, page_index = None, 0
    readers = max(1, pages_at_once)
    with ThreadPoolExecutor(max_workers=readers, thread_name_prefix=f"suiteql-{transaction_type}") as pool:
        coming = pool.submit(read_page, position)
        while coming is not None:
            page = coming.result()
            if total is None:
                total = page.total
            if not page.records:
                return
            position = page.last_key
            coming = bounds = None
            if page.more and page_index == 0 and pages_at_once > 1 and total > SINGLE_CURSOR_PAGES * page_size:
                bounds = pool.submit(read_bounds, position)
            elif page.more:
                coming = pool.submit(read_page, position)
            links(page.records)
            running = {}
            if bounds is not None:
                lowest, highest, remaining = bounds.result()
                if remaining and lowest is not None and highest is not None:
                    count = min(pages_at_once, math.ceil(remaining / page_size))
                    # Submitted before this page is handed on: the ranges read while the hub works on it.
                    running = {pool.submit(read_range, position, ids): ids
                               for ids in id_ranges(lowest, highest, count)}
            page_index += 1
            yield SearchPage(records=page.records, page_index=page_index, total_records=total,
                             resume_after=_mark(position))
            if running:
                for records, reached in _ranges(pool, read_range, running, position):
                    page_index += 1
                    yield SearchPage(records=records, page_index=page_index, total_records=total,
                                     resume_after=_mark(reached))


def _ranges(pool, read_range, running: dict, start: tuple[datetime, int]):
    """(records, resume position) of each page of the ranges, as they come: `running` holds each range's first read
    (a future → its (lowest id, below)), each range after `start`, the position up to which one cursor has read it all.

    Each range is a keyset cursor of its own, ordered by (lastmodifieddate, id) over its ids: a record modified
    meanwhile moves behind its range's cursor and is read again, never skipped, as with one cursor (a range already
    read to its end leaves that change to the next sweep, which reads from before this one began, as a change after
    one cursor's end is). The ranges hold every id, so a record created meanwhile falls in one (the last, open above,
    for an id past the highest). A range has one read at a time, in flight or waiting for the hub (a page and its
    applications), so at most as many pages as ranges are held, and a record's pages come in the order read: a
    record read twice comes newest last. Pages of different ranges come in any order.

    A page's resume position is not its own last key but the lowest of the positions the hub has been given pages
    up to, over the ranges not read to their end (every range has been read up to it, so a run resumed from it
    skips nothing); once all are read, the highest."""
    reached = {ids: start for ids in running.values()}
    unfinished = set(reached)
    while running:
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        # One page at a time, the range furthest behind first: the others' pages wait, and their ranges with them.
        future = min(done, key=lambda f: reached[running[f]])
        ids = running.pop(future)
        page = future.result()
        if page.records:
            reached[ids] = page.last_key
        if page.more:
            running[pool.submit(read_range, reached[ids], ids)] = ids
        else:
            unfinished.discard(ids)
        if page.records:
            yield page.records, (min(reached[i] for i in unfinished) if unfinished else max(reached.values()))


def catalog_fields(schema: dict, sublist: str = "", resolve=lambda part: part) -> set[str]:
    """Field names of a metadata catalog JSON schema (or of one sublist's lines), with internalId beside id.
    `resolve` reads a part given by "$ref" (NetSuite links a sublist's collection and line schemas that way)."""
    properties = schema.get("properties") or {}
    if sublist:
        lines = resolve(properties.get(sublist) or {})
        element = resolve(resolve((lines.get("properties") or {}).get("items") or {}).get("items") or {})
        properties = element.get("properties") or {}
    names = set(properties)
    if "id" in names:
        names.add("internalId")
    return names


# JSON schema of a custom field in the metadata catalog → the hub's type (custom_fields.TYPES).
def _custom_type(part: dict) -> str:
    kind, form = part.get("type"), part.get("format")
    if kind == "boolean":
        return "checkbox"
    if kind == "integer":
        return "integer"
    if kind == "number":
        return "number"
    if kind == "object":
        return "select"
    if kind == "array":
        return "multiselect"
    return {"date": "date", "date-time": "datetime"}.get(form, "text")


def catalog_custom_fields(schema: dict, sublist: str = "", resolve=lambda part: part) -> dict:
    """The custom fields of a metadata catalog JSON schema (or of one sublist's lines): the properties it marks
    `x-ns-custom-field`, typed by their JSON schema; one that may not be null is taken as mandatory (Oracle's example
    shows `nullable` on each field but does not say it follows the mandatory flag: an assumption)."""
    # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545129726.html
    from .custom_fields import CustomField, is_custom

    properties = schema.get("properties") or {}
    if sublist:
        lines = resolve(properties.get(sublist) or {})
        element = resolve(resolve((lines.get("properties") or {}).get("items") or {}).get("items") or {})
        properties = element.get("properties") or {}
    found = {}
    for name, part in properties.items():
        part = resolve(part) if isinstance(part, dict) else {}
        if part.get("x-ns-custom-field") or is_custom(name):
            found[name] = CustomField(script_id=name, type=_custom_type(part), label=str(part.get("title") or ""),
                                      mandatory=part.get("nullable") is False)
    return found
