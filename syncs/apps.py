from django.apps import AppConfig


class SyncsConfig(AppConfig):
    name = "syncs"
    verbose_name = "Syncs"

    def ready(self):
        from . import pulls, pushes  # noqa: F401  registers the job runners
