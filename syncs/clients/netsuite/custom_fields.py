"""Custom fields as the hub meets them on either transport: a field of a record dict named by its script id
(custbody_…, custentity_…, custcol_… on lines, cseg_… for a custom segment), typed by what the account declares.

A transport reads the account's definitions (SOAP: getCustomizationId and getList of the definitions; REST: the
metadata catalog) into CustomField values, keeps them a few minutes, and writes each custom field as its type asks:
SOAP as the matching CustomFieldRef inside customFieldList, REST as a plain property. `typed_value` turns a mapped value
into the declared type's Python value, or refuses it naming the field, so a wrong value fails its record alone.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

PREFIXES = ("custbody", "custcol", "custentity", "custitem", "custevent", "custrecord", "cseg")
# The hub's types of a custom field: what a value must become. NetSuite's many kinds fold into these.
TYPES = ("text", "integer", "number", "date", "datetime", "checkbox", "select", "multiselect")
# SOAP's CustomizationFieldType → the hub's type.
SOAP_FIELD_TYPES = {
    "_checkBox": "checkbox", "_currency": "number", "_date": "date", "_datetime": "datetime",
    "_decimalNumber": "number", "_percent": "number", "_integerNumber": "integer", "_listRecord": "select",
    "_multipleSelect": "multiselect", "_timeOfDay": "text",
}
# The hub's type → the CustomFieldRef that carries it on SOAP (platform core XSD).
SOAP_REFS = {"text": "StringCustomFieldRef", "integer": "LongCustomFieldRef", "number": "DoubleCustomFieldRef",
             "date": "DateCustomFieldRef", "datetime": "DateCustomFieldRef", "checkbox": "BooleanCustomFieldRef",
             "select": "SelectCustomFieldRef", "multiselect": "MultiSelectCustomFieldRef"}
CACHE_SECONDS = 300.0


def is_custom(name: str) -> bool:
    return "_" in name and name.split("_", 1)[0] in PREFIXES


@dataclass(frozen=True)
class CustomField:
    script_id: str
    type: str = "text"
    label: str = ""
    mandatory: bool = False


class CustomFieldValueError(ValueError):
    """A mapped value that the custom field's type cannot take."""


def typed_value(field: CustomField, value):
    """The value as the field's type holds it: str, int, Decimal, date, datetime, bool, an internal id (select) or a
    list of them (multiselect)."""
    def wrong(why: str):
        return CustomFieldValueError(f"{field.script_id} is a {field.type} custom field: {value!r} {why}")

    kind = field.type
    if kind == "checkbox":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "y", "t"):
            return True
        if text in ("0", "false", "no", "n", "f", ""):
            return False
        raise wrong("is not true or false")
    if kind in ("integer", "number"):
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            raise wrong("is not a number")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise wrong("is not a number") from None
        if kind == "integer":
            if number != number.to_integral_value():
                raise wrong("is not a whole number")
            return int(number)
        return number
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise wrong("is not a date (YYYY-MM-DD)") from None
    if kind == "datetime":
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        try:
            return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise wrong("is not a date and time") from None
    if kind in ("select", "multiselect"):
        values = value if isinstance(value, (list, tuple)) else [value]
        ids = []
        for one in values:
            key = one.get("internalId") if isinstance(one, dict) else one
            key = str(key if key is not None else "").strip()
            if not key.isdigit():
                raise wrong("is not the internal id of one of its list's values (map it with a value mapping)")
            ids.append(key)
        return ids if kind == "multiselect" else ids[0]
    if isinstance(value, (dict, list)):
        raise wrong("is not text")
    return value if isinstance(value, str) else format(value, "f") if isinstance(value, Decimal) else str(value)


class DefinitionCache:
    """A transport's view of the account's custom fields, read at most every CACHE_SECONDS (per record type). One
    thread reads while the others (a push's sender threads) wait for its answer rather than ask NetSuite too."""

    def __init__(self, read=None, seconds: float = CACHE_SECONDS):
        self._read = read   # record type → {script id: CustomField}; else the reader given with each call (the caller's client)
        self._seconds = seconds
        self._lock = threading.Lock()
        self._reading: dict[str, threading.Lock] = {}
        self._known: dict[str, tuple[float, dict[str, CustomField]]] = {}

    def _fresh(self, record_type: str) -> dict[str, CustomField] | None:
        with self._lock:
            cached = self._known.get(record_type)
        if cached is not None and time.monotonic() - cached[0] < self._seconds:
            return cached[1]
        return None

    def get(self, record_type: str, read=None, hold=contextlib.nullcontext) -> dict[str, CustomField]:
        fields = self._fresh(record_type)
        if fields is not None:
            return fields
        with self._lock:
            reading = self._reading.setdefault(record_type, threading.Lock())
        with reading:
            fields = self._fresh(record_type)   # read meanwhile by another thread
            if fields is None:
                with hold():
                    fields = (self._read or read)(record_type)
                with self._lock:
                    self._known[record_type] = (time.monotonic(), fields)
        return fields

    def ensure(self, record_type: str, hold, read=None) -> None:
        """Read a record type's definitions now, inside `hold` (the concurrency slot), unless they are fresh."""
        self.get(record_type, read, hold)

    def forget(self) -> None:
        with self._lock:
            self._known.clear()


def split(fields: dict) -> tuple[dict, dict]:
    """(standard fields, custom fields) of a record's or a line's fields."""
    standard, custom = {}, {}
    for name, value in fields.items():
        (custom if is_custom(name) else standard)[name] = value
    return standard, custom


def record_types_with_custom_fields(records: list[dict]) -> set[str]:
    """The record types (line types for custom column fields) whose definitions writing these records needs."""
    wanted = set()
    for record in records:
        fields = record.get("fields") or {}
        if any(is_custom(name) for name in fields):
            wanted.add(record.get("type"))
        for line in (fields.get("itemList") or {}).get("item") or []:
            if any(is_custom(name) for name in line):
                wanted.add(line_type(record.get("type") or ""))
    return wanted


def line_type(record_type: str) -> str:
    """The line record type a transaction's custom column fields are declared on: salesOrder → salesOrderItem."""
    return f"{record_type}Item"
