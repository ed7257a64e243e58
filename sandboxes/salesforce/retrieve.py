"""sObject Collections retrieve: several records of one object by id, with the fields asked for.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_retrieve.htm
`GET composite/sobjects/{Type}?ids=...&fields=...` (as many ids as the URI's length allows) or
`POST composite/sobjects/{Type}` with `{"ids": [...], "fields": [...]}` (up to 2,000 ids). The answer is a list in
the order of the ids, with `null` where an id is invalid or matches no live record of that object; an unknown field
is a 400 for the whole request.
"""
from . import ids, schema
from .errors import ApiError
from .store import quote

MAX_POST_IDS = 2000
SQLITE_CHUNK = 900      # below sqlite's bound on parameters in one statement


def no_such_column(obj: schema.SObject, name: str) -> ApiError:
    return ApiError("INVALID_FIELD", f"No such column '{name}' on entity '{obj.name}'. If you are attempting to use a "
                    "custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL "
                    "or the describe call for the appropriate names.")


def _requested(handler) -> tuple:
    """(ids, field names) from the query string (GET) or the JSON body (POST)."""
    if handler.command == "GET":
        record_ids = [i.strip() for i in (handler.param("ids") or "").split(",") if i.strip()]
        field_names = [f.strip() for f in (handler.param("fields") or "").split(",") if f.strip()]
        return record_ids, field_names
    body = handler.json_body()
    if not isinstance(body, dict) or not isinstance(body.get("ids", []), list) \
            or not isinstance(body.get("fields", []), list):
        raise ApiError("JSON_PARSER_ERROR", "The request body must be an object with ids and fields lists")
    record_ids = [str(i).strip() for i in body.get("ids") or []]
    if len(record_ids) > MAX_POST_IDS:
        raise ApiError("EXCEEDED_ID_LIMIT", f"record limit reached. cannot submit more than {MAX_POST_IDS} records "
                       "into this call")
    return record_ids, [str(f).strip() for f in body.get("fields") or []]


def collection_retrieve(handler, obj: schema.SObject) -> list:
    record_ids, field_names = _requested(handler)
    if not record_ids:
        raise ApiError("MISSING_ARGUMENT", "Required parameter 'ids' is missing.")
    if not field_names:
        raise ApiError("MISSING_ARGUMENT", "Required parameter 'fields' is missing.")
    fields = []
    for name in field_names:
        f = obj.field(name)
        if f is None:
            raise no_such_column(obj, name)
        if f not in fields:
            fields.append(f)
    # "If you don't have access to an object, or if a passed ID is invalid, the array returns null for that object."
    normalized = [ids.normalize_id(record_id) for record_id in record_ids]
    rows = _rows(handler.sandbox.store, obj, fields, [i for i in normalized if i and i[:3] == obj.key_prefix])
    return [handler.shape_record(obj, rows[i], fields) if i in rows else None for i in normalized]


def _rows(store, obj: schema.SObject, fields: list, record_ids: list) -> dict:
    names = ["Id"] + [f.name for f in fields if f.name != "Id"]
    found = {}
    conn = store.conn()
    unique = list(dict.fromkeys(record_ids))
    for start in range(0, len(unique), SQLITE_CHUNK):
        chunk = unique[start:start + SQLITE_CHUNK]
        sql = (f"SELECT {', '.join(map(quote, names))} FROM {quote(obj.name)} "
               f"WHERE \"IsDeleted\" = 0 AND \"Id\" IN ({', '.join('?' * len(chunk))})")
        for values in conn.execute(sql, chunk):
            row = store.row_from_db(obj, names, values)
            found[row["Id"]] = row
    return found
