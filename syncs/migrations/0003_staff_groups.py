from django.contrib.auth.management import create_permissions
from django.db import migrations

from syncs.permissions import seed_groups


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    seed_groups(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("syncs", "0002_seed_jobs"),
        ("mappings", "0002_seed_defaults"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
