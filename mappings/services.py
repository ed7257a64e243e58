"""Reading a job's mappings, checking them against schemas, and enforcing master-of-record rules.

Mappings are data and rules: this app reads and writes its own tables and does no remote I/O; the engine (syncs)
hands it what it needs — a job's row, the schemas' field names — and never the other way round.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from . import defaults
from .models import FieldMapping, MasterRule, ValueMapping
from .transforms import MappingRow


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
                for record_type, names in schemas.netsuite_fields.items():
                    if name.split(".")[0] not in names:
                        label = record_type[0].upper() + record_type[1:]   # as SuiteTalk names it: SalesOrderItem
                        check.problems.append(FieldProblem(index, form_field, f"NetSuite {label} has no field {name!r}."))
    return check


def mapping_history_baseline(*, model, ids) -> int:
    """Record the current state of rows that have no history yet (the defaults seeded by a migration), just before
    their first edit, so that edit shows what it changed from. Returns how many baselines were written."""
    ids = [pk for pk in ids if pk]
    known = set(model.history.filter(id__in=ids).values_list("id", flat=True).distinct())
    missing = list(model.objects.filter(pk__in=[pk for pk in ids if pk not in known]))
    if missing:
        model.history.bulk_history_create(missing, default_change_reason="state before the first recorded edit")
    return len(missing)
