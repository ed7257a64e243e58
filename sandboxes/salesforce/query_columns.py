"""`GET query?q=...&columns=true`: the columns a SOQL query selects, without running it.

The platform answers this form of the query resource (the Developer Console's query editor and the Salesforce
CLI's `sf data query` read it to lay out their results) with the query's column metadata instead of its rows:

    {"columnMetadata": [{"aggregate", "apexType", "booleanType", "columnName", "custom", "displayName",
                         "foreignKeyName", "insertable", "joinColumns": [...], "numberType", "textType",
                         "updatable"}, ...],
     "entityName": "Account", "groupBy": false, "idSelected": true, "keyPrefix": "001"}

A parent field is a column named for the relationship whose `joinColumns` holds the field; a child subquery is an
`aggregate` column named for the child relationship whose `joinColumns` are the subquery's columns; an aggregate
function is an `aggregate` column named for its alias (`expr0` ... without one) and displayed as written
(`COUNT(Id)`). The query is checked exactly as when it runs: an unknown field is 400 INVALID_FIELD.
Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_query.htm (the
query resource) and the REST API's "Execute a SOQL Query" page.
"""
from . import schema, soql
from . import query as q

APEX_TYPES = {
    schema.ID: "Id", schema.REFERENCE: "Id", schema.BOOLEAN: "Boolean", schema.DATE: "Date",
    schema.DATETIME: "Datetime", schema.DOUBLE: "Double", schema.CURRENCY: "Double", schema.PERCENT: "Double",
}


def column(name: str, *, display: str, apex_type: str | None, aggregate=False, custom=False, insertable=False,
           updatable=False, foreign_key=None, joins=()) -> dict:
    return {"aggregate": aggregate, "apexType": apex_type, "booleanType": apex_type == "Boolean",
            "columnName": name, "custom": custom, "displayName": display, "foreignKeyName": foreign_key,
            "insertable": insertable, "joinColumns": list(joins),
            "numberType": apex_type in ("Double", "Integer", "Long", "Decimal"),
            "textType": apex_type == "String", "updatable": updatable}


def field_column(f: schema.Field, display: str) -> dict:
    return column(f.name, display=display, apex_type=APEX_TYPES.get(f.type, "String"), custom=f.name.endswith("__c"),
                  insertable=f.createable, updatable=f.updateable)


def ref_column(compiler: q.Compiler, ref: soql.FieldRef) -> dict:
    """A (possibly dotted) field: a parent path nests one column per relationship, as the platform does."""
    selected = compiler.resolve(ref)
    names = [r.relationship_name for r in selected.relationships] + [selected.field.name]
    result = field_column(selected.field, ".".join(names))
    for depth in range(len(selected.relationships) - 1, -1, -1):
        rel = selected.relationships[depth]
        display = ".".join(names[:depth + 1])
        result = column(rel.relationship_name, display=display, apex_type=None, custom=rel.name.endswith("__c"),
                        foreign_key=rel.name, joins=[result])
    return result


def aggregate_column(call: soql.AggregateCall, name: str, compiler: q.Compiler) -> dict:
    if call.function in ("COUNT", "COUNT_DISTINCT"):
        apex_type = "Integer"
    elif call.function in ("SUM", "AVG"):
        apex_type = "Double"
    else:   # MIN, MAX: the field's own type
        apex_type = APEX_TYPES.get(compiler.resolve(call.field).field.type, "String") if call.field else "Integer"
    return column(name, display=call.text, apex_type=apex_type, aggregate=True)


def columns_of(compiler: q.Compiler, query: soql.Query, obj: schema.SObject) -> list:
    result = []
    implied = 0
    for item in query.select_order:
        if isinstance(item, soql.FieldRef):
            result.append(ref_column(compiler, item))
        elif isinstance(item, soql.AggregateCall):
            name = item.alias
            if name is None:
                name = f"expr{implied}"
                implied += 1
            result.append(aggregate_column(item, name, compiler))
        else:
            rel = obj.child_relationship(item.object_name)
            child_obj = schema.BY_NAME[rel.child]
            child = q.Compiler(q.query_with_text(item, query.text), child_obj, compiler.aliases, compiler.now)
            result.append(column(rel.name, display=rel.name, apex_type=None, aggregate=True,
                                 joins=columns_of(child, item, child_obj)))
    return result


def query_columns(text: str) -> dict:
    # Compiling first gives the same errors (unknown object, field or relationship) as running the query would.
    compiled = q.compile_soql(text)
    query, obj = compiled.query, compiled.obj
    compiler = q.Compiler(query, obj)
    metadata = [] if query.count else columns_of(compiler, query, obj)
    return {"columnMetadata": metadata, "entityName": obj.name, "groupBy": bool(query.group_by),
            "idSelected": any(isinstance(item, soql.FieldRef) and len(item.path) == 1 and item.path[0].lower() == "id"
                              for item in query.select_order),
            "keyPrefix": obj.key_prefix}
