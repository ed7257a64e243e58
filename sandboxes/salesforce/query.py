"""SOQL against the store: resolve names with the schema, compile to parameterised SQL, shape records, page.

Values never reach the SQL text: every literal becomes a `?` parameter. Names do, but only after they have been
resolved to a schema field, so the SQL only ever contains quoted API names the schema defines. One compiler for
the whole SOQL subset, so it stays one module, longer than most.
"""
import collections
import datetime as dt
import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field

from . import aggregate, date_literals, ids, schema, soql, users
from .errors import ApiError
from .store import Store, quote, now_stamp

DEFAULT_PAGE = 2000
MIN_PAGE = 200
MAX_OFFSET = 2000
CURSOR_TTL_SECONDS = 15 * 60
MAX_CURSORS = 100


def invalid_field(query: soql.Query, pos: int, message: str) -> ApiError:
    return ApiError("INVALID_FIELD", soql.located(query.text, pos, message))


def malformed(query: soql.Query, pos: int, message: str) -> ApiError:
    return ApiError("MALFORMED_QUERY", soql.located(query.text, pos, message))


def no_such_column(query, ref, obj_name):
    return invalid_field(query, ref.pos, (
        f"No such column '{ref.path[-1]}' on entity '{obj_name}'. If you are attempting to use a custom field, be "
        "sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for "
        "the appropriate names."))


def filterable(f: schema.Field) -> bool:
    return not (f.type == schema.TEXTAREA and f.length > 255)


def datetime_value(text: str) -> str:
    """A SOQL date-time literal in the store's form (UTC, milliseconds)."""
    normalized = text.replace("Z", "+00:00")
    if len(normalized) > 6 and normalized[-5] in "+-" and normalized[-3] != ":":
        normalized = normalized[:-2] + ":" + normalized[-2:]
    if "." in normalized:
        head, rest = normalized.split(".", 1)
        digits, zone = rest[:-6], rest[-6:]
        normalized = f"{head}.{(digits + '000000')[:6]}{zone}"
    return now_stamp(dt.datetime.fromisoformat(normalized))


@dataclass
class Selected:
    relationships: tuple      # relationship fields from the root object to the field's object
    field: schema.Field
    sql: str


@dataclass
class Compiled:
    obj: schema.SObject
    query: soql.Query
    joins: dict = field(default_factory=dict)       # relationship path (lower names) -> (alias, sql, target obj)
    selected: list = field(default_factory=list)    # Selected, in SELECT order
    parent_ids: dict = field(default_factory=dict)  # relationship path -> sql of the parent's Id
    where_sql: str = ""
    params: list = field(default_factory=list)
    order_sql: str = ""
    subqueries: list = field(default_factory=list)  # (ChildRelationship, Compiled)
    aggregate: "aggregate.Plan | None" = None       # set for GROUP BY and aggregate functions


class Compiler:
    def __init__(self, query: soql.Query, obj: schema.SObject, alias_counter=None, now: dt.datetime | None = None):
        self.query = query
        self.compiled = Compiled(obj, query)
        self.aliases = alias_counter or itertools.count(1)
        self.now = now                  # the moment date literals are read at (None: the current time)
        self.grouped = None             # in HAVING: the keys of the grouped fields, the only ones it may name

    def resolve(self, ref: soql.FieldRef) -> Selected:
        obj = self.compiled.obj
        path = list(ref.path)
        # SOQL allows qualifying a field with the queried object's own name: `SELECT Account.Name FROM Account`.
        if len(path) > 1 and path[0].lower() == obj.name.lower() and not obj.relationship(path[0]):
            path = path[1:]
        alias = "t0"
        relationships = []
        key = ()
        for part in path[:-1]:
            rel = obj.relationship(part)
            if rel is None or rel.reference_to not in schema.BY_NAME:
                raise invalid_field(self.query, ref.pos, (
                    f"Didn't understand relationship '{part}' in field path. If you are attempting to use a custom "
                    "relationship, be sure to append the '__r' after the custom relationship name. Please reference "
                    "your WSDL or the describe call for the appropriate names."))
            key = key + (rel.name.lower(),)
            target = schema.BY_NAME[rel.reference_to]
            if key not in self.compiled.joins:
                new_alias = f"t{next(self.aliases)}"
                self.compiled.joins[key] = (
                    new_alias,
                    f"LEFT JOIN {quote(target.name)} {new_alias} ON {new_alias}.\"Id\" = {alias}.{quote(rel.name)}",
                    target)
                self.compiled.parent_ids[key] = f'{new_alias}."Id"'
            alias = self.compiled.joins[key][0]
            relationships.append(rel)
            obj = target
        f = obj.field(path[-1])
        if f is None:
            raise no_such_column(self.query, ref, obj.name)
        return Selected(tuple(relationships), f, f"{alias}.{quote(f.name)}")

    # -- WHERE ------------------------------------------------------------------------------------------------------
    def condition(self, node) -> str:
        if isinstance(node, soql.BoolOp):
            return "(" + f" {node.op} ".join(self.condition(item) for item in node.items) + ")"
        if isinstance(node, soql.Not):
            return f"(NOT {self.condition(node.item)})"
        return self.comparison(node)

    def comparison(self, node: soql.Comparison) -> str:
        if isinstance(node.field, soql.AggregateCall):
            return aggregate.having_comparison(self, node)
        target = self.resolve(node.field)
        if self.grouped is not None and aggregate.key(target) not in self.grouped:
            raise malformed(self.query, node.field.pos, f"Field must be grouped or aggregated: {node.field.dotted}")
        f = target.field
        if not filterable(f):
            raise invalid_field(self.query, node.field.pos, f"field '{f.name}' can not be filtered in a query call")
        col = target.sql
        params = self.compiled.params
        if node.op in ("IN", "NOT IN"):
            for v in node.value:
                if v.kind == "dateliteral":
                    raise malformed(self.query, v.pos, f"unexpected token: '{v.text}'")
            values = [v for v in node.value if v.kind != "null"]
            has_null = len(values) != len(node.value)
            marks = ", ".join("?" for _ in values)
            params.extend(self.value(f, v, node.op) for v in values)
            if node.op == "IN":
                inside = f"{col} IN ({marks})" if values else "0"
                return f"({inside} OR {col} IS NULL)" if has_null else inside
            outside = f"{col} NOT IN ({marks})" if values else "1"
            return f"({col} IS NOT NULL AND {outside})" if has_null else f"({col} IS NULL OR {outside})"
        literal = node.value
        if node.op == "LIKE":
            if not f.is_text:
                raise invalid_field(self.query, node.field.pos,
                                    f"invalid operator on {f.type} field: LIKE")
            params.append(soql.like_pattern(literal.value))
            return f"({col} LIKE ? ESCAPE '\\')"
        if literal.kind == "null":
            if node.op == "=":
                return f"({col} IS NULL)"
            if node.op == "!=":
                return f"({col} IS NOT NULL)"
            raise malformed(self.query, literal.pos, f"invalid operator for null value: {node.op}")
        if f.type == schema.BOOLEAN and node.op not in ("=", "!="):
            raise invalid_field(self.query, node.field.pos, f"invalid operator on boolean field: {node.op}")
        if literal.kind == "dateliteral" and f.type in (schema.DATE, schema.DATETIME):
            return self.date_range_comparison(f, col, node.op, literal)
        params.append(self.value(f, literal, node.op))
        if node.op == "!=":
            # SOQL's inequality includes rows where the field is null; SQL's does not.
            return f"({col} IS NULL OR {col} != ?)"
        return f"({col} {node.op} ?)"

    def date_range_comparison(self, f: schema.Field, col: str, op: str, literal: soql.Literal) -> str:
        """A date literal is a range: equal means inside it, less than before its start, greater after its end."""
        name, n = literal.value
        first, after = date_literals.bounds(name, n, datetime_field=f.type == schema.DATETIME,
                                            zone=users.TIME_ZONE, now=self.now)
        params = self.compiled.params
        if op == "=":
            params.extend([first, after])
            return f"({col} >= ? AND {col} < ?)"
        if op == "!=":
            params.extend([first, after])
            return f"({col} IS NULL OR {col} < ? OR {col} >= ?)"
        params.append(first if op in ("<", ">=") else after)
        return f"({col} {'<' if op in ('<', '<=') else '>='} ?)"

    def value(self, f: schema.Field, literal: soql.Literal, op: str):
        name = f.name
        if f.type in (schema.ID, schema.REFERENCE):
            if literal.kind != "string":
                raise malformed(self.query, literal.pos, f"value of filter criterion for field '{name}' must be of "
                                "type id and should be enclosed in quotes")
            normalized = ids.normalize_id(soql.plain(literal.value))
            if normalized is None:
                raise ApiError("INVALID_QUERY_FILTER_OPERATOR",
                               soql.located(self.query.text, literal.pos, f"invalid ID field: {literal.value}"))
            return normalized
        if f.is_text:
            if literal.kind != "string":
                raise malformed(self.query, literal.pos, f"value of filter criterion for field '{name}' must be of "
                                "type string and should be enclosed in quotes")
            return soql.plain(literal.value)
        if f.type == schema.BOOLEAN:
            if literal.kind != "boolean":
                raise malformed(self.query, literal.pos, f"value of filter criterion for field '{name}' must be of "
                                "type boolean and should not be enclosed in quotes")
            return int(literal.value)
        if f.type in schema.NUMBER_TYPES:
            if literal.kind != "number":
                raise malformed(self.query, literal.pos, f"value of filter criterion for field '{name}' must be of "
                                f"type {f.type} and should not be enclosed in quotes")
            return float(literal.value)
        if f.type == schema.DATE:
            if literal.kind != "date":
                raise malformed(self.query, literal.pos, f"value of filter criterion for field '{name}' must be of "
                                "type date and should not be enclosed in quotes")
            try:
                dt.date.fromisoformat(literal.value)
            except ValueError:
                raise malformed(self.query, literal.pos, f"invalid date: {literal.value}") from None
            return literal.value
        if f.type == schema.DATETIME:
            if literal.kind != "datetime":
                raise malformed(self.query, literal.pos, f"value of filter criterion for field '{name}' must be of "
                                "type dateTime and should not be enclosed in quotes")
            try:
                return datetime_value(literal.value)
            except ValueError:
                raise malformed(self.query, literal.pos, f"invalid dateTime: {literal.value}") from None
        raise malformed(self.query, literal.pos, f"unexpected token: {literal.text}")

    # -- whole query ------------------------------------------------------------------------------------------------
    def compile(self, include_deleted: bool) -> Compiled:
        compiled = self.compiled
        query = self.query
        if aggregate.is_aggregate(query):
            return aggregate.compile_aggregate(self, include_deleted)
        seen = set()
        for item in query.select_order:
            if isinstance(item, soql.FieldRef):
                if item.alias:
                    raise malformed(query, item.pos, "Only aggregate expressions use field aliasing")
                selected = self.resolve(item)
                key = (tuple(r.name for r in selected.relationships), selected.field.name)
                if key in seen:
                    raise malformed(query, item.pos, f"duplicate field selected: {item.dotted}")
                seen.add(key)
                compiled.selected.append(selected)
            else:
                rel = compiled.obj.child_relationship(item.object_name)
                if rel is None:
                    raise invalid_field(query, item.object_pos, (
                        f"Didn't understand relationship '{item.object_name}' in FROM part of query call. If you are "
                        "attempting to use a custom relationship, be sure to append the '__r' after the custom "
                        "relationship name. Please reference your WSDL or the describe call for the appropriate "
                        "names."))
                child = Compiler(query_with_text(item, query.text), schema.BY_NAME[rel.child], self.aliases, self.now)
                compiled.subqueries.append((rel, child.compile(include_deleted)))
                compiled.selected.append(rel)
        conditions = [] if include_deleted else ['t0."IsDeleted" = 0']
        if query.where is not None:
            conditions.append(self.condition(query.where))
        compiled.where_sql = " AND ".join(conditions) or "1"
        order = []
        for item in query.order_by:
            if isinstance(item.field, soql.AggregateCall):
                raise malformed(query, item.field.pos, "Ordered field must be grouped or aggregated: "
                                f"{item.field.text}")
            target = self.resolve(item.field)
            if not filterable(target.field):
                raise invalid_field(query, item.field.pos, f"field '{target.field.name}' can not be sorted in a query "
                                    "call")
            nulls_last = item.nulls_last if item.nulls_last is not None else item.descending
            order.append(f"{target.sql} {'DESC' if item.descending else 'ASC'} NULLS {'LAST' if nulls_last else 'FIRST'}")
        # A stable tie-break keeps pages from overlapping when ordered values repeat.
        order.append("t0.rowid ASC")
        compiled.order_sql = ", ".join(order)
        if query.offset is not None and query.offset > MAX_OFFSET:
            raise ApiError("NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {MAX_OFFSET}")
        return compiled


def query_with_text(sub: soql.Query, text: str) -> soql.Query:
    sub.text = text
    return sub


def from_sql(compiled: Compiled) -> str:
    joins = " ".join(join for _, join, _ in compiled.joins.values())
    return f"{quote(compiled.obj.name)} t0 {joins}"


def compile_soql(text: str, include_deleted: bool = False, now: dt.datetime | None = None) -> Compiled:
    query = soql.parse(text)
    obj = schema.lookup(query.object_name)
    if obj is None:
        raise ApiError("INVALID_TYPE", soql.located(query.text, query.object_pos, (
            f"sObject type '{query.object_name}' is not supported. If you are attempting to use a custom object, "
            "be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call "
            "for the appropriate names.")))
    return Compiler(query, obj, now=now).compile(include_deleted)


@dataclass
class Cursor:
    locator: str
    compiled: Compiled
    ids: list
    include_deleted: bool
    page_size: int
    touched: float


class QueryEngine:
    def __init__(self, store: Store):
        self.store = store
        self.cursors = collections.OrderedDict()
        self.lock = threading.Lock()

    def compile(self, text: str, include_deleted: bool) -> Compiled:
        return compile_soql(text, include_deleted)

    def run(self, text: str, *, include_deleted: bool, page_size: int | None, version: str) -> dict:
        compiled = self.compile(text, include_deleted)
        query = compiled.query
        conn = self.store.conn()
        limit = query.limit if query.limit is not None else -1
        offset = query.offset or 0
        if compiled.aggregate is not None:
            return aggregate.run(compiled, conn, limit, offset)
        if query.count:
            sql = f"SELECT COUNT(*) FROM (SELECT 1 FROM {from_sql(compiled)} WHERE {compiled.where_sql} LIMIT ? OFFSET ?)"
            total = conn.execute(sql, compiled.params + [limit, offset]).fetchone()[0]
            return {"totalSize": total, "done": True, "records": []}
        # The result set is fixed when the query runs, as on the platform: later pages are read by id, so writes
        # made while a client pages through cannot shift rows between pages.
        record_ids = self.matching_ids(compiled)
        size = page_size or DEFAULT_PAGE
        cursor = Cursor("", compiled, record_ids, include_deleted, size, time.monotonic())
        if len(record_ids) > size:
            cursor.locator = self._register(cursor)
        return self.page(cursor, 0, version)

    def matching_ids(self, compiled: Compiled) -> list:
        query = compiled.query
        sql = (f"SELECT t0.\"Id\" FROM {from_sql(compiled)} WHERE {compiled.where_sql} "
               f"ORDER BY {compiled.order_sql} LIMIT ? OFFSET ?")
        limit = query.limit if query.limit is not None else -1
        params = compiled.params + [limit, query.offset or 0]
        return [row[0] for row in self.store.conn().execute(sql, params)]

    def more(self, locator_with_position: str, *, version: str) -> dict:
        locator, _, position = locator_with_position.partition("-")
        with self.lock:
            cursor = self.cursors.get(locator)
            if cursor is not None:
                cursor.touched = time.monotonic()
                self.cursors.move_to_end(locator)
        if cursor is None or not position.isdigit() or int(position) > len(cursor.ids):
            raise ApiError("INVALID_QUERY_LOCATOR", "invalid query locator")
        return self.page(cursor, int(position), version)

    def _register(self, cursor: Cursor) -> str:
        locator = ids.make_id("01g", secrets.randbelow(62 ** 9))
        with self.lock:
            now = time.monotonic()
            for key in [k for k, c in self.cursors.items() if now - c.touched > CURSOR_TTL_SECONDS]:
                del self.cursors[key]
            while len(self.cursors) >= MAX_CURSORS:
                self.cursors.popitem(last=False)
            self.cursors[locator] = cursor
        return locator

    def page(self, cursor: Cursor, position: int, version: str) -> dict:
        page_ids = cursor.ids[position:position + cursor.page_size]
        records = self.fetch(cursor.compiled, page_ids, version, cursor.include_deleted)
        result = {"totalSize": len(cursor.ids), "done": position + len(page_ids) >= len(cursor.ids)}
        if not result["done"]:
            endpoint = "queryAll" if cursor.include_deleted else "query"
            result["nextRecordsUrl"] = (f"/services/data/v{version}/{endpoint}/"
                                        f"{cursor.locator}-{position + len(page_ids)}")
        result["records"] = records
        return result

    def fetch(self, compiled: Compiled, record_ids: list, version: str, include_deleted: bool,
              link_column: str | None = None) -> list:
        """Shaped records for the given ids, in the given order."""
        if not record_ids:
            return []
        columns = ['t0."Id"']
        plan = []   # per selected item: ("field", index, Selected) / ("parent_id", ...) / ("child", rel)
        for item in compiled.selected:
            if isinstance(item, Selected):
                plan.append(("field", len(columns), item))
                columns.append(item.sql)
            else:
                plan.append(("child", None, item))
        parent_id_index = {}
        for key, sql in compiled.parent_ids.items():
            parent_id_index[key] = len(columns)
            columns.append(sql)
        rows = {}
        conn = self.store.conn()
        for chunk_start in range(0, len(record_ids), 900):
            chunk = record_ids[chunk_start:chunk_start + 900]
            sql = (f"SELECT {', '.join(columns)} FROM {from_sql(compiled)} "
                   f"WHERE t0.\"Id\" IN ({', '.join('?' * len(chunk))})")
            for values in conn.execute(sql, chunk):
                rows[values[0]] = values
        children = {}
        for rel, child in compiled.subqueries:
            children[rel.name] = self.fetch_children(rel, child, list(rows), version, include_deleted)
        records = []
        for record_id in record_ids:
            values = rows.get(record_id)
            if values is None:
                continue    # hard-deleted since the query ran (only `reset` does that)
            records.append(self.shape(compiled, plan, parent_id_index, values, children, version))
        return records

    def shape(self, compiled, plan, parent_id_index, values, children, version) -> dict:
        obj = compiled.obj
        record = {"attributes": {"type": obj.name, "url": f"/services/data/v{version}/sobjects/{obj.name}/{values[0]}"}}
        for kind, index, item in plan:
            if kind == "child":
                found = children[item.name].get(values[0])
                record[item.name] = ({"totalSize": len(found), "done": True, "records": found} if found else None)
                continue
            container = record
            key = ()
            for rel in item.relationships:
                key = key + (rel.name.lower(),)
                parent_id = values[parent_id_index[key]]
                if rel.relationship_name not in container:
                    target = schema.BY_NAME[rel.reference_to]
                    container[rel.relationship_name] = None if parent_id is None else {"attributes": {
                        "type": target.name, "url": f"/services/data/v{version}/sobjects/{target.name}/{parent_id}"}}
                container = container[rel.relationship_name]
                if container is None:
                    break
            else:
                value = values[index]
                container[item.field.name] = bool(value) if item.field.type == schema.BOOLEAN else value
        return record

    def fetch_children(self, rel: schema.ChildRelationship, compiled: Compiled, parent_ids: list, version: str,
                       include_deleted: bool) -> dict:
        grouped = collections.defaultdict(list)
        if not parent_ids:
            return grouped
        conn = self.store.conn()
        link = f't0.{quote(rel.field)}'
        limit = compiled.query.limit
        for chunk_start in range(0, len(parent_ids), 900):
            chunk = parent_ids[chunk_start:chunk_start + 900]
            sql = (f"SELECT t0.\"Id\", {link} FROM {from_sql(compiled)} WHERE {compiled.where_sql} "
                   f"AND {link} IN ({', '.join('?' * len(chunk))}) ORDER BY {compiled.order_sql}")
            child_ids = []
            per_parent = collections.Counter()
            for child_id, parent_id in conn.execute(sql, compiled.params + chunk):
                if limit is not None and per_parent[parent_id] >= limit:
                    continue
                per_parent[parent_id] += 1
                child_ids.append((child_id, parent_id))
            shaped = self.fetch(compiled, [c for c, _ in child_ids], version, include_deleted)
            for (_, parent_id), record in zip(child_ids, shaped):
                grouped[parent_id].append(record)
        return grouped
