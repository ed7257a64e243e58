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
