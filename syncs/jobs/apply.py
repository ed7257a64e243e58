"""Every registered job in the database, by name: run after each migrate, like `schedules_apply` for the beat, so a
job added to the catalog reaches existing installs as well as new ones."""
from django.db import transaction

from mappings.services import field_mappings_seed, mapping_defaults_apply

from ..models import SyncJob
from .registry import job_specs


def jobs_apply() -> list[str]:
    """Create or update each job's row from its declaration (ops' settings — enabled, schedule, watermark, tries —
    are left alone), give a new job its default mappings, and add missing default value mappings and master rules.
    Returns the names of the jobs created."""
    created = []
    with transaction.atomic():
        mapping_defaults_apply()
        for spec in job_specs():
            job, was_created = SyncJob.objects.update_or_create(name=spec.name, defaults=spec.row())
            field_mappings_seed(job=job, rows=spec.default_mappings)
            if was_created:
                created.append(spec.name)
    return created
