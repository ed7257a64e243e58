"""Reads for the console and the commands, each in a fixed number of queries whatever the number of jobs."""
from dataclasses import dataclass

from django.db.models import Count, Q
from django_celery_beat.models import PeriodicTask

from .models import AttemptStatus, SyncJob
from .schedules import schedule_display


@dataclass(frozen=True)
class JobStatus:
    job: SyncJob
    schedule: str
    failed_waiting: int


def job_status_list() -> list[JobStatus]:
    jobs = SyncJob.objects.annotate(
        failed_waiting=Count("attempts", filter=Q(attempts__status__in=[AttemptStatus.FAILED, AttemptStatus.DEAD]))
    ).order_by("stage", "id")
    tasks = {task.name: task for task in PeriodicTask.objects.select_related("interval", "crontab", "solar", "clocked")}
    return [JobStatus(job=job, schedule=schedule_display(tasks.get(job.name)), failed_waiting=job.failed_waiting) for job in jobs]
