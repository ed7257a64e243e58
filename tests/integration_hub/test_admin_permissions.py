import pytest
from django.urls import reverse

from mappings.models import FieldMapping
from syncs.models import SyncJob, SyncRun

pytestmark = pytest.mark.django_db

ADMIN_PAGES = [
    "admin:index",
    "admin:syncs_syncjob_changelist",
    "admin:syncs_syncrun_changelist",
    "admin:syncs_syncattempt_changelist",
    "admin:syncs_recordlink_changelist",
    "admin:mappings_fieldmapping_changelist",
    "admin:mappings_valuemapping_changelist",
    "admin:mappings_masterrule_changelist",
    "admin:django_celery_beat_periodictask_changelist",
]


def _mapping_form(mapping: FieldMapping, **changes) -> dict:
    form = {
        "job": mapping.job_id, "source_field": mapping.source_field, "target_field": mapping.target_field,
        "transform": mapping.transform, "transform_argument": mapping.transform_argument,
        "default": mapping.default, "order": mapping.order, "enabled": "on",
    }
    if mapping.required:
        form["required"] = "on"
    form.update(changes)
    return form


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_it_sends_anonymous_users_to_the_login(client, page):
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_it_lets_anonymous_users_reach_the_login_page(client):
    assert client.get(reverse("admin:login")).status_code == 200


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_it_shows_ops_every_page(client, ops_user, page):
    client.force_login(ops_user)
    assert client.get(reverse(page)).status_code == 200


def test_it_lets_ops_edit_a_mapping(client, ops_user):
    client.force_login(ops_user)
    mapping = FieldMapping.objects.get(job__name="push_contacts", target_field="title")
    url = reverse("admin:mappings_fieldmapping_change", args=[mapping.pk])
    response = client.post(url, _mapping_form(mapping, transform_argument="60"))
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert mapping.transform_argument == "60"
    assert mapping.history.first().history_user == ops_user


def test_it_refuses_finance_a_mapping_edit(client, finance_user):
    client.force_login(finance_user)
    mapping = FieldMapping.objects.get(job__name="push_contacts", target_field="title")
    url = reverse("admin:mappings_fieldmapping_change", args=[mapping.pk])
    response = client.post(url, _mapping_form(mapping, transform_argument="60"))
    assert response.status_code == 403
    mapping.refresh_from_db()
    assert mapping.transform_argument == "99"


@pytest.mark.parametrize("page", [
    "admin:syncs_syncrun_changelist", "admin:syncs_syncattempt_changelist", "admin:mappings_fieldmapping_changelist",
])
def test_it_lets_finance_view_runs_attempts_and_mappings(client, finance_user, page):
    client.force_login(finance_user)
    assert client.get(reverse(page)).status_code == 200


@pytest.mark.parametrize("page", ["admin:django_celery_beat_periodictask_changelist", "admin:django_celery_beat_periodictask_add"])
def test_it_keeps_finance_out_of_schedules(client, finance_user, page):
    client.force_login(finance_user)
    assert client.get(reverse(page)).status_code == 403


def test_it_keeps_finance_off_job_settings(client, finance_user):
    client.force_login(finance_user)
    job = SyncJob.objects.get(name="push_purchase_orders")
    response = client.post(reverse("admin:syncs_syncjob_change", args=[job.pk]), {"title": "x", "enabled": "", "batch_size": 1})
    assert response.status_code == 403
    job.refresh_from_db()
    assert job.enabled and job.batch_size == 100


def test_it_gives_finance_the_commission_retry_permission_and_ops_everything(finance_user, ops_user):
    assert finance_user.has_perm("syncs.retry_commission_attempt")
    assert not finance_user.has_perm("mappings.change_fieldmapping")
    assert not finance_user.has_perm("syncs.change_syncjob")
    assert ops_user.has_perms(["mappings.change_fieldmapping", "mappings.change_masterrule", "syncs.change_syncjob",
                               "django_celery_beat.change_periodictask", "syncs.retry_commission_attempt"])


def test_it_shows_a_run_to_finance(client, finance_user):
    from django.utils import timezone
    run = SyncRun.objects.create(job=SyncJob.objects.get(name="push_purchase_orders"), started_at=timezone.now())
    client.force_login(finance_user)
    assert client.get(reverse("admin:syncs_syncrun_change", args=[run.pk])).status_code == 200
