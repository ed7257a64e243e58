import pytest
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

pytestmark = pytest.mark.django_db


def test_it_creates_nine_tasks_with_the_case_study_cadence():
    call_command("sync", "schedule", stdout=None)
    tasks = {task.name: task for task in PeriodicTask.objects.select_related("interval") if task.task == "syncs.tasks.run_sync_job"}
    assert len(tasks) == 9
    assert PeriodicTask.objects.filter(task="syncs.tasks.sweep").count() == 1
    assert tasks["push_accounts"].interval.every == 15 and tasks["push_accounts"].interval.period == "minutes"
    assert tasks["pull_sales_orders"].interval.every == 60
    assert tasks["pull_remittances"].interval.every == 24 * 60
    assert tasks["push_contacts"].task == "syncs.tasks.run_sync_job"
    assert '"job_name": "push_contacts"' in tasks["push_contacts"].kwargs


def test_it_keeps_an_interval_edited_in_the_admin_when_applied_again():
    call_command("sync", "schedule")
    edited = PeriodicTask.objects.get(name="push_accounts")
    edited.interval, _ = IntervalSchedule.objects.get_or_create(every=5, period=IntervalSchedule.MINUTES)
    edited.save()
    unrelated = PeriodicTask.objects.create(name="someone-elses-task", task="x.y", interval=edited.interval)

    call_command("sync", "schedule")

    assert PeriodicTask.objects.filter(task="syncs.tasks.run_sync_job").count() == 9
    assert PeriodicTask.objects.get(name="push_accounts").interval.every == 5
    assert PeriodicTask.objects.filter(pk=unrelated.pk).exists()


def test_it_schedules_the_reconciliation_of_amounts_nightly_once():
    from syncs.schedules import RECONCILE_NAME

    call_command("sync", "schedule")
    call_command("sync", "schedule")
    nightly = PeriodicTask.objects.select_related("crontab").get(task="syncs.tasks.reconcile_amounts")
    assert nightly.name == RECONCILE_NAME and nightly.interval is None
    assert (nightly.crontab.minute, nightly.crontab.hour, str(nightly.crontab.timezone)) == ("30", "2", "UTC")
