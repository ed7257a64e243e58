"""Records between REST JSON and the bodies the store keeps (SOAP-shaped, see schema.Codec), so a record written
over one transport reads the same over the other.

REST names the same fields as SOAP (lowerCamel) but shapes them differently (the Help Center's "NetSuite Record Structure"
and "Getting a Record Instance", section_1545141500.html):
- the internal id is `id`; a reference is `{"id": ..., "refName": ...}` (SOAP: RecordRef internalId/name) and may be
  written as `{"id": ...}` or `{"externalId": ...}`;
- a sublist is an object with `items` under the sublist's name (`item`, `apply`, `expense`), not `itemList.item[]`;
- custom fields are plain top-level fields named by script id (`custentity_...`), not a customFieldList;
- booleans and numbers are JSON booleans and numbers, not text; dates are `YYYY-MM-DD` and date-times ISO 8601 in
  UTC ("Using Datetime Fields"), where SOAP answers in the account's zone;
- `null` empties a field (SOAP: nullFieldList).
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ..envelope import core

SUBLISTS = {"item": ("itemList", "item"), "apply": ("applyList", "apply"), "expense": ("expenseList", "expense"),
            "deposit": ("depositList", "customerRefundDeposit"), "line": ("lineList", "line")}
# Sublists whose lines name another transaction by `doc` (REST: {"id": ...}).
DOC_SUBLISTS = ("apply", "deposit")
SOAP_SUBLISTS = {soap: (rest, inner) for rest, (soap, inner) in SUBLISTS.items()}
# Fields whose SOAP type is xsd:dateTime but which NetSuite treats as calendar dates (REST answers YYYY-MM-DD).
DATE_ONLY = {"tranDate", "applyDate", "dueDate", "shipDate", "startDate", "endDate", "expectedReceiveDate",
             "birthDate", "closeDate", "saleEffectiveDate"}
NUMBERS = {"quantity", "rate", "amount", "total", "subTotal", "payment", "applied", "unapplied", "due", "balance",
           "creditLimit", "discountTotal", "taxTotal", "exchangeRate", "grossAmt", "quantityBilled",
           "quantityReceived", "quantityFulfilled", "disc", "discAmt", "handlingCost", "shippingCost",
           "amountPaid", "amountRemaining", "debit", "credit", "remaining"}
INTEGERS = {"line", "orderLine"}
BOOLEANS = {"apply", "taxable", "unsubscribe", "giveAccess", "sendEmail", "toBePrinted", "toBeEmailed", "toBeFaxed",
            "ccApproved", "undepFunds", "chargeIt", "autoApply", "emailTransactions", "printTransactions",
            "faxTransactions", "shipComplete", "sendTransactionsVia", "globalSubscriptionStatus", "approved"}
CUSTOM_PREFIXES = ("custentity", "custbody", "custcol", "custitem", "custevent", "custrecord")
# Where a reference's record type follows from the field (for its `links`); others carry id and refName only.
REFERENCE_TYPES = {"customer": "customer", "subsidiary": "subsidiary", "currency": "currency"}
ENTITY_TYPES = {"salesOrder": "customer", "purchaseOrder": "vendor"}

CUSTOM_REF = {name: core(name) for name in (
    "StringCustomFieldRef", "BooleanCustomFieldRef", "LongCustomFieldRef", "DoubleCustomFieldRef",
    "SelectCustomFieldRef", "MultiSelectCustomFieldRef", "DateCustomFieldRef")}


class FieldError(ValueError):
    def __init__(self, path: str, detail: str):
        super().__init__(detail)
        self.path = path
        self.detail = detail


def _is_boolean(name: str) -> bool:
    return name in BOOLEANS or (name.startswith("is") and (name[2:3].isupper() or name[2:3].isdigit()))


# -- stored -> REST ----------------------------------------------------------------------------------
class Output:
    """Stored bodies as REST JSON, with links under `base` (…/services/rest/record/v1)."""

    def __init__(self, base: str, zone: ZoneInfo):
        self.base = base
        self.zone = zone

    def when(self, name: str, epoch_ms: int) -> str:
        if name in DATE_ONLY:
            return dt.datetime.fromtimestamp(epoch_ms / 1000, self.zone).date().isoformat()
        return dt.datetime.fromtimestamp(epoch_ms // 1000, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def record(self, record_type: str, body: dict, *, expand: bool, fields: set[str] | None = None) -> dict:
        internal_id = body.get("internalId")
        href = f"{self.base}/{record_type}/{internal_id}"
        result: dict = {"links": [{"rel": "self", "href": href}]}
        for name, value in body.items():
            if name.startswith("_") or name in ("internalId", "nullFieldList", "xsiType"):
                continue
            if name == "customFieldList":
                for field in (value or {}).get("customField", []):
                    if field.get("scriptId") and (fields is None or field["scriptId"] in fields):
                        result[field["scriptId"]] = self.custom_value(field)
                continue
            if name in SOAP_SUBLISTS:
                rest_name, inner = SOAP_SUBLISTS[name]
                if fields is not None and rest_name not in fields:
                    continue
                sublist: dict = {"links": [{"rel": "self", "href": f"{href}/{rest_name}"}]}
                if expand:
                    lines = (value or {}).get(inner) or []
                    sublist["items"] = [self.line(rest_name, line) for line in lines]
                    sublist["totalResults"] = len(lines)
                result[rest_name] = sublist
                continue
            if fields is not None and name not in fields:
                continue
            result[name] = self.value(name, value, record_type)
        result["id"] = internal_id
        return result

    def line(self, sublist: str, line: dict) -> dict:
        result: dict = {"links": []}
        for name, value in line.items():
            if name.startswith("_") or name == "xsiType":
                continue
            if name == "customFieldList":
                for field in (value or {}).get("customField", []):
                    if field.get("scriptId"):
                        result[field["scriptId"]] = self.custom_value(field)
            elif sublist in DOC_SUBLISTS and name == "doc":
                result["doc"] = {"id": str(value)}
            else:
                result[name] = self.value(name, value, None)
        return result

    def reference(self, ref: dict, ref_type: str | None) -> dict:
        result: dict = {}
        if ref_type and ref.get("internalId"):
            result["links"] = [{"rel": "self", "href": f"{self.base}/{ref_type}/{ref['internalId']}"}]
        if ref.get("internalId") is not None:
            result["id"] = str(ref["internalId"])
        if ref.get("externalId"):
            result["externalId"] = ref["externalId"]
        if ref.get("name") is not None:
            result["refName"] = ref["name"]
        return result

    def value(self, name: str, value, record_type: str | None):
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return self.when(name, value)
        if isinstance(value, dict):
            if "internalId" in value or "externalId" in value:
                ref_type = ENTITY_TYPES.get(record_type) if name == "entity" else REFERENCE_TYPES.get(name)
                return self.reference(value, ref_type)
            return {key: self.value(key, item, None) for key, item in value.items() if key != "xsiType"}
        if isinstance(value, list):
            return [self.value(name, item, None) for item in value]
        if isinstance(value, str):
            if _is_boolean(name) and value in ("true", "false"):
                return value == "true"
            if name in INTEGERS:
                try:
                    return int(float(value))
                except ValueError:
                    return value
            if name in NUMBERS:
                try:
                    return float(value)
                except ValueError:
                    return value
        return value

    def custom_value(self, field: dict):
        kind = (field.get("xsiType") or "").rpartition("}")[2]
        value = field.get("value")
        if kind == "BooleanCustomFieldRef":
            return value == "true"
        if kind in ("LongCustomFieldRef", "DoubleCustomFieldRef"):
            try:
                return int(value) if kind == "LongCustomFieldRef" else float(value)
            except (TypeError, ValueError):
                return value
        if kind == "DateCustomFieldRef" and isinstance(value, int):
            # A date field (not a date-time one) is a calendar day: YYYY-MM-DD, as DATE_ONLY fields are.
            return self.when("tranDate" if field.get("_dateOnly") else "", value)
        if kind == "SelectCustomFieldRef" and isinstance(value, dict):
            return self.reference(value, None)
        if kind == "MultiSelectCustomFieldRef":
            return [self.reference(ref, None) for ref in (value if isinstance(value, list) else [value]) if ref]
        return value


# -- REST -> stored ----------------------------------------------------------------------------------
class Input:
    """A REST body as the incoming dict records.Writer takes (SOAP-shaped)."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone

    def record(self, body: dict, *, replace: set[str]) -> dict:
        if not isinstance(body, dict):
            raise FieldError("", "The request body must be a JSON object.")
        incoming: dict = {}
        nulls: list[str] = []
        custom: list[dict] = []
        for name, value in body.items():
            if name in ("links", "id", "refName"):
                continue   # read-only, as with ignoreReadOnlyFields
            if name == "externalId":
                if value is not None:
                    incoming["externalId"] = str(value)
                continue
            if name.startswith(CUSTOM_PREFIXES):
                custom.append(self.custom_field(name, value))
                continue
            if value is None:
                nulls.append(name)
                continue
            if isinstance(value, dict) and "items" in value:
                soap_name, inner = SUBLISTS.get(name, (f"{name}List", name))
                lines = value["items"]
                if not isinstance(lines, list):
                    raise FieldError(f"{name}.items", f"The {name} sublist's items must be an array.")
                incoming[soap_name] = {inner: [self.line(name, line, f"{name}.items[{index}]")
                                               for index, line in enumerate(lines)],
                                       "replaceAll": "true" if name in replace else "false"}
                continue
            incoming[name] = self.value(name, value, name)
        if nulls:
            incoming["nullFieldList"] = {"name": nulls}
        if custom:
            incoming["customFieldList"] = {"customField": custom}
        return incoming

    def line(self, sublist: str, line, path: str) -> dict:
        if not isinstance(line, dict):
            raise FieldError(path, "A sublist line must be a JSON object.")
        result: dict = {}
        custom: list[dict] = []
        for name, value in line.items():
            if name in ("links", "refName") or value is None:
                continue
            if name.startswith(CUSTOM_PREFIXES):
                custom.append(self.custom_field(name, value))
            elif sublist in DOC_SUBLISTS and name == "doc":
                result["doc"] = str(value.get("id") if isinstance(value, dict) else value)
            else:
                result[name] = self.value(name, value, f"{path}.{name}")
        if custom:
            result["customFieldList"] = {"customField": custom}
        return result

    def value(self, name: str, value, path: str):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, dict):
            if "id" in value or "externalId" in value:
                ref = {}
                if value.get("id") is not None:
                    ref["internalId"] = str(value["id"])
                if value.get("externalId") is not None:
                    ref["externalId"] = str(value["externalId"])
                return ref
            return {key: self.value(key, item, f"{path}.{key}") for key, item in value.items() if item is not None}
        if isinstance(value, list):
            return [self.value(name, item, f"{path}[{index}]") for index, item in enumerate(value)]
        if isinstance(value, str) and (name in DATE_ONLY or name.endswith("Date")) and value:
            return self.when(value, path)
        return value

    def when(self, text: str, path: str) -> int:
        try:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise FieldError(path, f"Invalid date value {text!r}. Use the ISO 8601 format (YYYY-MM-DD or "
                                   "YYYY-MM-DDThh:mm:ssZ).") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return int(moment.timestamp() * 1000)

    def custom_field(self, script_id: str, value) -> dict:
        if isinstance(value, bool):
            kind, stored = "BooleanCustomFieldRef", "true" if value else "false"
        elif isinstance(value, int):
            kind, stored = "LongCustomFieldRef", str(value)
        elif isinstance(value, float):
            kind, stored = "DoubleCustomFieldRef", str(value)
        elif isinstance(value, dict):
            kind, stored = "SelectCustomFieldRef", self.value(script_id, value, script_id)
        elif isinstance(value, list):
            kind, stored = "MultiSelectCustomFieldRef", [self.value(script_id, item, script_id) for item in value]
        else:
            kind, stored = "StringCustomFieldRef", "" if value is None else str(value)
        return {"xsiType": CUSTOM_REF[kind], "scriptId": script_id, "value": stored}
