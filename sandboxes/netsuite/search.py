"""Basic searches (Customer/Contact/Vendor/Transaction, plain or wrapped in the advanced XSearch) as SQL.

A search is turned into criteria once; the criteria are kept under a searchId so searchMoreWithId
can re-run them for any page, as NetSuite does. Results come in NetSuite's implicit order for the record family
(transactions by date created, entities by name; see DEFAULT_ORDER), so pages never overlap or skip while the data
stands still, and a client cannot page by lastModifiedDate.
"""
from __future__ import annotations

import datetime as dt
import secrets
from zoneinfo import ZoneInfo

from .envelope import COMMON_NS
from .records import BY_SEARCH_TYPE
from .store import COLUMNS, StoredRecord

MIN_PAGE_SIZE, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE = 5, 1000, 1000

BASIC_SEARCHES = {
    f"{{{COMMON_NS}}}CustomerSearchBasic": ("entities", ["customer"]),
    f"{{{COMMON_NS}}}ContactSearchBasic": ("entities", ["contact"]),
    f"{{{COMMON_NS}}}VendorSearchBasic": ("entities", ["vendor"]),
    f"{{{COMMON_NS}}}TransactionSearchBasic": ("transactions", ["salesOrder", "purchaseOrder", "customerPayment",
                                                                "invoice", "customerDeposit", "depositApplication",
                                                                "creditMemo", "customerRefund", "journalEntry"]),
}
COLUMN_FIELDS = {
    "lastModifiedDate": "last_modified_ms",
    "dateCreated": "created_ms",
    "internalId": "internal_id",
    "internalIdNumber": "internal_id",
    "externalId": "external_id",
    "externalIdString": "external_id",
    "tranId": "tran_id",
}
PARENT_FIELDS = {"transactions": ("entity", "customer", "vendor", "name"), "entities": ("company",)}
IGNORED_FIELDS = {"mainLine"}  # results are always the body (main) line


class SearchError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _field_type(model, search_type: str, name: str) -> str:
    found = model.complex[search_type].by_name.get(name)
    return found[1].type.rpartition("}")[2] if found else ""


def build_criteria(search_record: dict, model, zone: ZoneInfo) -> dict:
    """Turn a decoded searchRecord into storable criteria, refusing what the sandbox cannot search."""
    search_type = search_record.get("xsiType", "")
    basic = search_record
    if search_type not in BASIC_SEARCHES:
        joins = [k for k in search_record if k not in ("xsiType", "basic")]
        inner = search_record.get("basic")
        # The XSD makes `basic` optional: an XSearch without it has no criteria and, like a search with no filters
        # in the UI, returns every record of the type (Oracle help: "Advanced Searches in SOAP Web Services").
        if inner is None and not joins:
            inner = {}
        if joins or not isinstance(inner, dict):
            got = " ".join([search_type.rpartition("}")[2]] + joins)
            raise SearchError("INVALID_SRCH_CRITERIA",
                              f"The sandbox searches only basic criteria of Customer, Contact, Vendor and Transaction (got {got}).")
        basic = inner
        search_type = next(
            (t for t in BASIC_SEARCHES if model.is_subtype(t, _basic_type_of(model, search_record["xsiType"]))), "")
        if not search_type:
            raise SearchError("INVALID_SRCH_CRITERIA", "Unsupported search record type.")
    family, types = BASIC_SEARCHES[search_type]
    filters = []
    for name, value in basic.items():
        if name == "xsiType" or name in IGNORED_FIELDS:
            continue
        if not name.isidentifier():
            # Field names end up in SQL (json_extract paths); the schema allows only identifiers anyway.
            raise SearchError("INVALID_SRCH_CRITERIA", f"Invalid search field {name!r}.")
        kind = _field_type(model, search_type, name)
        operator = value.get("operator")
        if name == "type" and kind == "SearchEnumMultiSelectField":
            wanted = [BY_SEARCH_TYPE[v].type for v in value.get("searchValue", []) if v in BY_SEARCH_TYPE]
            # Transaction types the sandbox does not keep (invoices ...) simply match nothing.
            types = [t for t in types if (t in wanted) == (operator != "noneOf")]
            continue
        if kind == "SearchDateField":
            if value.get("predefinedSearchValue"):
                raise SearchError("INVALID_SRCH_CRITERIA", f"predefinedSearchValue on {name} is not supported by the sandbox.")
            filters.append({"field": name, "kind": "date", "operator": operator,
                            "values": [value.get("searchValue"), value.get("searchValue2")]})
        elif kind == "SearchMultiSelectField":
            refs = value.get("searchValue", [])
            filters.append({"field": name, "kind": "multi", "operator": operator,
                            "values": [{"internalId": r.get("internalId"), "externalId": r.get("externalId"),
                                        "type": r.get("type")} for r in refs]})
        elif kind == "SearchStringField":
            filters.append({"field": name, "kind": "string", "operator": operator, "values": [value.get("searchValue")]})
        elif kind == "SearchLongField":
            filters.append({"field": name, "kind": "long", "operator": operator,
                            "values": [value.get("searchValue"), value.get("searchValue2")]})
        elif kind == "SearchBooleanField":
            filters.append({"field": name, "kind": "bool", "operator": None, "values": [value.get("searchValue")]})
        else:
            raise SearchError("INVALID_SRCH_CRITERIA", f"The sandbox cannot search on {name} ({kind}).")
    return {"family": family, "types": types, "filters": filters, "zone": str(zone)}


def _basic_type_of(model, advanced_type: str) -> str:
    found = model.complex[advanced_type].by_name.get("basic") if advanced_type in model.complex else None
    return found[1].type if found else ""


def _where(criteria: dict, connection) -> tuple[str, list]:
    family = criteria["family"]
    clauses = ["type IN (%s)" % ",".join("?" * len(criteria["types"]))] if criteria["types"] else ["0"]
    params: list = list(criteria["types"])
    zone = ZoneInfo(criteria["zone"])
    for spec in criteria["filters"]:
        name, operator, values = spec["field"], spec["operator"], spec["values"]
        column = COLUMN_FIELDS.get(name)
        if column is None and name in PARENT_FIELDS.get(family, ()):
            column = "parent_id"
        if column is None:
            column = f"json_extract(body, '$.{name}')"
        if spec["kind"] == "date":
            clause, extra = _date_clause(column, operator, values, zone)
        elif spec["kind"] == "multi":
            clause, extra = _multi_clause(column, name, operator, values, family, connection)
        elif spec["kind"] == "string":
            clause, extra = _string_clause(column, operator, values[0])
        elif spec["kind"] == "long":
            clause, extra = _long_clause(column, operator, values)
        else:
            clause, extra = f"COALESCE({column}, 'false') = ?", ["true" if values[0] in ("true", "1") else "false"]
        clauses.append(clause)
        params.extend(extra)
    return " AND ".join(clauses), params


def _date_clause(column, operator, values, zone):
    first, second = values
    if first is None:
        raise SearchError("INVALID_SRCH_CRITERIA", "A date criterion needs a searchValue.")
    simple = {"after": ">", "onOrAfter": ">=", "before": "<", "onOrBefore": "<=", "notAfter": "<=", "notBefore": ">="}
    if operator in simple:
        return f"{column} {simple[operator]} ?", [first]
    if operator in ("within", "notWithin"):
        if second is None:
            raise SearchError("INVALID_SRCH_CRITERIA", "within needs searchValue and searchValue2.")
        clause = f"{column} BETWEEN ? AND ?"
        return (clause if operator == "within" else f"NOT ({clause})"), [first, second]
    if operator in ("on", "notOn"):
        day = dt.datetime.fromtimestamp(first / 1000, zone).date()
        start = int(dt.datetime.combine(day, dt.time(), zone).timestamp() * 1000)
        end = int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).timestamp() * 1000)
        clause = f"{column} >= ? AND {column} < ?"
        return (clause if operator == "on" else f"NOT ({clause})"), [start, end]
    if operator in ("empty", "notEmpty"):
        return f"{column} IS {'NOT ' if operator == 'notEmpty' else ''}NULL", []
    raise SearchError("INVALID_SRCH_CRITERIA", f"Unsupported date operator {operator}.")


def _multi_clause(column, name, operator, refs, family, connection):
    keys = []
    for ref in refs:
        if name == "externalId":
            keys.append(ref.get("externalId") or ref.get("internalId"))
        elif ref.get("internalId"):
            keys.append(int(ref["internalId"]) if ref["internalId"].isdigit() else -1)
        elif ref.get("externalId") and column == "parent_id":
            # A parent given by externalId is looked up once, as NetSuite resolves the RecordRef.
            row = connection.execute(
                "SELECT internal_id FROM entities WHERE external_id = ? ORDER BY internal_id LIMIT 1",
                (ref["externalId"],)).fetchone()
            keys.append(row[0] if row else -1)
    if column.startswith("json_extract"):
        column = f"json_extract(body, '$.{name}.internalId')"
        keys = [str(k) for k in keys]
    if not keys:
        return ("0" if operator == "anyOf" else "1"), []
    clause = f"{column} IN ({','.join('?' * len(keys))})"
    return (clause if operator != "noneOf" else f"({column} IS NULL OR NOT {clause})"), keys


def _string_clause(column, operator, value):
    value = value or ""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    table = {
        "is": (f"{column} = ?", [value]),
        "isNot": (f"({column} IS NULL OR {column} != ?)", [value]),
        "contains": (f"{column} LIKE ? ESCAPE '\\'", [f"%{escaped}%"]),
        "doesNotContain": (f"({column} IS NULL OR {column} NOT LIKE ? ESCAPE '\\')", [f"%{escaped}%"]),
        "startsWith": (f"{column} LIKE ? ESCAPE '\\'", [f"{escaped}%"]),
        "doesNotStartWith": (f"({column} IS NULL OR {column} NOT LIKE ? ESCAPE '\\')", [f"{escaped}%"]),
        "empty": (f"({column} IS NULL OR {column} = '')", []),
        "notEmpty": (f"({column} IS NOT NULL AND {column} != '')", []),
    }
    if operator not in table:
        raise SearchError("INVALID_SRCH_CRITERIA", f"Unsupported string operator {operator}.")
    return table[operator]


def _long_clause(column, operator, values):
    first, second = (int(v) if v not in (None, "") else None for v in values)
    simple = {"equalTo": "=", "notEqualTo": "!=", "greaterThan": ">", "lessThan": "<",
              "greaterThanOrEqualTo": ">=", "lessThanOrEqualTo": "<=", "notGreaterThan": "<=", "notLessThan": ">="}
    if operator in simple:
        return f"{column} {simple[operator]} ?", [first]
    if operator in ("between", "notBetween"):
        clause = f"{column} BETWEEN ? AND ?"
        return (clause if operator == "between" else f"NOT ({clause})"), [first, second]
    raise SearchError("INVALID_SRCH_CRITERIA", f"Unsupported number operator {operator}.")


# A SOAP search cannot ask for an order; an ad-hoc one comes back in the record family's implicit "sorted by" order:
# transactions by date created, entities and items by name (internal id breaks ties here).
# Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N3518731.html
DEFAULT_ORDER = {
    "transactions": "created_ms, internal_id",
    "entities": "lower(COALESCE(json_extract(body, '$.entityId'), '')), internal_id",
    "items": "lower(COALESCE(json_extract(body, '$.itemId'), '')), internal_id",
}


def run(connection, criteria: dict, page_size: int, page_index: int) -> tuple[int, list[StoredRecord]]:
    where, params = _where(criteria, connection)
    table = criteria["family"]
    total = connection.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", params).fetchone()[0]
    rows = connection.execute(
        f"SELECT {COLUMNS} FROM {table} WHERE {where} ORDER BY {DEFAULT_ORDER[table]} LIMIT ? OFFSET ?",
        params + [page_size, (page_index - 1) * page_size],
    ).fetchall()
    return total, [StoredRecord.from_row(row) for row in rows]


def new_search_id(account: str) -> str:
    return f"WEBSERVICES_{account}_{dt.datetime.utcnow():%m%d%Y%H%M%S}{secrets.token_hex(10)}"


def body_fields_only(body: dict) -> dict:
    return {k: v for k, v in body.items() if not k.endswith("List") or k in ("customFieldList", "nullFieldList")}

