"""The nine jobs' beat schedules, applied by name so an interval edited in the admin survives a deploy."""
import json

from django_celery_beat.models import IntervalSchedule, PeriodicTask

from .catalog import JOBS

TASK = "syncs.tasks.run_sync_job"


def schedules_apply(*, every_minutes_override: int | None = None) -> list[PeriodicTask]:
    """Create each job's PeriodicTask if missing; refresh its task and arguments if present.

    An existing task keeps its schedule (ops may have changed it), unless `every_minutes_override` is given (the demo
    runs faster than production). Tasks that are not the hub's are never touched or deleted.
    """
    tasks = []
    for job in JOBS:
        minutes = every_minutes_override or job["every_minutes"]
        interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period=IntervalSchedule.MINUTES)
        fields = {"task": TASK, "kwargs": json.dumps({"job_name": job["name"]}), "description": job["title"]}
        if every_minutes_override:
            fields["interval"] = interval
        task, _ = PeriodicTask.objects.update_or_create(
            name=job["name"], defaults=fields, create_defaults={**fields, "interval": interval, "enabled": True}
        )
        tasks.append(task)
    return tasks


def schedule_display(task: PeriodicTask | None) -> str:
    if task is None:
        return "not scheduled"
    schedule = task.interval or task.crontab or task.solar or task.clocked
    return f"{schedule}" + ("" if task.enabled else " (paused)")
