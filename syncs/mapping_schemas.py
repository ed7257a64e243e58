"""Reads the schemas a job's mappings are checked against (mappings.services.mapping_check): Salesforce's describe
of the object and the NetSuite field names of each record type the job writes or reads."""
from mappings.services import LookupUnreachable, MappingSchemas, ValueLookups

from .clients.errors import RemoteError
from .clients.netsuite import netsuite_client
from .clients.salesforce import salesforce_client
from .jobs.registry import job_spec
from .models import Direction


def mapping_schemas_read(job) -> MappingSchemas:
    push = job.direction == Direction.PUSH
    salesforce_object = job.source_record_type if push else job.target_record_type
    spec = job_spec(job.name)
    netsuite_types = list(spec.netsuite_record_types) if spec else [job.target_record_type if push else job.source_record_type]
    schemas = MappingSchemas(push=push, salesforce_object=salesforce_object, salesforce_fields=None, netsuite_fields=None,
                             routing_fields=tuple(spec.routing_fields) if spec and push else ())
    try:
        schemas.salesforce_fields = salesforce_field_names(salesforce_object)
    except (RemoteError, OSError) as error:
        schemas.unreachable.append(f"Salesforce's description of {salesforce_object} could not be read ({error}).")
    try:
        netsuite = netsuite_client()
        schemas.netsuite_fields = {name: netsuite.describe_record_type(name) for name in netsuite_types}
    except (RemoteError, OSError) as error:
        schemas.unreachable.append(f"The NetSuite schema of {', '.join(netsuite_types)} could not be read ({error}).")
    else:
        schemas.netsuite_custom_fields = lambda record_type: netsuite_custom_field_names(netsuite, record_type)
    return schemas


def netsuite_custom_field_names(netsuite, record_type: str) -> set[str]:
    """The script ids of the custom fields the account declares on a record type (SOAP: getCustomizationId and the
    definitions; REST: the metadata catalog)."""
    try:
        return set(netsuite.custom_fields(record_type))
    except (RemoteError, OSError) as error:
        raise LookupUnreachable(f"NetSuite's custom fields of {record_type} could not be read ({error}).") from error


def salesforce_field_names(object_name: str) -> set[str]:
    """Field API names, plus relationship names so that a parent path like Account.Name checks its first step."""
    fields = salesforce_client().describe_fields(object_name)
    return set(fields) | {f["relationshipName"] for f in fields.values() if f.get("relationshipName")}


# --- the lookups value mappings are checked against (mappings.services.value_mapping_check) ---------------------------

def netsuite_record_names(record_type: str, internal_ids: list[str]) -> dict[str, str]:
    try:
        return netsuite_client().get_names_by_internal_ids(record_type, internal_ids)
    except (RemoteError, OSError) as error:
        raise LookupUnreachable(f"NetSuite could not be asked for {record_type} {', '.join(internal_ids)} ({error}).") from error


def salesforce_picklist(object_name: str, field_name: str) -> tuple[list[str], bool]:
    try:
        field = salesforce_client().describe_fields(object_name).get(field_name) or {}
    except (RemoteError, OSError) as error:
        raise LookupUnreachable(f"Salesforce's description of {object_name} could not be read ({error}).") from error
    values = [entry["value"] for entry in field.get("picklistValues") or [] if entry.get("active", True)]
    return values, bool(field.get("restrictedPicklist"))


VALUE_LOOKUPS = ValueLookups(netsuite_names=netsuite_record_names, salesforce_picklist=salesforce_picklist)
