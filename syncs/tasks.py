"""Celery tasks: thin callers of the services. They take names, never model instances."""
from celery import shared_task

from . import services


@shared_task(name="syncs.tasks.run_sync_job")
def run_sync_job(job_name: str, trigger: str = "schedule") -> int:
    return services.sync_run(job_name=job_name, trigger=trigger).pk


@shared_task(name="syncs.tasks.send_run_attempts")
def send_run_attempts(job_name: str, run_id: int) -> int:
    """Help a run send its attempts (syncs/sending.py); returns how many of the run's tries are closed."""
    return services.run_attempts_send(job_name=job_name, run_id=run_id)


@shared_task(name="syncs.tasks.push_notified_changes")
def push_notified_changes(job_name: str, tries: int = 0) -> int | None:
    from .outbound import notified_changes_push

    run = notified_changes_push(job_name=job_name, tries=tries)
    return run.pk if run else None


@shared_task(name="syncs.tasks.sweep")
def sweep() -> list[str]:
    return services.sync_sweep()


@shared_task(name="syncs.tasks.send_alerts")
def send_alerts() -> int:
    from .alerts import alerts_send

    return len(alerts_send())


@shared_task(name="syncs.tasks.reconcile_amounts")
def reconcile_amounts(trigger: str = "schedule") -> int:
    from .reconcile_amounts import amounts_reconcile

    return amounts_reconcile(trigger=trigger).pk
