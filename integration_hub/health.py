"""GET /healthz for monitors: the database, the broker, the beat's last tick and each job's staleness.

200 when all is well, 503 otherwise, with the details as JSON. No login: it says nothing a monitor should not know
(no record data, no secrets).
"""
from django.db import connection
from django.db.models import Count
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from integration_hub.celery import app as celery_app
from syncs.models import AttemptStatus, SyncAttempt
from syncs.selectors import BEAT_STALE_AFTER, beat_last_tick, breaker_states, job_staleness, waiting_counts



@never_cache
@require_GET
def healthz(request):
    now = timezone.now()
    checks, healthy = {}, True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except Exception as exc:  # report, don't crash: a monitor needs an answer
        checks["database"] = {"ok": False, "error": type(exc).__name__}
        return JsonResponse({"status": "unhealthy", "checks": checks}, status=503)

    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=3)
        checks["broker"] = {"ok": True}
    except Exception as exc:
        checks["broker"] = {"ok": False, "error": type(exc).__name__}
        healthy = False

    last_tick = beat_last_tick()
    beat_ok = last_tick is not None and now - last_tick < BEAT_STALE_AFTER
    checks["beat"] = {"ok": beat_ok, "last_tick": last_tick, "age_seconds": _age(now, last_tick)}
    healthy &= beat_ok

    # Records not through yet, per job: waiting for another try, and waiting for a person.
    # Each count from a partial index (one scan of every live try took seconds with ten million stored).
    counts: dict[int, dict] = {}
    for row in SyncAttempt.objects.filter(status=AttemptStatus.PENDING, superseded=False).values("job_id").annotate(n=Count("*")).order_by():
        counts.setdefault(row["job_id"], {"waiting": 0, "needs_person": 0})["waiting"] = row["n"]
    for row in waiting_counts():
        counts.setdefault(row["job_id"], {"waiting": 0, "needs_person": 0})["needs_person"] += row["n"]
    jobs = {}
    for job, interval, stale in job_staleness(now=now):
        finished = job.last_run_finished_at
        jobs[job.name] = {"ok": not stale, "last_outcome": job.last_outcome or None,
                          "last_finished": finished, "age_seconds": _age(now, finished),
                          "waiting_to_retry": counts.get(job.pk, {}).get("waiting", 0),
                          "needs_person": counts.get(job.pk, {}).get("needs_person", 0)}
        healthy &= not stale
    checks["jobs"] = jobs
    # An open breaker is a remote system failing whole requests: the hub holds back and nothing is lost, but a
    # monitor should know. It does not make the hub unhealthy (the hub itself is well).
    checks["remote_systems"] = {
        breaker.system.lower(): {"state": breaker.state, "consecutive_faults": breaker.consecutive_faults,
                                 "open_until": breaker.open_until, "last_fault_code": breaker.last_fault_code or None}
        for breaker in breaker_states(now=now)}
    return JsonResponse({"status": "healthy" if healthy else "unhealthy", "checks": checks}, status=200 if healthy else 503)


def _age(now, moment):
    return round((now - moment).total_seconds()) if moment else None
