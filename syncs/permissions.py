"""The two staff groups and what each may do. Ops run the integration; finance reviews commission records, the
money the hub reports (the finance review queue) and the reconciliation of amounts."""

OPS_APPS = ("syncs", "mappings", "django_celery_beat")

FINANCE_PERMISSIONS = [
    ("syncs", "view_syncjob"),
    ("syncs", "view_syncrun"),
    ("syncs", "view_syncattempt"),
    ("syncs", "view_recordlink"),
    ("syncs", "retry_commission_attempt"),
    ("syncs", "view_financereview"),
    ("syncs", "resolve_financereview"),
    ("syncs", "view_reconciliationrun"),
    ("syncs", "view_reconciliationdifference"),
    ("syncs", "run_reconciliation"),
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
        # A permission of a model a later migration adds is given by that migration (it seeds the groups again).
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if permission is not None:
            finance.permissions.add(permission)
