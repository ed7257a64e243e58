#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main():
    """Run administrative tasks."""
    os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'integration_hub.settings')
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment?"
        ) from exc
    from django.core.exceptions import ImproperlyConfigured

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A setting a command needs is missing (outside demo mode every secret must be set): one line that names
        # it, not a traceback through the settings module.
        sys.stderr.write(f"{exc} (Or set HUB_DEMO=1 to run against the demo sandboxes.)\n")
        sys.exit(1)


if __name__ == '__main__':
    main()
