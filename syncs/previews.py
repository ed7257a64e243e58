"""What a job would send for one real source record, computed exactly as the job computes it and written nowhere:
the console's dry-run preview of a mapping."""
from dataclasses import dataclass

from mappings.transforms import MappingError

from .clients.errors import RemoteError
from .clients.netsuite import netsuite_client
from .clients.salesforce import salesforce_client, soql_format
from .engine import links_for, watermark_since
from .jobs.netsuite_writer import references_resolved
from .jobs.pulls import PullContext, PullJob, _plan_page
from .jobs.pushes import PushJob
from .jobs.registry import job_spec
from .models import SALESFORCE_ID, Direction, SyncJob, salesforce_id_18


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
    job = SyncJob.objects.get(name=job_name)
    spec = job_spec(job_name)
    if spec.direction == Direction.PUSH:
        return _push_preview(spec, job, record_id.strip())
    return _pull_preview(spec, job, record_id.strip())


def _first_page(netsuite, spec: PullJob, since) -> list[dict]:
    """The records of the first page the pull would read from `since` (the rest is never asked for)."""
    pages = netsuite.transaction_pages(transaction_type=spec.transaction_type, modified_since=since, page_size=50,
                                       body_fields_only=spec.body_fields_only)
    try:
        return next(iter(pages)).records
    except StopIteration:
        return []
    finally:
        close = getattr(pages, "close", None)
        if close:
            close()


def _pull_preview(spec: PullJob, job: SyncJob, internal_id: str) -> MappingPreview:
    """The next NetSuite transaction the pull would read (from its watermark), or the given internal id among the
    first page, planned by the pull's own code: the exact Salesforce write, or the mapping error it would record."""
    preview = MappingPreview(job_name=job.name, notes=[])
    try:
        netsuite = netsuite_client()
        first = _first_page(netsuite, spec, watermark_since(job))
        if not first and job.watermark_timestamp is not None:
            preview.notes.append("Nothing changed since the watermark: showing the first record of all time instead.")
            first = _first_page(netsuite, spec, None)
    except RemoteError as error:
        preview.error = f"NetSuite refused the search: {error.code}: {error.message}"
        return preview
    records = [r for r in first if not internal_id or str(r.get("internalId")) == internal_id]
    if not records:
        preview.error = (f"No {spec.transaction_type} with internal id {internal_id} among the next {len(first)} the job would read."
                         if internal_id else f"NetSuite holds no {spec.transaction_type} for {job.name}.")
        return preview
    record = records[0]
    preview.source_record = record
    planned = _plan_page(PullContext(job=job, run=None, mappings=spec.mappings()), spec, [record])
    if not planned:
        preview.notes.append("Nothing to send: Salesforce already holds this content, or the record is not one the hub "
                             "created from an application.")
    elif planned[0].error_code:
        preview.error = f"{planned[0].error_code}: {planned[0].error_message}"
    else:
        preview.payload = planned[0].payload
    return preview


def _push_preview(spec: PushJob, job: SyncJob, record_id: str) -> MappingPreview:
    ctx = spec.context(job, None)
    preview = MappingPreview(job_name=job.name, notes=[])
    salesforce = salesforce_client()
    if record_id and not SALESFORCE_ID.match(record_id):
        preview.error = f"{record_id!r} is not a Salesforce id: give the 15 or 18 letters and digits of the record's id."
        return preview
    record_id = salesforce_id_18(record_id)
    try:
        if not record_id:
            soql, values = spec.latest_query(ctx)
            latest = salesforce.query_all(soql_format(soql, **values))
            if not latest:
                preview.error = f"No record in Salesforce qualifies for {job.name}."
                return preview
            record_id = latest[0]["Id"]
        records = spec.read_by_ids(ctx, salesforce, [record_id])
    except RemoteError as error:
        # Salesforce's message quotes the whole query back; the code says enough.
        preview.error = f"Salesforce refused the read ({error.code}). Check the id, or try again if Salesforce is unwell."
        return preview
    if not records:
        preview.error = f"{record_id} is not in Salesforce, or does not qualify for {job.name} (e.g. not funded)."
        return preview
    record = records[0]
    preview.source_record = record
    links = links_for(spec.record_type, [record["Id"]])
    try:
        planned = spec.plan(ctx, record, links if spec.plans_from_links else {})
    except MappingError as error:
        preview.error = f"{error.code}: {error.message}"
        return preview
    if planned is None:
        preview.notes.append("Nothing to send: this order is not in NetSuite yet (its lines go with the order), "
                             "or NetSuite already holds these lines.")
        return preview
    link = links.get(record["Id"])
    if link and link.content_hash == planned.content_hash and not spec.plans_from_links:
        preview.notes.append("NetSuite already holds this content: a run would skip this record.")
    preview.payload = references_resolved(planned.payload["record"])
    preview.notes += custom_field_notes(preview.payload)
    if planned.waiting_on and not links_for("Account", [planned.waiting_on]):
        preview.notes.append(f"Its parent {planned.waiting_on} is not linked yet: NetSuite will resolve it by external id.")
    return preview


def custom_field_notes(record: dict) -> list[str]:
    """What each custom field of the record is in NetSuite (its declared type and label) and the value it will take,
    or why the record would fail: the preview shows the deal terms as the account will hold them."""
    from .clients.netsuite.custom_fields import CustomFieldValueError, is_custom, line_type, typed_value

    fields = record.get("fields") or {}
    wanted = [(record["type"], name, value) for name, value in fields.items() if is_custom(name)]
    for line in (fields.get("itemList") or {}).get("item") or []:
        wanted += [(line_type(record["type"]), name, value) for name, value in line.items() if is_custom(name)]
    if not wanted:
        return []
    try:
        netsuite = netsuite_client()
        declared = {record_type: netsuite.custom_fields(record_type) for record_type in {w[0] for w in wanted}}
    except RemoteError as error:
        return [f"NetSuite's custom field definitions could not be read ({error.code}): the custom fields are unchecked."]
    notes, seen = [], set()
    for record_type, name, value in wanted:
        if (record_type, name) in seen:
            continue
        seen.add((record_type, name))
        field = declared[record_type].get(name)
        if field is None:
            notes.append(f"Custom field {name}: NetSuite declares no such field on {record_type}; the record would fail.")
            continue
        try:
            shown = typed_value(field, value)
        except CustomFieldValueError as error:
            notes.append(f"Custom field {name}: {error}; the record would fail.")
            continue
        where = "a line field" if record_type != record["type"] else "a body field"
        notes.append(f"Custom field {name} ({field.label or name}, {field.type}, {where}"
                     f"{', mandatory' if field.mandatory else ''}): {shown}")
    return notes
