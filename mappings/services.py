"""Reading a job's mappings and enforcing master-of-record rules, for the engine."""
from dataclasses import dataclass

from syncs.models import SyncJob

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


@dataclass
class MappingPreview:
    """What a job would send for one real source record, computed without writing anything anywhere."""

    job_name: str
    source_record: dict | None = None
    payload: dict | None = None
    error: str = ""
    notes: list[str] | None = None


def mapping_preview(*, job_name: str, record_id: str = "") -> MappingPreview:
    """Read one source record (the given one, or the most recently changed that qualifies) and map it with today's
    mappings exactly as the job would, including the references the sender resolves to linked NetSuite records."""
    from syncs.models import Direction

    job = SyncJob.objects.get(name=job_name)
    if job.direction != Direction.PUSH:
        return _pull_preview(job, record_id.strip())
    return _push_preview(job, record_id.strip())


def _pull_preview(job: SyncJob, internal_id: str) -> MappingPreview:
    """The next NetSuite transaction the pull would read (from its watermark), or the given internal id among the
    first page, planned by the pull's own code: the exact Salesforce write, or the mapping error it would record."""
    from syncs.pulls import PULL_JOBS, PullContext, _plan_page
    from syncs.clients.errors import RemoteError
    from syncs.clients.netsuite import netsuite_client
    from syncs.engine import watermark_since

    spec = PULL_JOBS[job.name]
    preview = MappingPreview(job_name=job.name, notes=[])
    try:
        netsuite = netsuite_client()
        page = netsuite.search_transactions(transaction_type=spec.transaction_type, modified_since=watermark_since(job),
                                            page_size=50, body_fields_only=spec.body_fields_only)
        if not page.records and job.watermark_timestamp is not None:
            preview.notes.append("Nothing changed since the watermark: showing the first record of all time instead.")
            page = netsuite.search_transactions(transaction_type=spec.transaction_type, modified_since=None,
                                                page_size=50, body_fields_only=spec.body_fields_only)
    except RemoteError as error:
        preview.error = f"NetSuite refused the search: {error.code}: {error.message}"
        return preview
    records = [r for r in page.records if not internal_id or str(r.get("internalId")) == internal_id]
    if not records:
        preview.error = (f"No {spec.transaction_type} with internal id {internal_id} among the next {len(page.records)} the job would read."
                         if internal_id else f"NetSuite holds no {spec.transaction_type} for {job.name}.")
        return preview
    record = records[0]
    preview.source_record = record
    planned = _plan_page(PullContext(job=job, run=None, mappings=mapping_set_for(job_name=job.name)), spec, [record])
    if not planned:
        preview.notes.append("Nothing to send: Salesforce already holds this content, or the record is not one the hub "
                             "created from an application.")
    elif planned[0].error_code:
        preview.error = f"{planned[0].error_code}: {planned[0].error_message}"
    else:
        preview.payload = planned[0].payload
    return preview


def _push_preview(job: SyncJob, record_id: str) -> MappingPreview:
    from syncs.clients.errors import RemoteError
    from syncs.clients.salesforce import salesforce_client, soql_format
    from syncs.engine import NetSuiteBatchWriter, links_for
    from syncs.pushes import PUSH_JOBS, OrderLines, PushContext, _read_by_ids

    from .transforms import MappingError

    spec = PUSH_JOBS[job.name]
    mappings = mapping_set_for(job_name=job.name)
    line_mappings = mapping_set_for(job_name=spec.line_job) if spec.line_job else None
    ctx = PushContext(job=job, run=None, mappings=mappings, line_mappings=line_mappings, value_maps=mappings.value_maps)
    preview = MappingPreview(job_name=job.name, notes=[])
    salesforce = salesforce_client()
    # The lines job reads changed line items but sends whole orders: it is previewed from its application.
    by_application = spec.source_object == "OpportunityLineItem"
    try:
        if not record_id:
            object_name, where_spec = ("Opportunity", spec.order_job) if by_application else (spec.source_object, spec)
            condition, values = where_spec.where(ctx)
            soql = f"SELECT Id FROM {object_name}{' WHERE ' + condition if condition else ''} ORDER BY SystemModstamp DESC LIMIT 1"
            latest = salesforce.query_all(soql_format(soql, **values))
            if not latest:
                preview.error = f"No {object_name} in Salesforce qualifies for {job.name}."
                return preview
            record_id = latest[0]["Id"]
        records = _read_by_ids(ctx, spec, salesforce, [record_id])
    except RemoteError as error:
        preview.error = f"Salesforce refused the read: {error.code}: {error.message}"
        return preview
    if not records:
        preview.error = f"{record_id} is not in Salesforce, or does not qualify for {job.name} (e.g. not funded)."
        return preview
    record = records[0]
    preview.source_record = record
    links = links_for(spec.record_type, [record["Id"]])
    try:
        planned = spec.plan(ctx, record, links if isinstance(spec, OrderLines) else {})
    except MappingError as error:
        preview.error = f"{error.code}: {error.message}"
        return preview
    if planned is None:
        preview.notes.append("Nothing to send: this order is not in NetSuite yet (its lines go with the order), "
                             "or NetSuite already holds these lines.")
        return preview
    link = links.get(record["Id"])
    if link and link.content_hash == planned.content_hash and not isinstance(spec, OrderLines):
        preview.notes.append("NetSuite already holds this content: a run would skip this record.")
    preview.payload = NetSuiteBatchWriter(netsuite=None, job=job)._resolve_refs(planned.payload["record"])
    if planned.waiting_on and not links_for("Account", [planned.waiting_on]):
        preview.notes.append(f"Its parent {planned.waiting_on} is not linked yet: NetSuite will resolve it by external id.")
    return preview


def mapping_history_baseline(*, model, ids) -> int:
    """Record the current state of rows that have no history yet (the defaults seeded by a migration), just before
    their first edit, so that edit shows what it changed from. Returns how many baselines were written."""
    ids = [pk for pk in ids if pk]
    known = set(model.history.filter(id__in=ids).values_list("id", flat=True).distinct())
    missing = list(model.objects.filter(pk__in=[pk for pk in ids if pk not in known]))
    if missing:
        model.history.bulk_history_create(missing, default_change_reason="state before the first recorded edit")
    return len(missing)
