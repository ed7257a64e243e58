"""GET /metrics in Prometheus' text format, for scraping: per-job tries and failures waiting, lag, the NetSuite
concurrency slots in use and Salesforce's daily API requests as last seen.

Behind a bearer token (HUB_METRICS_TOKEN; Prometheus' scrape config `authorization: {credentials: …}`): the numbers
are no secret, but job names and volumes are the business's. Without a token configured the endpoint is not there.
Each scrape reads the same indexed counts as the dashboard, so it stays cheap with millions of attempts.
"""
import hmac

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from syncs import selectors
from syncs.concurrency import netsuite_budget
from syncs.models import ApiUsage, HourlyOutcome, SyncJob


@never_cache
@require_GET
def metrics(request):
    token = settings.HUB_METRICS_TOKEN
    if not token:
        raise Http404("No HUB_METRICS_TOKEN is set.")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return HttpResponse("A bearer token is needed.\n", status=401, content_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HubCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class HubCollector:
    """Reads the hub's state at each scrape (nothing is kept between scrapes, so every web worker answers alike)."""

    def collect(self):
        now = timezone.now()
        jobs = {job.pk: job for job in SyncJob.objects.all()}
        tries = CounterMetricFamily("hub_job_tries", "Tries of records finished, by job and outcome, since the hourly "
                                    "roll-ups began.", labels=["job", "outcome"])
        totals = {job_id: (ok, bad) for job_id, ok, bad in _tries_by_job()}
        for job_id, job in jobs.items():
            succeeded, failed = totals.get(job_id, (0, 0))
            tries.add_metric([job.name, "succeeded"], succeeded)
            tries.add_metric([job.name, "failed"], failed)
        yield tries

        waiting = GaugeMetricFamily("hub_job_failures_waiting", "Failed or dead tries waiting for a person.",
                                    labels=["job", "status"])
        counts = selectors.waiting_counts()
        by_job_status: dict[tuple[int, str], int] = {}
        for row in counts:
            by_job_status[(row["job_id"], row["status"])] = by_job_status.get((row["job_id"], row["status"]), 0) + row["n"]
        health = selectors.job_health_list(now=now, counts=counts)
        for row in health:
            for status in ("failed", "dead"):
                waiting.add_metric([row.job.name, status], by_job_status.get((row.job.pk, status), 0))
        yield waiting

        in_flight = GaugeMetricFamily("hub_job_in_flight", "Tries pending or being sent.", labels=["job"])
        lag = GaugeMetricFamily("hub_job_lag_seconds", "Age of the oldest change not yet delivered (see the dashboard).",
                                labels=["job"])
        last_run = GaugeMetricFamily("hub_job_last_run_finished_timestamp_seconds", "When the job's last run finished.",
                                     labels=["job"])
        enabled = GaugeMetricFamily("hub_job_enabled", "1 if the job is enabled.", labels=["job"])
        for row in health:
            in_flight.add_metric([row.job.name], row.in_flight)
            if row.lag is not None:
                lag.add_metric([row.job.name], row.lag.total_seconds())
            if row.job.last_run_finished_at:
                last_run.add_metric([row.job.name], row.job.last_run_finished_at.timestamp())
            enabled.add_metric([row.job.name], 1 if row.job.enabled else 0)
        yield from (in_flight, lag, last_run, enabled)

        budget = netsuite_budget()
        yield GaugeMetricFamily("hub_netsuite_concurrency_slots_in_use", "NetSuite concurrency slots held by the hub now.",
                                value=budget.in_use())
        yield GaugeMetricFamily("hub_netsuite_concurrency_limit", "The account's NetSuite concurrency limit.",
                                value=settings.NETSUITE["CONCURRENCY_LIMIT"])

        usage = ApiUsage.objects.filter(system="salesforce").first()
        if usage is not None:
            yield GaugeMetricFamily("hub_salesforce_api_requests_used", "Salesforce daily API requests used, as last seen.",
                                    value=usage.used)
            yield GaugeMetricFamily("hub_salesforce_api_requests_allocation", "Salesforce daily API request allocation.",
                                    value=usage.allocation)
            yield GaugeMetricFamily("hub_salesforce_api_usage_seen_timestamp_seconds", "When that usage was seen.",
                                    value=usage.seen_at.timestamp())

        breakers = GaugeMetricFamily("hub_remote_breaker_open", "1 while the hub holds back from a failing system.",
                                     labels=["system"])
        for breaker in selectors.breaker_states(now=now):
            breakers.add_metric([breaker.system.lower()], 1 if breaker.open else 0)
        yield breakers

        tick = selectors.beat_last_tick()
        if tick is not None:
            yield GaugeMetricFamily("hub_sweeper_last_tick_timestamp_seconds", "The sweeper's last heartbeat.",
                                    value=tick.timestamp())


def _tries_by_job() -> list[tuple[int, int, int]]:
    """(job id, succeeded, failed) of every counted hour and the current one."""
    from datetime import timedelta

    from django.db.models import Sum

    from syncs.services import outcomes_rollup

    # The hour that just closed is counted before the sums, or the counter would dip until the sweeper counts it.
    current = timezone.now().replace(minute=0, second=0, microsecond=0)
    outcomes_rollup(start=current - timedelta(hours=2), end=current)
    totals = {row["job_id"]: [row["ok"] or 0, row["bad"] or 0] for row in
              HourlyOutcome.objects.values("job_id").order_by().annotate(ok=Sum("succeeded"), bad=Sum("failed"))}
    for row in selectors.hourly_outcomes(hours=1):   # the hour under way, counted live
        pair = totals.setdefault(row.job_id, [0, 0])
        pair[0] += row.succeeded
        pair[1] += row.failed
    return [(job_id, ok, bad) for job_id, (ok, bad) in totals.items()]
