"""Aggregate SOQL: GROUP BY, HAVING and the aggregate functions, compiled to one parameterised SQL statement.

Reference: SOQL and SOSL Reference, "GROUP BY", "HAVING", "Aggregate Functions" and "Using Aliases with GROUP BY"
(https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_agg_functions.htm).
- Each result row is a record of type AggregateResult (no url): grouped fields under their field name (the last
  part of a parent path), aggregates under their alias, or `expr0`, `expr1` ... in the order of the aggregates
  written without one.
- Every selected field must be grouped; HAVING and ORDER BY name grouped fields or aggregates only.
- Without GROUP BY the aggregates make one row, even when no record matches (COUNT 0, SUM null).
- `SELECT COUNT() ... GROUP BY` counts the groups.
"""
from dataclasses import dataclass, field

from . import schema, soql
from . import query as q

NUMERIC_ONLY = {"SUM", "AVG"}


@dataclass
class Output:
    key: str        # the result record's key: the field name, the alias or exprN
    sql: str
    kind: str       # count, number, boolean, value


@dataclass
class Plan:
    outputs: list = field(default_factory=list)
    sql: str = ""   # without LIMIT / OFFSET


def is_aggregate(query: soql.Query) -> bool:
    return bool(query.aggregates or query.group_by or query.having is not None)


def key(selected) -> tuple:
    return tuple(r.name.lower() for r in selected.relationships) + (selected.field.name.lower(),)


def aggregate_sql(compiler, call: soql.AggregateCall) -> tuple:
    """(SQL, output kind, field) of one aggregate function call."""
    if call.field is None:
        return "COUNT(*)", "count", None
    target = compiler.resolve(call.field)
    f = target.field
    if not q.filterable(f):
        raise q.invalid_field(compiler.query, call.field.pos, f"field '{f.name}' can not be aggregated in a query "
                              "call")
    unsupported = (call.function in NUMERIC_ONLY and f.type not in schema.NUMBER_TYPES) or (
        call.function in ("MIN", "MAX") and f.type == schema.BOOLEAN)
    if unsupported:
        raise q.malformed(compiler.query, call.field.pos, f"field {f.name} does not support aggregate operator "
                          f"{call.function}")
    if call.function == "COUNT":
        return f"COUNT({target.sql})", "count", f
    if call.function == "COUNT_DISTINCT":
        return f"COUNT(DISTINCT {target.sql})", "count", f
    kind = "number" if f.type in schema.NUMBER_TYPES else "value"
    return f"{call.function}({target.sql})", kind, f


def having_comparison(compiler, node: soql.Comparison) -> str:
    if compiler.grouped is None:
        # Aggregates filter groups, so they belong in HAVING, never in WHERE.
        raise q.malformed(compiler.query, node.field.pos, "Aggregate functions are not allowed in the WHERE clause")
    sql, kind, f = aggregate_sql(compiler, node.field)
    if node.op in ("IN", "NOT IN", "LIKE"):
        raise q.malformed(compiler.query, node.field.pos, f"invalid operator on aggregate function: {node.op}")
    literal = node.value
    if literal.kind == "null":
        raise q.malformed(compiler.query, literal.pos, f"invalid operator for null value: {node.op}")
    if literal.kind == "dateliteral" and f is not None and f.type in (schema.DATE, schema.DATETIME):
        return compiler.date_range_comparison(f, sql, node.op, literal)     # HAVING MAX(CloseDate) < THIS_MONTH
    if kind in ("count", "number"):
        if literal.kind != "number":
            raise q.malformed(compiler.query, literal.pos, f"value of filter criterion for field "
                              f"'{node.field.text}' must be of type double and should not be enclosed in quotes")
        value = float(literal.value)
    else:
        value = compiler.value(f, literal, node.op)
    compiler.compiled.params.append(value)
    return f"({sql} {'!=' if node.op == '!=' else node.op} ?)"


def compile_aggregate(compiler, include_deleted: bool):
    compiled = compiler.compiled
    query = compiler.query
    if query.subqueries:
        sub = query.subqueries[0]
        raise q.malformed(query, sub.object_pos, "Nested queries are not supported in aggregate queries")
    plan = Plan()
    groups = []
    grouped = {}
    for ref in query.group_by:
        target = compiler.resolve(ref)
        if not target.field.groupable:
            raise q.invalid_field(query, ref.pos, f"field '{target.field.name}' can not be grouped in a query call")
        grouped[key(target)] = target
        groups.append(target.sql)
    implied = 0
    for item in query.select_order:
        if isinstance(item, soql.FieldRef):
            target = compiler.resolve(item)
            if key(target) not in grouped:
                raise q.malformed(query, item.pos, f"Field must be grouped or aggregated: {item.dotted}")
            kind = "boolean" if target.field.type == schema.BOOLEAN else (
                "number" if target.field.type in schema.NUMBER_TYPES else "value")
            name = item.alias or target.field.name
        else:
            sql, kind, _ = aggregate_sql(compiler, item)
            target = q.Selected((), None, sql)
            name = item.alias
            if name is None:
                name = f"expr{implied}"
                implied += 1
        if any(o.key.lower() == name.lower() for o in plan.outputs):
            raise q.malformed(query, item.pos, f"duplicate alias: {name}")
        plan.outputs.append(Output(name, target.sql, kind))
    conditions = [] if include_deleted else ['t0."IsDeleted" = 0']
    if query.where is not None:
        conditions.append(compiler.condition(query.where))
    compiled.where_sql = " AND ".join(conditions) or "1"
    having_sql = ""
    if query.having is not None:
        compiler.grouped = set(grouped)
        having_sql = " HAVING " + compiler.condition(query.having)
        compiler.grouped = None
    order = []
    for item in query.order_by:
        if isinstance(item.field, soql.AggregateCall):
            sql = aggregate_sql(compiler, item.field)[0]
        else:
            target = compiler.resolve(item.field)
            if key(target) not in grouped:
                raise q.malformed(query, item.field.pos, f"Ordered field must be grouped or aggregated: "
                                  f"{item.field.dotted}")
            sql = target.sql
        nulls_last = item.nulls_last if item.nulls_last is not None else item.descending
        order.append(f"{sql} {'DESC' if item.descending else 'ASC'} NULLS {'LAST' if nulls_last else 'FIRST'}")
    if query.offset is not None and query.offset > q.MAX_OFFSET:
        raise q.ApiError("NUMBER_OUTSIDE_VALID_RANGE", f"Maximum SOQL offset allowed is {q.MAX_OFFSET}")
    columns = ", ".join(o.sql for o in plan.outputs) or "1"
    plan.sql = f"SELECT {columns} FROM {q.from_sql(compiled)} WHERE {compiled.where_sql}"
    if groups:
        plan.sql += " GROUP BY " + ", ".join(groups)
    plan.sql += having_sql
    if order:
        plan.sql += " ORDER BY " + ", ".join(order)
    compiled.aggregate = plan
    return compiled


def _value(output: Output, value):
    if value is None:
        return None
    if output.kind == "count":
        return int(value)
    if output.kind == "boolean":
        return bool(value)
    if output.kind == "number":
        return float(value)
    return value


def run(compiled, conn, limit: int, offset: int) -> dict:
    plan = compiled.aggregate
    params = compiled.params + [limit, offset]
    if compiled.query.count:
        total = conn.execute(f"SELECT COUNT(*) FROM ({plan.sql} LIMIT ? OFFSET ?)", params).fetchone()[0]
        return {"totalSize": total, "done": True, "records": []}
    records = []
    for values in conn.execute(f"{plan.sql} LIMIT ? OFFSET ?", params):
        record = {"attributes": {"type": "AggregateResult"}}
        for output, value in zip(plan.outputs, values):
            record[output.key] = _value(output, value)
        records.append(record)
    return {"totalSize": len(records), "done": True, "records": records}
