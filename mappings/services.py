"""Reading a job's mappings and enforcing master-of-record rules, for the engine."""
from dataclasses import dataclass

from syncs.models import SyncJob

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


def field_mappings_seed(*, job: SyncJob, rows: list[tuple]) -> int:
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


def master_rule_enforce(*, job: SyncJob, target_fields: list[str]) -> None:
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


# --- checking and previewing mappings from the console ----------------------------------------------------------------

# The NetSuite record types each job's target (push) or source (pull) may be. An account becomes a customer or a
# vendor by its type, so its fields must exist on both.
NETSUITE_RECORD_TYPES = {"customer": ["customer", "vendor"]}
# Keys of a mapped push record that route it rather than being NetSuite fields (see syncs.pushes.ROUTING_FIELDS).
NETSUITE_ROUTING_FIELDS = {"externalId", "internalId", "recordType"}


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


def mapping_validate(*, job: SyncJob, rows: list[MappingRow]) -> MappingCheck:
    """Check mapping rows against the real schemas before they are saved: Salesforce's describe of the object and
    the NetSuite WSDL's record type, so a misspelt field is refused now rather than failing every record at night.
    A schema that can't be read is reported as unreachable, never taken as a pass."""
    from syncs.clients.errors import RemoteError
    from syncs.models import Direction

    check = MappingCheck(problems=[], unreachable=[])
    if not rows:
        return check
    push = job.direction == Direction.PUSH
    salesforce_object = job.source_record_type if push else job.target_record_type
    netsuite_type = job.target_record_type if push else job.source_record_type
    try:
        salesforce_fields = _salesforce_field_names(salesforce_object)
    except (RemoteError, OSError) as error:
        salesforce_fields = None
        check.unreachable.append(f"Salesforce's description of {salesforce_object} could not be read ({error}).")
    try:
        netsuite_fields = _netsuite_field_names(netsuite_type)
    except (RemoteError, OSError) as error:
        netsuite_fields = None
        check.unreachable.append(f"The NetSuite schema of {netsuite_type} could not be read ({error}).")
    for index, row in enumerate(rows):
        salesforce_names = [("source_field", row.source_field)] if push else [("target_field", row.target_field)]
        if push and row.transform == "percent_of" and row.argument:
            salesforce_names.append(("transform_argument", row.argument))
        netsuite_names = [("target_field", row.target_field)] if push else [("source_field", row.source_field)]
        if salesforce_fields is not None:
            for form_field, name in salesforce_names:
                if name and name.split(".")[0] not in salesforce_fields:
                    check.problems.append(FieldProblem(index, form_field, f"Salesforce {salesforce_object} has no field {name!r}."))
        if netsuite_fields is not None:
            for form_field, name in netsuite_names:
                if not name or name.split(".")[0] in NETSUITE_ROUTING_FIELDS:
                    continue
                for record_type, names in netsuite_fields.items():
                    if name.split(".")[0] not in names:
                        label = record_type[0].upper() + record_type[1:]   # as SuiteTalk names it: SalesOrderItem
                        check.problems.append(FieldProblem(index, form_field, f"NetSuite {label} has no field {name!r}."))
    return check


def _salesforce_field_names(object_name: str) -> set[str]:
    """Field API names, plus relationship names so that a parent path like Account.Name checks its first step."""
    from syncs.clients.salesforce import salesforce_client

    fields = salesforce_client().describe_fields(object_name)
    return set(fields) | {f["relationshipName"] for f in fields.values() if f.get("relationshipName")}


def _netsuite_field_names(record_type: str) -> dict[str, set[str]]:
    from syncs.clients.netsuite import netsuite_client

    netsuite = netsuite_client()
    return {name: netsuite.describe_record_type(name) for name in NETSUITE_RECORD_TYPES.get(record_type, [record_type])}


def mapping_history_baseline(*, model, ids) -> int:
    """Record the current state of rows that have no history yet (the defaults seeded by a migration), just before
    their first edit, so that edit shows what it changed from. Returns how many baselines were written."""
    ids = [pk for pk in ids if pk]
    known = set(model.history.filter(id__in=ids).values_list("id", flat=True).distinct())
    missing = list(model.objects.filter(pk__in=[pk for pk in ids if pk not in known]))
    if missing:
        model.history.bulk_history_create(missing, default_change_reason="state before the first recorded edit")
    return len(missing)
