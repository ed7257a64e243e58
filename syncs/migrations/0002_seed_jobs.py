from django.db import migrations

from syncs.catalog import JOBS


def seed_jobs(apps, schema_editor):
    SyncJob = apps.get_model("syncs", "SyncJob")
    for job in JOBS:
        fields = {key: value for key, value in job.items() if key not in ("name", "every_minutes")}
        SyncJob.objects.get_or_create(name=job["name"], defaults=fields)


class Migration(migrations.Migration):
    dependencies = [("syncs", "0001_initial")]
    operations = [migrations.RunPython(seed_jobs, migrations.RunPython.noop)]
