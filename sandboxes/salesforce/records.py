"""Record writes and reads with the platform's validation, derived fields and cascades.

Every function takes the open write transaction and the call's timestamp: one REST call, however many records it
touches, stamps them all with one SystemModstamp, as the platform does.
"""
import datetime as dt
import re

from . import ids, schema
from .errors import ApiError
from .store import Store

EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")

# The integration user every write is attributed to.
USER_ID = ids.make_id(schema.USER_PREFIX, 1)
ORG_ID = ids.make_id(schema.ORG_PREFIX, 1)


def json_error(type_name: str, value) -> ApiError:
    kind = "VALUE_STRING" if isinstance(value, str) else "VALUE_NUMBER_INT" if isinstance(value, int) else "START_OBJECT"
    return ApiError("JSON_PARSER_ERROR", f"Cannot deserialize instance of {type_name} from {kind} value {value} or "
                    "request may be missing a required field")


def id_in_body() -> ApiError:
    return ApiError("INVALID_FIELD", "The Id field should not be specified in the sobject data.")


class Org:
    def __init__(self, store: Store, locked_ids=lambda: frozenset()):
        self.store = store
        self.locked_ids = locked_ids

    # -- validation -------------------------------------------------------------------------------------------------
    def coerce(self, conn, obj: schema.SObject, body: dict, *, creating: bool) -> dict:
        if not isinstance(body, dict):
            raise ApiError("JSON_PARSER_ERROR", "Cannot deserialize instance of sObject from a non-object value")
        values = {}
        read_only = []
        for key, value in body.items():
            if key == "attributes":
                continue
            f = obj.field(key)
            if f is None:
                raise ApiError("INVALID_FIELD", f"No such column '{key}' on sobject of type {obj.name}")
            if f.name == "Id" and not creating:
                continue    # the caller checks it against the record being written
            if not (f.createable if creating else f.updateable):
                read_only.append(f.name)
                continue
            values[f.name] = value
        if read_only:
            raise ApiError("INVALID_FIELD_FOR_INSERT_UPDATE", (
                f"Unable to create/update fields: {', '.join(read_only)}. Please check the security settings of this "
                "field and verify that it is read/write for your profile or permission set."), fields=read_only)
        for name, value in list(values.items()):
            values[name] = self.coerce_value(conn, obj, obj.field(name), value)
        missing = [f.name for f in obj.fields if f.required and f.createable and (
            (creating and values.get(f.name) is None) or (not creating and f.name in values and values[f.name] is None))]
        if missing:
            raise ApiError("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                           fields=missing)
        return values

    def coerce_value(self, conn, obj, f: schema.Field, value):
        if value is None:
            if f.type == schema.BOOLEAN:
                raise json_error("boolean", "null")
            return None
        if f.type == schema.BOOLEAN:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false"):
                return value.lower() == "true"
            raise json_error("boolean", value)
        if f.type in schema.NUMBER_TYPES:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise json_error("double", value)
            try:
                number = float(value)
            except ValueError:
                raise json_error("double", value) from None
            if number != number or number in (float("inf"), float("-inf")):
                raise json_error("double", value)
            if f.precision and abs(number) >= 10 ** (f.precision - f.scale):
                raise ApiError("NUMBER_OUTSIDE_VALID_RANGE", f"{f.label}: value outside of valid range on numeric "
                               f"field: {value}", fields=[f.name])
            return round(number, f.scale) if f.scale else number
        if f.type == schema.DATE:
            if not isinstance(value, str):
                raise json_error("date", value)
            try:
                # The platform also takes a date-time for a date field and keeps the date part.
                return dt.date.fromisoformat(value[:10]).isoformat() if len(value) >= 10 else dt.date.fromisoformat(value)
            except ValueError:
                raise json_error("date", value) from None
        if f.type == schema.REFERENCE:
            return self.reference_value(conn, f, value)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise json_error("String", value)
        text = value if isinstance(value, str) else str(value)
        if text == "":
            return None     # the platform stores an empty string as null
        if f.length and len(text) > f.length:
            raise ApiError("STRING_TOO_LONG", f"{f.label}: data value too large: {text} (max length={f.length})",
                           fields=[f.name])
        if f.type == schema.EMAIL and not EMAIL_RE.match(text):
            raise ApiError("INVALID_EMAIL_ADDRESS", f"{f.label}: invalid email address: {text}", fields=[f.name])
        if f.type == schema.PICKLIST and f.restricted and text not in f.picklist:
            raise ApiError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                           f"{f.label}: bad value for restricted picklist field: {text}", fields=[f.name])
        return text

    def reference_value(self, conn, f: schema.Field, value):
        if not isinstance(value, str):
            raise json_error("String", value)
        if value == "":
            return None
        label = f.label
        normalized = ids.normalize_id(value)
        if normalized is None:
            raise ApiError("MALFORMED_ID", f"{label}: id value of incorrect type: {value}", fields=[f.name])
        target = schema.BY_NAME.get(f.reference_to)
        if target is None or normalized[:3] != target.key_prefix:
            raise ApiError("FIELD_INTEGRITY_EXCEPTION", f"{label}: id value of incorrect type: {value}",
                           fields=[f.name])
        if self.store.get(target, normalized, conn=conn) is None:
            raise ApiError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", fields=[f.name])
        return normalized

    def check_locks(self, *record_ids):
        locked = self.locked_ids()
        for record_id in record_ids:
            if record_id and record_id in locked:
                raise ApiError("UNABLE_TO_LOCK_ROW",
                               f"unable to obtain exclusive access to this record or 1 records: {record_id}")

    def check_unique(self, conn, obj, values: dict, own_id: str | None):
        for f in obj.fields:
            if f.unique and values.get(f.name) is not None:
                for other in self.store.find(obj, f.name, values[f.name], conn=conn):
                    if other["Id"] != own_id:
                        raise ApiError("DUPLICATE_VALUE", f"duplicate value found: {f.name} duplicates value on "
                                       f"record with id: {other['Id']}", fields=[])

    # -- derived fields ---------------------------------------------------------------------------------------------
    def derive(self, conn, obj, row: dict, values: dict, now: str, creating: bool):
        """Fields the platform computes; `row` is the full record after the change."""
        if obj.name == "Opportunity":
            stage = row.get("StageName")
            values["IsClosed"] = stage in schema.CLOSED_STAGES
            values["IsWon"] = schema.CLOSED_STAGES.get(stage, False)
        elif obj.name == "PricebookEntry" and creating:
            product = self.store.get(schema.BY_NAME["Product2"], row["Product2Id"], conn=conn)
            values["Name"] = product["Name"]
            values["ProductCode"] = product["ProductCode"]
        elif obj.name == "OpportunityLineItem":
            self.derive_line_item(conn, row, values, now, creating)
        elif obj.name == "Remittance__c" and creating:
            values["Name"] = schema.REMITTANCE_NAME_FORMAT.format(self.store.next_counter(conn, "autonumber:a01"))

    def derive_line_item(self, conn, row, values, now, creating):
        if creating:
            entry = self.store.get(schema.BY_NAME["PricebookEntry"], row["PricebookEntryId"], conn=conn)
            opportunity_obj = schema.BY_NAME["Opportunity"]
            opportunity = self.store.get(opportunity_obj, row["OpportunityId"], conn=conn)
            product = self.store.get(schema.BY_NAME["Product2"], entry["Product2Id"], conn=conn)
            if opportunity["Pricebook2Id"] is None:
                # The first product added decides the application's price book, and that is a write to it.
                self.store.update(conn, opportunity_obj, opportunity["Id"],
                                  {"Pricebook2Id": entry["Pricebook2Id"], "SystemModstamp": now,
                                   "LastModifiedDate": now, "LastModifiedById": USER_ID})
            elif opportunity["Pricebook2Id"] != entry["Pricebook2Id"]:
                raise ApiError("FIELD_INTEGRITY_EXCEPTION", "field integrity exception: PricebookEntryId (pricebook "
                               "entry is in a different pricebook than the one assigned to the opportunity)",
                               fields=["PricebookEntryId"])
            values["Product2Id"] = entry["Product2Id"]
            values["ProductCode"] = entry["ProductCode"]
            values["ListPrice"] = entry["UnitPrice"]
            values["Name"] = f"{opportunity['Name']} {product['Name']}"[:376]
            if "UnitPrice" in values and "TotalPrice" in values and values["UnitPrice"] is not None \
                    and values["TotalPrice"] is not None:
                raise ApiError("FIELD_INTEGRITY_EXCEPTION", "field integrity exception: TotalPrice (cannot specify "
                               "both unit price and total price)", fields=["TotalPrice"])
            if values.get("UnitPrice") is None and values.get("TotalPrice") is None:
                values["UnitPrice"] = entry["UnitPrice"]
        quantity = row.get("Quantity") if "Quantity" not in values else values["Quantity"]
        if values.get("TotalPrice") is not None and "UnitPrice" not in values:
            values["UnitPrice"] = round(values["TotalPrice"] / quantity, 2) if quantity else 0.0
        unit = values["UnitPrice"] if "UnitPrice" in values else row.get("UnitPrice")
        if unit is not None and quantity is not None:
            values["TotalPrice"] = round(unit * quantity, 2)

    # -- operations -------------------------------------------------------------------------------------------------
    def check_writable(self, obj: schema.SObject):
        if not obj.writable:
            # What the platform answers a user whose profile lacks the object permission (here: Manage Users).
            raise ApiError("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id")

    def create(self, conn, obj: schema.SObject, body: dict, now: str) -> str:
        self.check_writable(obj)
        if isinstance(body, dict) and any(key.lower() == "id" for key in body):
            raise id_in_body()
        values = self.coerce(conn, obj, body, creating=True)
        self.check_locks(*(values.get(f.name) for f in obj.fields if f.type == schema.REFERENCE))
        self.check_unique(conn, obj, values, None)
        for f in obj.fields:
            if f.type == schema.BOOLEAN:
                values.setdefault(f.name, False)
        if obj.field("CurrencyIsoCode") is not None and not values.get("CurrencyIsoCode"):
            values["CurrencyIsoCode"] = schema.CORPORATE_CURRENCY
        self.derive(conn, obj, values, values, now, creating=True)
        record_id = self.store.new_ids(conn, obj)[0]
        row = {f.name: None for f in obj.fields}
        row.update(values)
        row.update({"Id": record_id, "IsDeleted": False, "CreatedDate": now, "CreatedById": USER_ID,
                    "LastModifiedDate": now, "LastModifiedById": USER_ID, "SystemModstamp": now})
        self.store.insert(conn, obj, row)
        self.store.record_change(obj.name, record_id, "create")
        return record_id

    def existing(self, conn, obj: schema.SObject, record_id: str) -> dict:
        normalized = ids.normalize_id(record_id)
        if normalized is None:
            raise ApiError("MALFORMED_ID", f"{obj.name} ID: id value of incorrect type: {record_id}", fields=["Id"])
        if normalized[:3] != obj.key_prefix:
            raise ApiError("MALFORMED_ID", f"{obj.name} ID: id value of incorrect type: {record_id}", fields=["Id"])
        row = self.store.get(obj, normalized, conn=conn, include_deleted=True)
        if row is None:
            raise ApiError("NOT_FOUND", "The requested resource does not exist", status=404)
        if row["IsDeleted"]:
            raise ApiError("ENTITY_IS_DELETED", "entity is deleted", status=404)
        return row

    def update(self, conn, obj: schema.SObject, record_id: str, body: dict, now: str, *, row=None) -> str:
        self.check_writable(obj)
        row = row or self.existing(conn, obj, record_id)
        if isinstance(body, dict):
            body_id = next((v for k, v in body.items() if k.lower() == "id"), None)
            if body_id is not None and ids.normalize_id(body_id) != row["Id"]:
                raise id_in_body()
        values = self.coerce(conn, obj, body, creating=False)
        self.check_locks(row["Id"], *(values.get(f.name) for f in obj.fields if f.type == schema.REFERENCE))
        self.check_unique(conn, obj, values, row["Id"])
        merged = dict(row, **values)
        self.derive(conn, obj, merged, values, now, creating=False)
        values.update({"LastModifiedDate": now, "LastModifiedById": USER_ID, "SystemModstamp": now})
        self.store.update(conn, obj, row["Id"], values)
        self.store.record_change(obj.name, row["Id"], "update")
        return row["Id"]

    def upsert(self, conn, obj: schema.SObject, field_name: str, value: str, body: dict, now: str) -> tuple:
        """Returns (id, created). Raises 300 with the matching URLs when several records match."""
        f = self.external_id_field(obj, field_name)
        if isinstance(body, dict):
            for key, body_value in body.items():
                if key.lower() == f.name.lower() and str(body_value).lower() != str(value).lower() and f.name != "Id":
                    raise ApiError("INVALID_FIELD", f"The value of {f.name} in the body does not match the URL: "
                                   f"{body_value}", fields=[f.name])
        body = {k: v for k, v in (body or {}).items() if k.lower() != f.name.lower()} if isinstance(body, dict) else body
        if f.name == "Id":
            return self.update(conn, obj, value, body, now), False
        matches = self.store.find(obj, f.name, value, conn=conn)
        if len(matches) > 1:
            raise ApiError("MULTIPLE_RECORDS", "more than one record found for external id field", status=300,
                           fields=[m["Id"] for m in matches])
        if matches:
            return self.update(conn, obj, matches[0]["Id"], body, now, row=matches[0]), False
        return self.create(conn, obj, dict(body, **{f.name: value}), now), True

    def external_id_field(self, obj: schema.SObject, field_name: str) -> schema.Field:
        f = obj.field(field_name)
        if f is None or not (f.external_id or f.name == "Id"):
            raise ApiError("NOT_FOUND", f"Provided external ID field does not exist or is not accessible: "
                           f"{field_name}", status=404)
        return f

    def delete(self, conn, obj: schema.SObject, record_id: str, now: str, *, row=None):
        self.check_writable(obj)
        row = row or self.existing(conn, obj, record_id)
        self.check_locks(row["Id"])
        self.soft_delete(conn, obj, row["Id"], now)

    def soft_delete(self, conn, obj, record_id, now):
        self.store.update(conn, obj, record_id, {"IsDeleted": True, "SystemModstamp": now})
        for rel in obj.child_relationships:
            child = schema.BY_NAME[rel.child]
            for child_row in self.store.find(child, rel.field, record_id, conn=conn, limit=-1):
                if rel.cascade_delete:
                    self.soft_delete(conn, child, child_row["Id"], now)
                else:
                    # A plain lookup is cleared when its target goes away.
                    self.store.update(conn, child, child_row["Id"], {rel.field: None, "SystemModstamp": now})
