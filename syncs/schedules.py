"""The jobs' beat schedules, applied by name so an interval edited in the admin survives a deploy."""
import json

from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from .jobs.registry import job_specs

TASK = "syncs.tasks.run_sync_job"
SWEEP_TASK = "syncs.tasks.sweep"
SWEEP_NAME = "sweep: re-enqueue due retries and reclaim stopped workers' tries"
SWEEP_EVERY_MINUTES = 1
ALERTS_TASK = "syncs.tasks.send_alerts"
ALERTS_NAME = "alerts: digests of new failures, stale jobs, refused credentials"
ALERTS_EVERY_MINUTES = 5
RECONCILE_TASK = "syncs.tasks.reconcile_amounts"
RECONCILE_NAME = "reconcile amounts: orders against fees, commissions, remittances against NetSuite's money"
# Nightly, after the daily remittance pull has had its day: 02:30 UTC (ops may move it in the admin).
RECONCILE_CRONTAB = {"minute": "30", "hour": "2", "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}


def schedules_apply(*, every_minutes_override: int | None = None) -> list[PeriodicTask]:
    """Create each job's PeriodicTask if missing; refresh its task and arguments if present.

    An existing task keeps its schedule (ops may have changed it), unless `every_minutes_override` is given (the demo
    runs faster than production). Tasks that are not the hub's are never touched or deleted.
    """
    tasks = []
    for spec in job_specs():
        minutes = every_minutes_override or spec.every_minutes
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period=IntervalSchedule.MINUTES)
        fields = {"task": TASK, "kwargs": json.dumps({"job_name": spec.name}), "description": spec.title}
        if every_minutes_override:
            fields["interval"] = interval
        task, _ = PeriodicTask.objects.update_or_create(
            name=spec.name, defaults=fields, create_defaults={**fields, "interval": interval, "enabled": True}
        )
        tasks.append(task)
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=SWEEP_EVERY_MINUTES, period=IntervalSchedule.MINUTES)
    sweep, _ = PeriodicTask.objects.update_or_create(
        name=SWEEP_NAME, defaults={"task": SWEEP_TASK}, create_defaults={"task": SWEEP_TASK, "interval": every_minute}
    )
    tasks.append(sweep)
    every_five, _ = IntervalSchedule.objects.get_or_create(every=ALERTS_EVERY_MINUTES, period=IntervalSchedule.MINUTES)
    alerts, _ = PeriodicTask.objects.update_or_create(
        name=ALERTS_NAME, defaults={"task": ALERTS_TASK}, create_defaults={"task": ALERTS_TASK, "interval": every_five}
    )
    tasks.append(alerts)
    nightly, _ = CrontabSchedule.objects.get_or_create(**RECONCILE_CRONTAB, timezone="UTC")
    reconcile, _ = PeriodicTask.objects.update_or_create(
        name=RECONCILE_NAME, defaults={"task": RECONCILE_TASK},
        create_defaults={"task": RECONCILE_TASK, "crontab": nightly})
    tasks.append(reconcile)
    return tasks


def schedule_display(task: PeriodicTask | None) -> str:
    if task is None:
        return "not scheduled"
    schedule = task.interval or task.crontab or task.solar or task.clocked
    return f"{schedule}" + ("" if task.enabled else " (paused)")
