from django.db import migrations

from mappings import defaults


def seed_defaults(apps, schema_editor):
    defaults.seed(apps)


class Migration(migrations.Migration):
    dependencies = [("mappings", "0001_initial"), ("syncs", "0002_seed_jobs")]
    operations = [migrations.RunPython(seed_defaults, migrations.RunPython.noop)]
