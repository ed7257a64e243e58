"""The interface's record dicts as SuiteTalk REST JSON, and an async task's answer as the record's WriteResult.
Pure functions: no HTTP here.

REST names the fields as SOAP does but shapes some of them differently (Oracle's "NetSuite Record Structure" and
"Format of Sublists and Subrecords" pages): a reference is {"id": …} or {"externalId": …}, not a RecordRef; a line
list is {"items": [...]} under the sublist's name (item), not itemList.item[]; numbers and booleans are JSON
numbers and booleans; a date field is YYYY-MM-DD.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import unquote, urlsplit

from .custom_fields import CustomField, CustomFieldValueError, is_custom, line_type, typed_value
from .interface import WriteResult

# The record types the hub writes, by their REST names (the same as the interface's).
RECORD_TYPES = {"customer", "vendor", "contact", "salesOrder", "purchaseOrder", "customerPayment"}
# The interface's line lists and the REST sublist each becomes.
SUBLISTS = {"itemList": ("item", "item"), "applyList": ("apply", "apply"), "expenseList": ("expense", "expense")}
# Calendar dates: REST takes YYYY-MM-DD (a date-time would be read in UTC and could land on another day).
DATE_FIELDS = {"tranDate", "dueDate", "shipDate", "startDate", "endDate", "expectedReceiveDate", "closeDate"}
NUMBER_FIELDS = {"quantity", "rate", "amount", "payment", "creditLimit", "discountRate"}
# Per-record codes worth a later retry, as on the SOAP side.
TRANSIENT_CODES = {"RCRD_HAS_BEEN_CHANGED", "UNEXPECTED_ERROR", "CONCURRENCY_LIMIT_EXCEEDED", "RCRD_LOCKED_BY_WF",
                   "SSS_REQUEST_LIMIT_EXCEEDED"}
MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})(T00:00(:00(\.0+)?)?)?$")
# "Invalid entity reference key 123." (the SOAP wording, which the sandbox keeps) or Oracle's REST wording
# "Invalid Field Value 123 for the following field: entity": a reference NetSuite could not resolve.
UNRESOLVED = re.compile(r"\binvalid\b.*\b(reference|field value)\b", re.IGNORECASE)


class RecordShapeError(ValueError):
    """A record the REST transport cannot express: it fails alone, unsent."""


def record_item(record: dict, custom_fields=None) -> tuple[dict, tuple[str, ...]]:
    """A record dict as one item of an upsert batch, and the sublists it replaces whole (the batch's `replace`).
    Custom fields (named by script id) are plain properties typed as the account declares them: `custom_fields`
    (record type → {script id: CustomField}) says how."""
    record_type = record.get("type")
    if record_type not in RECORD_TYPES:
        raise RecordShapeError(f"Unknown NetSuite record type {record_type!r}")
    external_id = str(record.get("externalId") or "")
    if not external_id:
        raise RecordShapeError("An upsert needs the record's externalId")
    item: dict = {"externalId": external_id}
    replaced = []
    for name, value in (record.get("fields") or {}).items():
        if name in SUBLISTS and isinstance(value, dict):
            sublist, line_key = SUBLISTS[name]
            item[sublist] = {"items": [_line(line, record_type, custom_fields) for line in value.get(line_key) or []]}
            # NetSuite merges lines by their line number unless the sublist is named in `replace`.
            if value.get("replaceAll", True):
                replaced.append(sublist)
        elif name in ("internalId", "externalId", "type"):
            continue   # the upsert names the record by its external id; the internal id is NetSuite's to give
        elif is_custom(name):
            item[name] = _custom_value(_declared(custom_fields, record_type, name), value)
        else:
            item[name] = _value(name, value)
    return item, tuple(sorted(replaced))


def _line(line: dict, record_type: str, custom_fields) -> dict:
    return {k: (_custom_value(_declared(custom_fields, line_type(record_type), k), v) if is_custom(k) else _value(k, v))
            for k, v in line.items()}


def _declared(custom_fields, record_type: str, script_id: str) -> CustomField:
    field = (custom_fields(record_type) if custom_fields else {}).get(script_id)
    if field is None:
        raise RecordShapeError(f"NetSuite declares no custom field {script_id!r} on {record_type}")
    return field


def _custom_value(field: CustomField, value):
    """A custom field's value as REST JSON: text, a number, true/false, YYYY-MM-DD, {"id": …} for a select."""
    try:
        typed = typed_value(field, value)
    except CustomFieldValueError as error:
        raise RecordShapeError(str(error)) from None
    if field.type == "select":
        return {"id": typed}
    if field.type == "multiselect":
        return [{"id": key} for key in typed]
    if isinstance(typed, Decimal):
        return float(typed)
    if isinstance(typed, datetime):
        if typed.tzinfo is None:
            raise RecordShapeError(f"{field.script_id}: a date-time without a time zone ({typed.isoformat()})")
        return typed.isoformat()
    if isinstance(typed, date):
        return typed.isoformat()
    return typed


def _value(name: str, value):
    if isinstance(value, dict):
        if "internalId" in value and value["internalId"] not in (None, ""):
            return {"id": str(value["internalId"])}
        if "externalId" in value and value["externalId"] not in (None, ""):
            return {"externalId": str(value["externalId"])}
        return {k: _value(k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_value(name, v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        if name in DATE_FIELDS:
            return value.date().isoformat()
        if value.tzinfo is None:
            raise RecordShapeError(f"{name}: a date-time without a time zone ({value.isoformat()})")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        if name in DATE_FIELDS:
            midnight = MIDNIGHT.match(value)
            if midnight:
                return midnight.group(1)
        if name in NUMBER_FIELDS:
            try:
                return float(value)
            except ValueError:
                raise RecordShapeError(f"{name}: {value!r} is not a number") from None
        return value
    if isinstance(value, (int, float)):
        return value
    raise RecordShapeError(f"{name}: a {type(value).__name__} value cannot be sent as JSON")


def task_result(external_id: str, status: int, location: str, body) -> WriteResult:
    """One record's WriteResult from its task's result: 204 with the record's URL in Location, or an error body."""
    if 200 <= status < 300:
        internal_id = unquote(urlsplit(location or "").path.rstrip("/").rpartition("/")[2])
        if internal_id.isdigit():
            return WriteResult(success=True, internal_id=internal_id, external_id=external_id)
        return WriteResult(success=False, external_id=external_id, code="UNEXPECTED_ERROR", transient=True,
                           message=f"NetSuite answered {status} without the record's address (Location: {location!r})")
    code, message, path = error_parts(body)
    code = code or f"HTTP_{status}"
    missing = ""
    if path and UNRESOLVED.search(message or ""):
        missing = path.split(".")[0]
    return WriteResult(success=False, external_id=external_id, code=code, message=message,
                       transient=code in TRANSIENT_CODES or status in (429, 503), missing_reference=missing)


def error_parts(body) -> tuple[str, str, str]:
    """(o:errorCode, detail, o:errorPath) of NetSuite's REST error format; empty strings where it says nothing."""
    # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156570709583.html
    if not isinstance(body, dict):
        return "", "", ""
    details = body.get("o:errorDetails")
    first = details[0] if isinstance(details, list) and details and isinstance(details[0], dict) else {}
    code = str(first.get("o:errorCode") or "")
    message = str(first.get("detail") or body.get("title") or "")
    return code, message, str(first.get("o:errorPath") or "")
