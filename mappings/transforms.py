"""Turning one source record into target fields by the mapping rows. Pure functions: no database, no network.

A record that can't be mapped raises MappingError naming the target field, the source field and the value, so the
attempt fails alone with a message a person can act on.
"""
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


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
        if self.transform == "percent_of" and self.argument:
            fields.append(self.argument)
        return fields


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


def _transform(row: MappingRow, value, record: dict, value_maps: dict[str, dict[str, str]]):
    transform, argument = row.transform, row.argument
    if transform == "none":
        return value
    if transform == "strip":
        return str(value).strip()
    if transform == "upper":
        return str(value).upper()
    if transform == "lower":
        return str(value).lower()
    if transform == "truncate":
        return str(value)[: int(argument)]
    if transform == "date":
        return _as_date(value).isoformat()
    if transform == "datetime":
        if isinstance(value, str) and len(value) == 10:
            return f"{date.fromisoformat(value).isoformat()}T00:00:00"
        return _as_datetime(value).isoformat()
    if transform == "decimal":
        places = Decimal(1).scaleb(-int(argument or 2))
        return float(_decimal(value).quantize(places, rounding=ROUND_HALF_UP))
    if transform == "string":
        if isinstance(value, (int, float, Decimal)):
            return format(_decimal(value).normalize(), "f")
        return str(value)
    if transform == "boolean":
        return str(value).strip().lower() in ("1", "true", "yes", "y", "t")
    if transform == "value_map":
        table = value_maps.get(argument, {})
        key = str(value)
        if key not in table:
            raise MappingError(
                f"No value mapping in {argument!r} for {row.source_field or row.target_field} = {key!r}.",
                field=row.source_field or row.target_field, value=value,
            )
        return table[key]
    if transform == "record_ref":
        return {"externalId": str(value), "type": argument}
    if transform == "percent_of":
        base = source_value(record, argument)
        if _empty(base):
            raise MappingError(f"{row.target_field} needs {argument}, which is empty.", field=argument, value=base)
        amount = _decimal(base) * _decimal(value) / Decimal(100)
        return float(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    if transform == "template":
        return argument.format(value=value)
    if transform == "remove_suffix":
        text = str(value)
        if not text.endswith(argument):
            raise MappingError(f"{row.source_field} = {text!r} does not end with {argument!r}.", field=row.source_field, value=value)
        return text[: -len(argument)]
    raise MappingError(f"Unknown transform {transform!r} on {row.target_field}.", field=row.target_field, value=value)


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
