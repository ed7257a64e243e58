"""The two staff groups and what each may do. Ops run the integration; finance reviews commission records."""

OPS_APPS = ("syncs", "mappings", "django_celery_beat")

FINANCE_PERMISSIONS = [
    ("syncs", "view_syncjob"),
    ("syncs", "view_syncrun"),
    ("syncs", "view_syncattempt"),
    ("syncs", "view_recordlink"),
    ("syncs", "retry_commission_attempt"),
    ("mappings", "view_fieldmapping"),
    ("mappings", "view_valuemapping"),
    ("mappings", "view_masterrule"),
]


def seed_groups(apps) -> None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ops, _ = Group.objects.get_or_create(name="ops")
    ops.permissions.add(*Permission.objects.filter(content_type__app_label__in=OPS_APPS))
    finance, _ = Group.objects.get_or_create(name="finance")
    for app_label, codename in FINANCE_PERMISSIONS:
        finance.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
