from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The embedded demo (`make run`): the supervisor that starts the hub beside both sandboxes, the `sandbox`
    command and the business story. Installed only in demo mode; nothing else in the hub imports the sandboxes."""

    name = "demo"
    verbose_name = "Demo"
