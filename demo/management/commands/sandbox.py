"""Start or drive one of the emulated remote systems.

    python manage.py sandbox salesforce [serve options]       # or: sandbox salesforce seed ...
    python manage.py sandbox netsuite [serve options]         # or: sandbox netsuite pay --days 30
    python manage.py sandbox story [--every 15]               # the demo's business story, told to both

The sandboxes are separate programs with their own storage; this command only hands its arguments to
`sandboxes.<system>.cli.main(argv)`, so `python -m sandboxes.<system>` does exactly the same.
"""
import importlib

from django.core.management.base import BaseCommand, CommandError

SYSTEMS = ("salesforce", "netsuite", "story")


class Command(BaseCommand):
    help = "Run the Salesforce or NetSuite sandbox (see `sandbox SYSTEM --help`)."

    def add_arguments(self, parser):
        parser.add_argument("system", choices=SYSTEMS)
        parser.add_argument("args", nargs="*", help="arguments for the sandbox's own command line")

    def run_from_argv(self, argv):
        # Pass everything after the system name through untouched, options included, so that each
        # sandbox owns its command line (argparse in Django would otherwise reject their options).
        if len(argv) >= 3 and argv[2] in SYSTEMS:
            cli = importlib.import_module(f"sandboxes.{argv[2]}.cli")
            raise SystemExit(cli.main(argv[3:]))
        super().run_from_argv(argv)

    def handle(self, *args, **options):
        raise CommandError("usage: manage.py sandbox {salesforce,netsuite,story} [args...]")
