"""The account's custom fields: their definitions, where a client discovers them, and NetSuite's rules for their values.

A definition is a customization record, kept in the store's `customizations` family in the shape of the setupCustom
XSD (TransactionBodyCustomField, TransactionColumnCustomField, EntityCustomField; a select field's values are a
CustomList), so SOAP finds it as Oracle documents it: `getCustomizationId` for the ids of one customization type, then
`get`/`getList` of those records (SuiteTalk SOAP Platform Guide, "getCustomizationId", section_N3493817.html). REST
lists the fields in the record's metadata catalog (rest/catalog.py).

Definitions are given in a plain form, in the data dir's `custom_fields.json` (read when the sandbox seeds) or by
`POST /_sandbox/custom-fields`; without either the sandbox declares DEFAULT_FIELDS (the deal terms the hub's default
mappings set on a sales order). The plain form, one object per field:
    {"scriptId": "custbody_payback_amount", "label": "Payback Amount", "type": "currency", "mandatory": false,
     "appliesTo": ["salesOrder"], "values": {"1": "Origination", ...}}   # values: a select field's list
The script id's prefix says where the field lives: custbody_ (transaction body), custcol_ (transaction lines),
custentity_ (customers, vendors, contacts). Types: text, textarea, email, url, phone, integer, number, currency,
percent, date, datetime, checkbox, select, multiselect.

Rules on a write (codes of the 2023_2 XSD's StatusDetailCodeType; Oracle documents no message text for the custom
field codes that could be found, so the messages are the sandbox's wording):
- a custom field the account does not declare on that record type (or on its lines): INVALID_CSTM_FIELD_REF;
- a value of the wrong kind (a StringCustomFieldRef for a date field, text for a number): INVALID_CSTM_FIELD_DATA_TYP;
- a select value not in the field's list: INVALID_KEY_OR_REF, "Invalid <scriptId> reference key <id>.";
- a mandatory field missing from the saved record: USER_ERROR "Please enter value(s) for: <label>", as NetSuite
  words a missing mandatory field (it names the field by its label, e.g. "Please enter value(s) for: Primary
  Subsidiary").
Values are stored as the CustomFieldRef of the declared type, so a value written over REST (a JSON number) reads back
over SOAP as a DoubleCustomFieldRef and the other way round.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from .envelope import CORE_NS, SETUP_CUSTOM_NS
from .store import Store, StoredRecord

FAMILY = "customizations"
CONFIG_FILE = "custom_fields.json"
FIRST_ID = 501  # NetSuite's custom field ids are small numbers; the sandbox's start here

# plain type → (CustomizationFieldType, the CustomFieldRef a value travels as)
TYPES = {
    "text": ("_freeFormText", "StringCustomFieldRef"),
    "textarea": ("_textArea", "StringCustomFieldRef"),
    "email": ("_eMailAddress", "StringCustomFieldRef"),
    "url": ("_hyperlink", "StringCustomFieldRef"),
    "phone": ("_phoneNumber", "StringCustomFieldRef"),
    "integer": ("_integerNumber", "LongCustomFieldRef"),
    "number": ("_decimalNumber", "DoubleCustomFieldRef"),
    "currency": ("_currency", "DoubleCustomFieldRef"),
    "percent": ("_percent", "DoubleCustomFieldRef"),
    "date": ("_date", "DateCustomFieldRef"),
    "datetime": ("_datetime", "DateCustomFieldRef"),
    "checkbox": ("_checkBox", "BooleanCustomFieldRef"),
    "select": ("_listRecord", "SelectCustomFieldRef"),
    "multiselect": ("_multipleSelect", "MultiSelectCustomFieldRef"),
}
BY_FIELD_TYPE = {field_type: name for name, (field_type, _) in TYPES.items()}
# Where a field lives, by script id prefix: (customization type, the XSD type of its definition).
PLACES = {
    "custbody": ("transactionBodyCustomField", "TransactionBodyCustomField"),
    "custcol": ("transactionColumnCustomField", "TransactionColumnCustomField"),
    "custentity": ("entityCustomField", "EntityCustomField"),
}
# The definition's flags that apply it to a record type (its body, or its lines for a column field).
APPLIES = {
    "transactionBodyCustomField": {"salesOrder": "bodySale", "purchaseOrder": "bodyPurchase",
                                   "customerPayment": "bodyCustomerPayment"},
    "transactionColumnCustomField": {"salesOrder": "colSale", "purchaseOrder": "colPurchase"},
    "entityCustomField": {"customer": "appliesToCustomer", "vendor": "appliesToVendor",
                          "contact": "appliesToContact"},
}
CUSTOMIZATION_KINDS = [(place, f"{{{SETUP_CUSTOM_NS}}}{xsd}", FAMILY, xsd) for place, xsd in PLACES.values()] + [
    ("customList", f"{{{SETUP_CUSTOM_NS}}}CustomList", FAMILY, "Custom List")]

DEFAULT_FIELDS = [
    {"scriptId": "custbody_sf_application_id", "label": "Salesforce Application Id", "type": "text",
     "appliesTo": ["salesOrder", "purchaseOrder"]},
    {"scriptId": "custbody_payback_amount", "label": "Payback Amount", "type": "currency", "appliesTo": ["salesOrder"]},
    {"scriptId": "custbody_factor_rate", "label": "Factor Rate", "type": "number", "appliesTo": ["salesOrder"]},
    {"scriptId": "custbody_holdback_percent", "label": "Holdback %", "type": "percent", "appliesTo": ["salesOrder"]},
    {"scriptId": "custbody_funded_date", "label": "Funded Date", "type": "date", "appliesTo": ["salesOrder"]},
    {"scriptId": "custbody_ach_debit", "label": "ACH Debit", "type": "checkbox", "appliesTo": ["salesOrder"]},
    {"scriptId": "custcol_fee_type", "label": "Fee Type", "type": "select", "appliesTo": ["salesOrder"],
     "values": {"1": "Origination", "2": "Underwriting", "3": "ACH Program", "4": "Wire"}},
    {"scriptId": "custentity_sf_account_id", "label": "Salesforce Account Id", "type": "text",
     "appliesTo": ["customer", "vendor"]},
]


class CustomFieldError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# -- definitions: plain form ↔ customization records ---------------------------------------------------------------
def place_of(script_id: str) -> str:
    prefix = script_id.split("_", 1)[0]
    if prefix not in PLACES or "_" not in script_id:
        raise ValueError(f"{script_id!r}: a custom field's script id starts with custbody_, custcol_ or custentity_")
    return PLACES[prefix][0]


def definition_body(field: dict, internal_id: int, list_ref: dict | None) -> dict:
    """A plain definition as the stored customization record (setupCustom's shape)."""
    script_id = str(field["scriptId"])
    place = place_of(script_id)
    kind = field.get("type", "text")
    if kind not in TYPES:
        raise ValueError(f"{script_id}: unknown type {kind!r} (one of {', '.join(TYPES)})")
    applies = list(field.get("appliesTo") or [])
    unknown = [name for name in applies if name not in APPLIES[place]]
    if unknown or not applies:
        raise ValueError(f"{script_id}: appliesTo must name some of {', '.join(APPLIES[place])}")
    if kind in ("select", "multiselect") and not field.get("values"):
        raise ValueError(f"{script_id}: a {kind} field needs its list's values")
    body = {"internalId": str(internal_id), "scriptId": script_id, "label": str(field.get("label") or script_id),
            "fieldType": TYPES[kind][0], "isMandatory": "true" if field.get("mandatory") else "false",
            "storeValue": "true", "showInList": "false"}
    for record_type in applies:
        body[APPLIES[place][record_type]] = "true"
    if list_ref is not None:
        body["selectRecordType"] = list_ref
    return body


def plain(body: dict, lists: dict[str, StoredRecord]) -> dict:
    """A stored definition in the plain form (the control call's answer)."""
    place = place_of(body["scriptId"])
    field = {"internalId": body["internalId"], "scriptId": body["scriptId"], "label": body.get("label"),
             "type": BY_FIELD_TYPE.get(body.get("fieldType"), "text"), "mandatory": body.get("isMandatory") == "true",
             "appliesTo": [name for name, flag in APPLIES[place].items() if body.get(flag) == "true"]}
    list_id = (body.get("selectRecordType") or {}).get("internalId")
    if list_id and list_id in lists:
        field["values"] = {v["valueId"]: v["value"] for v in
                           (lists[list_id].body.get("customValueList") or {}).get("customValue") or []}
    return field


def declare(store: Store, fields: list[dict], *, replace: bool = False) -> list[dict]:
    """Add or change definitions (by script id); with `replace`, the account declares these and no others.
    All or nothing: a bad definition changes nothing."""
    with store.write() as connection:
        existing = {record.body["scriptId"]: record for record in _records(connection)
                    if record.type != "customList"}
        lists = {str(record.internal_id): record for record in _records(connection) if record.type == "customList"}
        if replace:
            for record in list(existing.values()) + list(lists.values()):
                connection.execute(f"DELETE FROM {FAMILY} WHERE internal_id = ?", (record.internal_id,))
            existing, lists = {}, {}
        for field in fields:
            if not isinstance(field, dict) or not field.get("scriptId"):
                raise ValueError("each custom field needs a scriptId")
            script_id = str(field["scriptId"])
            place = place_of(script_id)
            record = existing.get(script_id)
            internal_id = record.internal_id if record else Store.next_value(connection, "customization_id", FIRST_ID)
            list_ref = None
            if field.get("values"):
                list_ref = _save_list(connection, script_id, field["values"], record)
            body = definition_body(field, internal_id, list_ref)
            if record is not None and record.type != place:
                raise ValueError(f"{script_id} is already declared as a {record.type}")
            Store.save(connection, FAMILY, StoredRecord(internal_id, place, None, 0, 0, None, None, body))
        return listing(connection)


def _save_list(connection, script_id: str, values: dict, record: StoredRecord | None) -> dict:
    list_script_id = "customlist_" + script_id.split("_", 1)[1]
    old = (record.body.get("selectRecordType") or {}).get("internalId") if record else None
    internal_id = int(old) if old else Store.next_value(connection, "customization_id", FIRST_ID)
    body = {"internalId": str(internal_id), "scriptId": list_script_id, "name": list_script_id,
            "isOrdered": "true", "isInactive": "false",
            "customValueList": {"customValue": [{"valueId": str(key), "value": str(name), "isInactive": "false"}
                                                for key, name in values.items()]}}
    Store.save(connection, FAMILY, StoredRecord(internal_id, "customList", None, 0, 0, None, None, body))
    return {"internalId": str(internal_id), "name": list_script_id}


def _records(connection) -> list[StoredRecord]:
    return [StoredRecord.from_row(row) for row in connection.execute(
        f"SELECT internal_id, type, external_id, last_modified_ms, created_ms, tran_id, parent_id, body FROM {FAMILY} "
        "ORDER BY internal_id")]


def listing(connection) -> list[dict]:
    records = _records(connection)
    lists = {str(r.internal_id): r for r in records if r.type == "customList"}
    return [plain(r.body, lists) for r in records if r.type != "customList"]


def seed_definitions(store: Store) -> None:
    """The data dir's custom_fields.json, or the default fields, when the account declares none yet."""
    with store.read() as connection:
        if connection.execute(f"SELECT 1 FROM {FAMILY} LIMIT 1").fetchone():
            return
    path = Path(store.data_dir) / CONFIG_FILE
    fields = json.loads(path.read_text()) if path.exists() else DEFAULT_FIELDS
    declare(store, fields.get("fields", []) if isinstance(fields, dict) else fields)


def customization_refs(connection, customization_type: str) -> list[dict]:
    """getCustomizationId's answer for one type: each definition's ids and name."""
    return [{"internalId": str(r.internal_id), "scriptId": r.body.get("scriptId"), "type": customization_type,
             "name": r.body.get("label") or r.body.get("name")}
            for r in _records(connection) if r.type == customization_type]


# -- definitions as the write path reads them ----------------------------------------------------------------------
class Definition:
    __slots__ = ("internal_id", "script_id", "label", "type", "ref_type", "mandatory", "values")

    def __init__(self, body: dict, values: dict[str, str] | None):
        self.internal_id = body["internalId"]
        self.script_id = body["scriptId"]
        self.label = body.get("label") or self.script_id
        self.type = BY_FIELD_TYPE.get(body.get("fieldType"), "text")
        self.ref_type = TYPES[self.type][1]
        self.mandatory = body.get("isMandatory") == "true"
        self.values = values


def definitions(connection) -> dict:
    """(record type, "body" | "line") → script id → Definition. A handful of rows: read once per request (the
    Writer keeps them)."""
    records = _records(connection)
    lists = {str(r.internal_id): r for r in records if r.type == "customList"}
    by_place: dict = {}
    for record in records:
        if record.type not in APPLIES:
            continue
        list_id = (record.body.get("selectRecordType") or {}).get("internalId")
        values = None
        if list_id in lists:
            values = {v["valueId"]: v["value"] for v in
                      (lists[list_id].body.get("customValueList") or {}).get("customValue") or []}
        definition = Definition(record.body, values)
        level = "line" if record.type == "transactionColumnCustomField" else "body"
        for record_type, flag in APPLIES[record.type].items():
            if record.body.get(flag) == "true":
                by_place.setdefault((record_type, level), {})[definition.script_id] = definition
    return by_place


def catalog_properties(store: Store, record_type: str, level: str) -> dict:
    """The metadata catalog's JSON schema properties of a record type's custom fields (or its lines')."""
    with store.read() as connection:
        declared = definitions(connection).get((record_type, level), {})
    properties = {}
    for definition in declared.values():
        schema = dict(JSON_SCHEMA[definition.type])
        schema.update({"title": definition.label, "nullable": not definition.mandatory, "x-ns-custom-field": True})
        if definition.values is not None:
            schema["enum"] = sorted(definition.values)
        properties[definition.script_id] = schema
    return properties


_REF = {"type": "object", "properties": {"id": {"type": "string"}, "refName": {"type": "string"}}}
JSON_SCHEMA = {
    **{name: {"type": "string"} for name in ("text", "textarea", "email", "url", "phone")},
    "integer": {"type": "integer", "format": "int64"},
    "number": {"type": "number", "format": "double"},
    "currency": {"type": "number", "format": "double"},
    "percent": {"type": "number", "format": "double"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "checkbox": {"type": "boolean"},
    "select": _REF,
    "multiselect": {"type": "array", "items": _REF},
}


# -- values on a write ---------------------------------------------------------------------------------------------
def apply(declared: dict, record_type: str, label: str, body: dict, zone: ZoneInfo) -> None:
    """Check and normalise the custom fields of a record about to be saved (its body's and its lines'), and refuse it
    when a mandatory one is missing. `declared`: definitions(connection). Raises CustomFieldError."""
    if not declared and "customFieldList" not in body and not _lines_carry_custom(body):
        return
    _apply_level(declared.get((record_type, "body"), {}), body, label, "", zone)
    lines = (body.get("itemList") or {}).get("item") or []
    line_defs = declared.get((record_type, "line"), {})
    for position, line in enumerate(lines, start=1):
        _apply_level(line_defs, line, f"{label} line", f" (line {position})", zone)


def _lines_carry_custom(body: dict) -> bool:
    return any("customFieldList" in line for line in (body.get("itemList") or {}).get("item") or [])


def _apply_level(declared: dict, holder: dict, where: str, suffix: str, zone: ZoneInfo) -> None:
    by_id = {definition.internal_id: definition for definition in declared.values()}
    fields = []
    for field in (holder.get("customFieldList") or {}).get("customField") or []:
        definition = declared.get(field.get("scriptId") or "") or by_id.get(str(field.get("internalId") or ""))
        if definition is None:
            name = field.get("scriptId") or field.get("internalId")
            raise CustomFieldError("INVALID_CSTM_FIELD_REF",
                                   f"The custom field {name} is not declared on {where} in this account.")
        value = _normalise(definition, field, zone)
        if value is None:
            continue   # an empty value clears the field
        stored = {"xsiType": f"{{{CORE_NS}}}{definition.ref_type}", "internalId": definition.internal_id,
                  "scriptId": definition.script_id, "value": value}
        if definition.type == "date":
            stored["_dateOnly"] = True   # REST answers a date field as YYYY-MM-DD (SOAP: a dateTime either way)
        fields.append(stored)
    if fields or "customFieldList" in holder:
        if fields:
            holder["customFieldList"] = {"customField": fields}
        else:
            holder.pop("customFieldList", None)
    present = {field["scriptId"] for field in fields}
    missing = [d.label for d in declared.values() if d.mandatory and d.script_id not in present]
    if missing:
        raise CustomFieldError("USER_ERROR", "Please enter value(s) for: " + ", ".join(missing) + suffix)


def _wrong(definition: Definition, sent: str, value) -> CustomFieldError:
    return CustomFieldError("INVALID_CSTM_FIELD_DATA_TYP",
                            f"The value {value!r} ({sent}) is not valid for the custom field {definition.script_id}, "
                            f"a {definition.type} field ({definition.ref_type}).")


def _normalise(definition: Definition, field: dict, zone: ZoneInfo):
    sent = (field.get("xsiType") or "").rpartition("}")[2] or "a value"
    value = field.get("value")
    if value is None or value == "" or value == []:
        return None
    kind = definition.type
    # SOAP names the value's kind by its CustomFieldRef; REST's JSON value arrives as the nearest one (a number as a
    # Double or Long, a date as text). Both are held to the declared type.
    if kind in ("integer", "number", "currency", "percent"):
        if sent not in ("DoubleCustomFieldRef", "LongCustomFieldRef", "StringCustomFieldRef") or isinstance(value, dict):
            raise _wrong(definition, sent, value)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise _wrong(definition, sent, value) from None
        if kind == "integer":
            if number != int(number):
                raise _wrong(definition, sent, value)
            return str(int(number))
        return repr(number)
    if kind == "checkbox":
        if sent not in ("BooleanCustomFieldRef", "StringCustomFieldRef") or str(value) not in ("true", "false", "1", "0"):
            raise _wrong(definition, sent, value)
        return "true" if str(value) in ("true", "1") else "false"
    if kind in ("date", "datetime"):
        if isinstance(value, int) and sent == "DateCustomFieldRef":
            return value
        if sent not in ("DateCustomFieldRef", "StringCustomFieldRef") or not isinstance(value, str):
            raise _wrong(definition, sent, value)
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise _wrong(definition, sent, value) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return int(moment.timestamp() * 1000)
    if kind in ("select", "multiselect"):
        refs = value if isinstance(value, list) else [value]
        if sent not in ("SelectCustomFieldRef", "MultiSelectCustomFieldRef") or not all(isinstance(r, dict) for r in refs):
            raise _wrong(definition, sent, value)
        resolved = []
        for ref in refs:
            key = str(ref.get("internalId") or "")
            if definition.values is not None and key not in definition.values:
                raise CustomFieldError("INVALID_KEY_OR_REF", f"Invalid {definition.script_id} reference key "
                                       f"{key or ref.get('externalId') or ''}.")
            resolved.append({"internalId": key, "name": (definition.values or {}).get(key, ref.get("name", ""))})
        return resolved if kind == "multiselect" else resolved[0]
    if sent not in ("StringCustomFieldRef", "LongCustomFieldRef", "DoubleCustomFieldRef") or isinstance(value, (dict, list)):
        raise _wrong(definition, sent, value)
    return str(value)
