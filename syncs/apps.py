from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SyncsConfig(AppConfig):
    name = "syncs"
    verbose_name = "Syncs"

    def ready(self):
        from mappings.services import mapping_schemas_reader_register, value_lookups_register

        from . import catalog  # noqa: F401  registers the jobs
        from .mapping_schemas import VALUE_LOOKUPS, mapping_schemas_read

        mapping_schemas_reader_register(mapping_schemas_read)
        value_lookups_register(VALUE_LOOKUPS)
        post_migrate.connect(_jobs_apply, sender=self)


def _jobs_apply(sender, using="default", **kwargs):
    # After every migrate (and every test database flush): the jobs in the registry, with their first mappings.
    from .jobs.apply import jobs_apply

    jobs_apply()
