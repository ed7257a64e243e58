"""The record service, /services/rest/record/v1/{type}[/{id | eid:externalId}], over the store SOAP uses.

References (all on docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/):
- get: section_1545141500.html; delete: section_1545142287.html; create and update: "Creating a Record
  Instance", "Updating a Record Instance"; upsert (PUT on eid:): section_156335203191.html; external ids: section_156334828635.html
- sublists on update: lines are merged by `line` unless `replace=<sublist>` asks for the sublist to be replaced
  ("Updating a Record Instance")
"""
from __future__ import annotations

import re
import urllib.parse
from zoneinfo import ZoneInfo

from .. import records
from ..accounting import AccountingError
from ..operations_money import delete_record
from ..records import KINDS, Writer, WriteError
from ..store import Store
from .answers import COLLECTION, Answer
from .errors import RestError, bad_request, not_found_record
from .fields import FieldError, Input, Output

BY_LOWER = {name.lower(): kind for name, kind in KINDS.items()}
LIST_LIMIT = 1000
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9_\-.:@ ]+$")


def kind_of(record_type: str):
    # Record type names in REST URLs are matched regardless of case (salesorder, salesOrder).
    kind = BY_LOWER.get(record_type.lower())
    if kind is None:
        raise RestError(404, "NONEXISTENT_ID", f"Record type '{record_type}' does not exist.", url=record_type)
    return kind


def write_error(error: WriteError) -> RestError:
    """A per-record refusal of records.Writer, in REST's words."""
    if error.code == "RCRD_DSNT_EXIST":
        return not_found_record()
    if error.code == "INSUFFICIENT_PERMISSION":
        return RestError(403, "INSUFFICIENT_PERMISSION", error.message)
    if error.code == "RCRD_HAS_BEEN_CHANGED":
        return bad_request("RCRD_HAS_BEEN_CHANGED", error.message)
    field = re.match(r"Invalid (\w+) reference", error.message) or re.match(r"Please enter value\(s\) for: (\w+)",
                                                                             error.message)
    code = error.code if error.code.startswith(("CANT_", "INVALID_RCRD")) else "USER_ERROR"
    return bad_request(code, f"Error while accessing a resource. {error.message}",
                       error_path=field.group(1) if field else None)


class RecordService:
    def __init__(self, store: Store, zone: ZoneInfo, governance):
        self.store = store
        self.zone = zone
        self.governance = governance
        self.input = Input(zone)

    # -- entry -------------------------------------------------------------------------------------
    def perform(self, method: str, segments: list[str], query: dict, body, base: str, operation: str) -> Answer:
        """One record request; `segments` is the path after record/v1/ ([type] or [type, id])."""
        try:
            kind = kind_of(segments[0])
            key = urllib.parse.unquote(segments[1]) if len(segments) > 1 else None
            if len(segments) == 4 and segments[2] == "!transform" and method == "POST":
                return self.transform(kind, key, segments[3], body, query, base, operation)
            if len(segments) > 2:
                raise RestError(404, "NONEXISTENT_ID", "The sandbox serves no sub-resources; ask for the record with "
                                "expandSubResources=true.", url="/".join(segments))
            if method == "GET":
                return self.read(kind, key, query, base) if key else self.list(kind, query, base)
            if method == "POST" and key is None:
                if kind.type in TRANSFORM_ONLY:
                    # "you can create a deposit application only by transformation" (Deposit Application,
                    # article_0830101547.html): POST customerDeposit/<id>/!transform/depositApplication.
                    raise bad_request("INVALID_REQUEST", f"A {kind.label} can only be created by transforming a "
                                      f"{TRANSFORM_ONLY[kind.type]}: POST {TRANSFORM_ONLY[kind.type]}/<id>/!transform/"
                                      f"{kind.type}.")
                return self.write(kind, "add", None, body, query, base, operation)
            if method == "PATCH" and key is not None:
                return self.write(kind, "update", key, body, query, base, operation)
            if method == "PUT" and key is not None:
                if not key.startswith("eid:"):
                    raise bad_request("INVALID_REQUEST", "The upsert operation (PUT) needs an external ID in the URL: "
                                      f"{kind.type}/eid:<externalId>.", url=key)
                return self.write(kind, "upsert", key, body, query, base, operation)
            if method == "DELETE" and key is not None:
                return self.delete(kind, key, operation)
            raise RestError(405, "METHOD_NOT_ALLOWED", f"The {method} method is not allowed on this resource.")
        except RestError as error:
            return Answer.from_error(error)

    # -- keys --------------------------------------------------------------------------------------
    @staticmethod
    def _key(key: str) -> tuple[str | None, str | None]:
        if key.startswith("eid:"):
            external_id = key[4:]
            if not external_id:
                raise bad_request("INVALID_ID", "An external ID must not be empty.", url=key)
            return None, external_id
        if not key.isdigit():
            raise RestError(404, "NONEXISTENT_ID", "The record instance does not exist. Provide a valid record "
                            "instance ID.", url=key)
        return key, None

    def _find(self, connection, kind, key: str):
        internal_id, external_id = self._key(key)
        return Writer(connection).find(kind, internal_id, external_id)

    # -- reads -------------------------------------------------------------------------------------
    def read(self, kind, key: str, query: dict, base: str) -> Answer:
        with self.store.read() as connection:
            record = self._find(connection, kind, key)
        if record is None:
            raise not_found_record()
        expand = query.get("expandSubResources", "false").lower() == "true"
        fields = set(query["fields"].split(",")) if query.get("fields") else None
        return Answer(200, Output(base, self.zone).record(kind.type, record.body, expand=expand, fields=fields),
                      records=1)

    def list(self, kind, query: dict, base: str) -> Answer:
        limit, offset = paging(query, LIST_LIMIT)
        with self.store.read() as connection:
            total = connection.execute(f"SELECT COUNT(*) FROM {kind.family} WHERE type = ?", (kind.type,)).fetchone()[0]
            ids = [row[0] for row in connection.execute(
                f"SELECT internal_id FROM {kind.family} WHERE type = ? ORDER BY internal_id LIMIT ? OFFSET ?",
                (kind.type, limit, offset))]
        url = f"{base}/{kind.type}"
        items = [{"links": [{"rel": "self", "href": f"{url}/{i}"}], "id": str(i)} for i in ids]
        return Answer(200, collection(url, items, limit, offset, total), content_type=COLLECTION, records=len(items))

    # -- writes ------------------------------------------------------------------------------------
    def write(self, kind, action: str, key: str | None, body, query: dict, base: str, operation: str) -> Answer:
        replace = set(filter(None, (query.get("replace") or "").split(",")))
        try:
            incoming = self.input.record(body, replace=replace if action != "add" else set(SUBLIST_NAMES))
        except FieldError as error:
            raise bad_request("INVALID_CONTENT", error.detail, error_path=error.path or None) from None
        if key is not None:
            internal_id, external_id = self._key(key)
            if action == "upsert":
                if incoming.get("externalId") not in (None, external_id):
                    raise bad_request("INVALID_CONTENT", "The externalId in the body differs from the one in the URL.",
                                      error_path="externalId")
                incoming["externalId"] = external_id
            elif internal_id:
                incoming["internalId"] = internal_id
            else:
                incoming["_lookup_external_id"] = external_id
        if self.governance.take("record_changed", operation, (incoming.get("externalId"), incoming.get("internalId"))):
            raise bad_request("RCRD_HAS_BEEN_CHANGED",
                              "Record has been changed since you retrieved it; reload it and try again.")
        with self.store.write() as connection:
            writer = Writer(connection, self.zone)
            if action == "update" and incoming.get("_lookup_external_id"):
                # PATCH on eid: names the record by its external id; the body may then set a new one.
                existing = writer.find(kind, None, incoming.pop("_lookup_external_id"))
                if existing is None:
                    raise not_found_record()
                incoming["internalId"] = str(existing.internal_id)
            connection.execute("SAVEPOINT record")
            try:
                record = writer.write(action, kind, incoming)
            except WriteError as error:
                connection.execute("ROLLBACK TO record")
                connection.execute("RELEASE record")
                raise write_error(error) from None
            connection.execute("RELEASE record")
        return Answer(204, None, {"Location": f"{base}/{kind.type}/{record.internal_id}"}, records=1)

    def transform(self, source_kind, key: str, target: str, body, query: dict, base: str, operation: str) -> Answer:
        """POST {type}/{id}/!transform/{target}: a new record made from another (an order billed into an invoice, an
        invoice credited, a deposit applied), the body's fields over what NetSuite proposes."""
        target_kind = kind_of(target)
        field = TRANSFORMS.get((source_kind.type, target_kind.type))
        if field is None:
            raise bad_request("INVALID_REQUEST", f"A {source_kind.label} cannot be transformed into a "
                              f"{target_kind.label}.", url=target)
        internal_id, external_id = self._key(key)
        with self.store.read() as connection:
            source = Writer(connection).find(source_kind, internal_id, external_id)
        if source is None:
            raise not_found_record()
        body = dict(body or {})
        body[field] = {"id": str(source.internal_id)}
        return self.write(target_kind, "add", None, body, query, base, operation)

    def delete(self, kind, key: str, operation: str) -> Answer:
        with self.store.write() as connection:
            record = self._find(connection, kind, key)
            if record is None:
                raise not_found_record()
            if kind.family == "items":
                raise RestError(403, "INSUFFICIENT_PERMISSION", "The sandbox keeps a fixed list of items.")
            try:
                # An entity's dependants are its transactions and contacts; a transaction's, the transactions
                # applied to it or created from it (ids are unique per record group only: see store.py).
                delete_record(connection, kind, record, records.now_ms())
            except AccountingError as error:
                raise bad_request(error.code, f"Error while accessing a resource. {error.message}") from None
        return Answer(204, records=1)


SUBLIST_NAMES = ("item", "apply", "expense", "deposit", "line")
# REST's record transformations ("Transforming Records"): (from, to) → the field of the new record naming the source.
TRANSFORMS = {("salesOrder", "invoice"): "createdFrom", ("invoice", "creditMemo"): "createdFrom",
              ("customerDeposit", "depositApplication"): "deposit"}
TRANSFORM_ONLY = {"depositApplication": "customerDeposit"}


def paging(query: dict, maximum: int) -> tuple[int, int]:
    """limit and offset of a collection ("Collection Paging")."""
    try:
        limit = int(query.get("limit", maximum))
        offset = int(query.get("offset", 0))
    except ValueError:
        raise bad_request("INVALID_PARAMETER", "The limit and offset query parameters must be integers.",
                          query_param="limit" if not str(query.get("limit", "0")).lstrip("-").isdigit() else "offset")
    if not 1 <= limit <= maximum:
        raise bad_request("INVALID_PARAMETER", f"Invalid 'limit' value {limit}. The value must be between 1 and "
                          f"{maximum}.", query_param="limit")
    if offset < 0:
        raise bad_request("INVALID_PARAMETER", f"Invalid 'offset' value {offset}. The value must not be negative.",
                          query_param="offset")
    return limit, offset


def collection(url: str, items: list, limit: int, offset: int, total: int, extra_query: str = "") -> dict:
    """A collection page with its navigation links: first, previous, next, last and self, as NetSuite lists them."""
    def page(at: int) -> dict:
        return f"{url}?{extra_query}limit={limit}&offset={at}"

    links = []
    last = max(((total - 1) // limit) * limit, 0)
    links.append({"rel": "first", "href": page(0)})
    if offset > 0:
        links.append({"rel": "previous", "href": page(max(offset - limit, 0))})
    has_more = offset + len(items) < total
    if has_more:
        links.append({"rel": "next", "href": page(offset + limit)})
    links.append({"rel": "last", "href": page(last)})
    links.append({"rel": "self", "href": page(offset)})
    return {"links": links, "count": len(items), "hasMore": has_more, "items": items, "offset": offset,
            "totalResults": total}
