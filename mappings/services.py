"""Reading a job's mappings, checking them against schemas, and enforcing master-of-record rules.

Mappings are data and rules: this app reads and writes its own tables and does no remote I/O; the engine (syncs)
hands it what it needs — a job's row, the schemas' field names — and never the other way round.
"""
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from . import defaults
from .models import FieldMapping, MasterRule, ValueMapping
from .transforms import MappingRow, is_custom_field


class MasterRuleViolation(Exception):
    code = "MASTER_RULE"


@dataclass(frozen=True)
class MappingSet:
    rows: list[MappingRow]
    value_maps: dict[str, dict[str, str]]

    @property
    def source_fields(self) -> list[str]:
        fields = []
        for row in self.rows:
            fields += [field for field in row.source_fields if field not in fields]
        return fields

    @property
    def target_fields(self) -> list[str]:
        return [row.target_field for row in self.rows]


def mapping_set_for(*, job_name: str) -> MappingSet:
    rows = [
        MappingRow(m.source_field, m.target_field, m.transform, m.transform_argument, m.required, m.default)
        for m in FieldMapping.objects.filter(job__name=job_name, enabled=True).order_by("order", "id")
    ]
    value_maps: dict[str, dict[str, str]] = {}
    for category, source, target in ValueMapping.objects.values_list("category", "source_value", "target_value"):
        value_maps.setdefault(category, {})[source] = target
    return MappingSet(rows=rows, value_maps=value_maps)


def field_mappings_seed(*, job, rows: list[tuple]) -> int:
    """A job's first mappings: (source, target, transform, argument, required, default) rows, created only for a job
    that has none, so ops' edits and removals are never undone. Returns how many were created."""
    if FieldMapping.objects.filter(job=job).exists():
        return 0
    FieldMapping.objects.bulk_create([
        FieldMapping(job=job, source_field=source, target_field=target, transform=transform, transform_argument=argument,
                     required=required, default=default, order=order * 10)
        for order, (source, target, transform, argument, required, default) in enumerate(rows, start=1)])
    return len(rows)


def mapping_defaults_apply() -> None:
    """The default value mappings and master rules that are missing (existing ones are ops' to edit)."""
    for category, source, target, description in defaults.VALUE_MAPPINGS:
        ValueMapping.objects.get_or_create(category=category, source_value=source,
                                           defaults={"target_value": target, "description": description})
    for record_type, master, read_only_in, owned_by_other, notes in defaults.MASTER_RULES:
        MasterRule.objects.get_or_create(record_type=record_type, defaults={
            "master_system": master, "read_only_in": read_only_in, "fields_owned_by_other": owned_by_other,
            "notes": notes})


def master_rule_enforce(*, job, target_fields: list[str]) -> None:
    """Refuse, before any remote call, a job that would write into the master's side of its record type."""
    try:
        rule = MasterRule.objects.get(record_type=job.record_type)
    except MasterRule.DoesNotExist:
        raise MasterRuleViolation(f"No master-of-record rule for {job.record_type}; the job will not write without one.")
    if job.target_system == rule.read_only_in:
        return
    if not rule.may_write(system=job.target_system, fields=target_fields):
        forbidden = [f for f in target_fields if f not in rule.fields_owned_by_other]
        raise MasterRuleViolation(
            f"{job.name} would write {job.record_type} into {job.get_target_system_display()}, its master system"
            + (f" (fields {', '.join(forbidden)} are not owned by {job.get_source_system_display()})" if forbidden else "")
            + ". Refused before any remote call."
        )


# --- checking mappings against the live schemas ---------------------------------------------------------------------

@dataclass(frozen=True)
class FieldProblem:
    row: int
    field: str  # the form field at fault: source_field, target_field or transform_argument
    message: str


@dataclass
class MappingCheck:
    problems: list[FieldProblem]
    unreachable: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unreachable


@dataclass
class MappingSchemas:
    """What a job's mappings are checked against: the field names on each side, as the engine read them. A side
    whose schema could not be read is None, and `unreachable` says why."""

    push: bool
    salesforce_object: str
    salesforce_fields: set[str] | None
    netsuite_fields: dict[str, set[str]] | None  # each NetSuite record type the job may write or read → its fields
    unreachable: list[str] = field(default_factory=list)
    # Target keys that route a record rather than name a field (a push's externalId and recordType).
    routing_fields: tuple[str, ...] = ()
    # NetSuite record type → the script ids of the custom fields the account declares on it, read only when a row
    # names a custom field; raises LookupUnreachable when NetSuite can't be asked.
    netsuite_custom_fields: Callable[[str], set[str]] | None = None


# Reading a schema is I/O, and mappings are data and rules: the engine registers the reader (syncs.mapping_schemas).
_schemas_reader: Callable[[object], MappingSchemas] | None = None


def mapping_schemas_reader_register(reader: Callable[[object], MappingSchemas]) -> None:
    global _schemas_reader
    _schemas_reader = reader


def mapping_check(*, job, rows: list[MappingRow]) -> MappingCheck:
    """Check mapping rows against the job's real schemas before they are saved, so a misspelt field is refused now
    rather than failing every record at night. A schema that can't be read is reported, never taken as a pass."""
    if not rows:
        return MappingCheck(problems=[], unreachable=[])
    if _schemas_reader is None:
        return MappingCheck(problems=[], unreachable=["No schema reader is registered, so the mappings can't be checked."])
    return mapping_validate(schemas=_schemas_reader(job), rows=rows)


def mapping_validate(*, schemas: MappingSchemas, rows: list[MappingRow]) -> MappingCheck:
    """The problems of each row against the given field names: Salesforce's describe of the object and each
    NetSuite record type's fields."""
    check = MappingCheck(problems=[], unreachable=list(schemas.unreachable))
    push, salesforce_object = schemas.push, schemas.salesforce_object
    for index, row in enumerate(rows):
        salesforce_names = [("source_field", row.source_field)] if push else [("target_field", row.target_field)]
        if push and row.reads_argument_field and row.argument:
            salesforce_names.append(("transform_argument", row.argument))
        netsuite_names = [("target_field", row.target_field)] if push else [("source_field", row.source_field)]
        if schemas.salesforce_fields is not None:
            for form_field, name in salesforce_names:
                if name and name.split(".")[0] not in schemas.salesforce_fields:
                    check.problems.append(FieldProblem(index, form_field, f"Salesforce {salesforce_object} has no field {name!r}."))
        if schemas.netsuite_fields is not None:
            for form_field, name in netsuite_names:
                if not name or name.split(".")[0] in schemas.routing_fields:
                    continue
                if name.startswith("customFieldList."):
                    check.problems.append(FieldProblem(index, form_field, "Name a custom field by its script id alone: "
                                                       f"{name.partition('.')[2]!r}, not {name!r}."))
                    continue
                for record_type, names in schemas.netsuite_fields.items():
                    if is_custom_field(name) and schemas.netsuite_custom_fields is not None:
                        try:
                            names = names | schemas.netsuite_custom_fields(record_type)
                        except LookupUnreachable as unreachable:
                            if str(unreachable) not in check.unreachable:
                                check.unreachable.append(str(unreachable))
                            continue
                    if name.split(".")[0] not in names:
                        label = record_type[0].upper() + record_type[1:]   # as SuiteTalk names it: SalesOrderItem
                        if is_custom_field(name):
                            message = (f"NetSuite {label} declares no custom field {name!r}: create it in NetSuite "
                                       "(Customization > Lists, Records, & Fields) or correct the script id.")
                        else:
                            message = f"NetSuite {label} has no field {name!r}."
                        check.problems.append(FieldProblem(index, form_field, message))
    return check


BASELINE_REASON = "state before the first recorded edit"


def mapping_history_baseline(*, model, ids) -> int:
    """Record the current state of rows that have no history yet (the defaults seeded by a migration), just before
    their first edit, so that edit shows what it changed from. Returns how many baselines were written."""
    ids = [pk for pk in ids if pk]
    known = set(model.history.filter(id__in=ids).values_list("id", flat=True).distinct())
    missing = list(model.objects.filter(pk__in=[pk for pk in ids if pk not in known]))
    if missing:
        model.history.bulk_history_create(missing, default_change_reason=BASELINE_REASON)
    return len(missing)


# --- checking value mappings against the live systems ---------------------------------------------------------------

@dataclass(frozen=True)
class ValueLookups:
    """What a value mapping is checked against, read by the engine: `netsuite_names(record_type, ids)` → id → name
    of the records that exist; `salesforce_picklist(object, field)` → (active values, restricted?)."""

    netsuite_names: Callable[[str, list[str]], dict[str, str]]
    salesforce_picklist: Callable[[str, str], tuple[list[str], bool]]


_value_lookups: ValueLookups | None = None


def value_lookups_register(lookups: ValueLookups) -> None:
    global _value_lookups
    _value_lookups = lookups


@dataclass
class ValueCheck:
    problems: dict[str, str]   # form field (source_value, target_value) → why it is refused
    unreachable: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unreachable


def value_mapping_check(*, category: str, source_value: str, target_value: str) -> ValueCheck:
    """Check one value mapping against what its category says each side is: a NetSuite record's internal id must
    exist in NetSuite (a mapping to item 999 would fail every order that uses it, at night), a restricted picklist's
    value must be one Salesforce offers, a fixed choice must be one of them. A system that can't be asked is
    reported, never taken as a pass."""
    from .categories import VALUE_CATEGORIES

    check = ValueCheck(problems={}, unreachable=[])
    known = VALUE_CATEGORIES.get(category)
    if known is None:
        return check
    for form_field, side, value in (("source_value", known.source, source_value), ("target_value", known.target, target_value)):
        try:
            problem = _value_problem(side, value)
        except LookupUnreachable as unreachable:
            check.unreachable.append(str(unreachable))
            continue
        if problem:
            check.problems[form_field] = problem
    return check


class LookupUnreachable(Exception):
    """A lookup could not ask its system; the message says which and why (raised by the engine's lookups)."""


def _value_problem(side, value: str) -> str:
    if side.kind == "choices" and value not in side.choices:
        return f"{side.label} must be one of {', '.join(side.choices)}; {value!r} is not."
    if side.kind not in ("netsuite_record", "salesforce_picklist"):
        return ""
    if _value_lookups is None:
        raise LookupUnreachable("No lookup is registered, so the value can't be checked.")
    if side.kind == "netsuite_record":
        if not value.isdigit():
            return f"Give the internal id (digits) of a NetSuite {_words(side.record_type)}; {value!r} is not one."
        names = _value_lookups.netsuite_names(side.record_type, [value])
        if value not in names:
            return f"NetSuite has no {_words(side.record_type)} with internal id {value}."
        return ""
    values, restricted = _value_lookups.salesforce_picklist(side.object_name, side.field_name)
    if restricted and value not in values:
        return (f"Salesforce {side.object_name}.{side.field_name} has no value {value!r} (its values: "
                f"{', '.join(values)}).")
    return ""


def value_choices(category: str) -> dict[str, list[str]]:
    """The values each side of a category may take where they are known (fixed choices, Salesforce picklists), for
    the form to offer: {"source_value": [...], "target_value": [...]}. A picklist that can't be read offers nothing."""
    from .categories import VALUE_CATEGORIES

    known = VALUE_CATEGORIES.get(category)
    offered = {}
    for form_field, side in ((("source_value", known.source), ("target_value", known.target)) if known else ()):
        if side.kind == "choices":
            offered[form_field] = list(side.choices)
        elif side.kind == "salesforce_picklist" and _value_lookups is not None:
            try:
                offered[form_field] = _value_lookups.salesforce_picklist(side.object_name, side.field_name)[0]
            except LookupUnreachable:
                pass
    return offered


def _words(record_type: str) -> str:
    """servicePurchaseItem → service purchase item."""
    return re.sub(r"(?<!^)([A-Z])", r" \1", record_type).lower()
