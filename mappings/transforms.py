"""Turning one source record into target fields by the mapping rows. Pure functions: no database, no network.

A record that can't be mapped raises MappingError naming the target field, the source field and the value, so the
attempt fails alone with a message a person can act on.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


# A NetSuite target named by a custom field's script id (custbody_payback_amount; custcol_… on lines; cseg_… a custom
# segment): the mapping writes that custom field, as the account declares it.
CUSTOM_FIELD_PREFIXES = ("custbody", "custcol", "custentity", "custitem", "custevent", "custrecord", "cseg")


def is_custom_field(name: str) -> bool:
    return "_" in name and name.split("_", 1)[0] in CUSTOM_FIELD_PREFIXES


class MappingError(Exception):
    code = "MAPPING_ERROR"

    def __init__(self, message: str, *, field: str = "", value=None):
        super().__init__(message)
        self.message, self.field, self.value = message, field, value


@dataclass(frozen=True)
class MappingRow:
    source_field: str
    target_field: str
    transform: str = "none"
    argument: str = ""
    required: bool = False
    default: str = ""

    @property
    def source_fields(self) -> list[str]:
        """Every source field this row reads (percent_of also reads its argument)."""
        fields = [self.source_field] if self.source_field else []
        if self.argument and self.reads_argument_field:
            fields.append(self.argument)
        return fields

    @property
    def reads_argument_field(self) -> bool:
        transform = TRANSFORMS.get(self.transform)
        return bool(transform and transform.argument_is_field)


def source_value(record: dict, path: str):
    """A field of the record; `Account.Name` reads a parent's field."""
    value = record
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def map_record(rows: list[MappingRow], record: dict, *, value_maps: dict[str, dict[str, str]]) -> dict:
    mapped = {}
    for row in rows:
        value = source_value(record, row.source_field) if row.source_field else None
        if _empty(value) and row.default != "":
            value = row.default
        if _empty(value):
            if row.required:
                raise MappingError(
                    f"{row.target_field} is required, but {row.source_field or 'its default'} is empty.",
                    field=row.source_field or row.target_field, value=value,
                )
            continue
        try:
            mapped[row.target_field] = _transform(row, value, record, value_maps)
        except MappingError:
            raise
        except (ValueError, TypeError, InvalidOperation, ArithmeticError) as exc:
            raise MappingError(
                f"{row.source_field} → {row.target_field}: {row.transform} failed on {value!r} ({exc}).",
                field=row.source_field, value=value,
            ) from exc
    return mapped


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def _decimal(value) -> Decimal:
    return Decimal(str(value))


# --- the transforms ---------------------------------------------------------------------------------------------------
# Each is f(row, value, record, value_maps) → the target value; `value` is never empty here.

MISSING_VALUE = re.compile(r"^No value mapping in '(?P<category>[\w-]+)' for (?P<field>\S+) = '(?P<value>.*)'\.$")


def missing_value_mapping(message: str) -> tuple[str, str] | None:
    """(category, value) of a "No value mapping" failure's message (written by _value_map below), else None."""
    match = MISSING_VALUE.match(message or "")
    return (match["category"], match["value"]) if match else None


def _value_map(row, value, record, value_maps):
    table = value_maps.get(row.argument, {})
    key = str(value)
    if key not in table:
        raise MappingError(f"No value mapping in {row.argument!r} for {row.source_field or row.target_field} = {key!r}.",
                           field=row.source_field or row.target_field, value=value)
    return table[key]


def _netsuite_ref(row, value, record, value_maps):
    """A reference to the NetSuite record the value mapping names by internal id (a subsidiary, a currency)."""
    from .categories import VALUE_CATEGORIES

    internal_id = _value_map(row, value, record, value_maps)
    category = VALUE_CATEGORIES.get(row.argument)
    record_type = category.target.record_type if category is not None else ""
    return {"internalId": str(internal_id), **({"type": record_type} if record_type else {})}


def _datetime(row, value, record, value_maps):
    if isinstance(value, str) and len(value) == 10:
        return f"{date.fromisoformat(value).isoformat()}T00:00:00"
    return _as_datetime(value).isoformat()


def _decimal_places(row, value, record, value_maps):
    places = Decimal(1).scaleb(-int(row.argument or 2))
    return float(_decimal(value).quantize(places, rounding=ROUND_HALF_UP))


def _number_text(row, value, record, value_maps):
    if isinstance(value, (int, float, Decimal)):
        return format(_decimal(value).normalize(), "f")
    return str(value)


def _percent_of(row, value, record, value_maps):
    base = source_value(record, row.argument)
    if _empty(base):
        raise MappingError(f"{row.target_field} needs {row.argument}, which is empty.", field=row.argument, value=base)
    amount = _decimal(base) * _decimal(value) / Decimal(100)
    return float(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _remove_suffix(row, value, record, value_maps):
    text = str(value)
    if not text.endswith(row.argument):
        raise MappingError(f"{row.source_field} = {text!r} does not end with {row.argument!r}.", field=row.source_field,
                           value=value)
    return text[: -len(row.argument)]


@dataclass(frozen=True)
class Transform:
    """One transform as everything reads it: the mapping's choices and validation, the admin and `map_record`."""

    name: str
    label: str
    function: Callable
    # What the argument is, when the transform needs one ("" = it takes none).
    argument: str = ""
    # The argument is a whole number (truncate's length).
    argument_is_number: bool = False
    # The argument names another source field, which the transform reads too (percent_of).
    argument_is_field: bool = False


TRANSFORMS: dict[str, Transform] = {t.name: t for t in [
    Transform("none", "Copy as is", lambda row, value, record, maps: value),
    Transform("strip", "Trim white space", lambda row, value, record, maps: str(value).strip()),
    Transform("upper", "Upper case", lambda row, value, record, maps: str(value).upper()),
    Transform("lower", "Lower case", lambda row, value, record, maps: str(value).lower()),
    Transform("truncate", "Cut to N characters (argument: N)", lambda row, value, record, maps: str(value)[: int(row.argument)],
              argument="the number of characters to keep", argument_is_number=True),
    Transform("date", "Date (YYYY-MM-DD)", lambda row, value, record, maps: _as_date(value).isoformat()),
    Transform("datetime", "Date and time", _datetime),
    Transform("decimal", "Number (argument: decimal places)", _decimal_places),
    Transform("string", "Text of a number", _number_text),
    Transform("boolean", "True/false",
              lambda row, value, record, maps: str(value).strip().lower() in ("1", "true", "yes", "y", "t")),
    Transform("value_map", "Translate by a value mapping (argument: category)", _value_map,
              argument="the value mapping category"),
    Transform("netsuite_ref", "NetSuite record by a value mapping (argument: category, e.g. subsidiary)", _netsuite_ref,
              argument="the value mapping category"),
    Transform("record_ref", "Reference by external id (argument: target record type)",
              lambda row, value, record, maps: {"externalId": str(value), "type": row.argument},
              argument="the target record type"),
    Transform("percent_of", "Percentage of another field (argument: that field)", _percent_of,
              argument="the field it is a percentage of", argument_is_field=True),
    Transform("template", "Text template (argument: e.g. 'Application {value}')",
              lambda row, value, record, maps: row.argument.format(value=value), argument="the template"),
    Transform("remove_suffix", "Remove a suffix (argument: the suffix, e.g. '-COMMISSION')", _remove_suffix,
              argument="the suffix"),
]}
TRANSFORM_CHOICES = [(t.name, t.label) for t in TRANSFORMS.values()]


def _transform(row: MappingRow, value, record: dict, value_maps: dict[str, dict[str, str]]):
    transform = TRANSFORMS.get(row.transform)
    if transform is None:
        raise MappingError(f"Unknown transform {row.transform!r} on {row.target_field}.", field=row.target_field, value=value)
    return transform.function(row, value, record, value_maps)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _as_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
