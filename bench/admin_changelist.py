"""How fast every console page answers with a million attempts stored (BENCH_ATTEMPTS for more), on PostgreSQL.

    createdb -h 127.0.0.1 -U postgres hub_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub_bench .venv/bin/python bench/admin_changelist.py

Migrates the database, fills it once with generated attempts (one INSERT … SELECT over generate_series, so a million
rows take seconds) and runs, then requests each page REPEAT times through Django's test client as a logged-in ops
user and prints p50/p95 per page and over all of them. Server time only: no browser, no network.
"""
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")
os.environ.setdefault("HUB_DEMO", "1")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hub_bench")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

ATTEMPTS = int(os.environ.get("BENCH_ATTEMPTS", 1_000_000))
RUNS = int(os.environ.get("BENCH_RUNS", 30_000))
REPEAT = int(os.environ.get("BENCH_REPEAT", 20))

FILL_RUNS = """
INSERT INTO syncs_syncrun (job_id, trigger, dry_run, started_at, finished_at, outcome, message, records_read,
    records_written, records_failed, records_skipped, watermark_before_record_id, watermark_after_record_id)
SELECT j.id, 'schedule', false, now() - (g * interval '15 minutes') / 9, now() - (g * interval '15 minutes') / 9 + interval '20 seconds',
       CASE WHEN g %% 40 = 0 THEN 'partial' ELSE 'succeeded' END, 'generated', 30, 29, g %% 2, 1, '', ''
FROM generate_series(1, %(runs)s) g
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM syncs_syncjob) j ON j.n = g %% 9
"""

FILL_ATTEMPTS = """
INSERT INTO syncs_syncattempt (run_id, job_id, record_type, record_name, salesforce_id, netsuite_internal_id,
    netsuite_external_id, operation, attempt_number, status, error_kind, remote_code, remote_message, request_payload,
    response_payload, source_hash, duration_ms, created_at, started_at, finished_at, next_attempt_at, superseded,
    verify_before_write, waiting_on, resolution_note, idempotency_key)
SELECT NULL, j.id, j.record_type,
       (ARRAY['Acme Bakery','Bluebird Fitness','Harbour Cafe','Keystone Auto','Quayside Diner','Redwood Repair',
              'Summit Dental','Willow Florist','Orchid Spa','Granite Builders'])[1 + g %% 10] || ' ' || g,
       '001' || lpad(to_hex(g), 15, '0'),
       CASE WHEN s.status = 'succeeded' THEN (100000 + g)::text ELSE '' END,
       '001' || lpad(to_hex(g), 15, '0'),
       'upsert', 1 + (g %% 3), s.status,
       CASE WHEN s.status IN ('failed', 'dead') THEN (CASE WHEN g %% 2 = 0 THEN 'permanent' ELSE 'transient' END) ELSE '' END,
       CASE WHEN s.status IN ('failed', 'dead')
            THEN (ARRAY['INVALID_KEY_OR_REF','MAPPING_ERROR','TIMEOUT','UNEXPECTED_ERROR','INVALID_FLD_VALUE','PARENT_FAILED'])[1 + g %% 6]
            ELSE '' END,
       CASE WHEN s.status IN ('failed', 'dead') THEN 'Generated failure for the benchmark.' ELSE '' END,
       jsonb_build_object('record', jsonb_build_object('type', 'customer', 'externalId', '001' || lpad(to_hex(g), 15, '0'),
                          'fields', jsonb_build_object('companyName', 'Company ' || g, 'phone', '555-0100'))),
       jsonb_build_object('isSuccess', s.status = 'succeeded', 'internalId', (100000 + g)::text),
       md5(g::text), 40 + g %% 400,
       now() - (g * interval '30 days') / %(attempts)s,
       now() - (g * interval '30 days') / %(attempts)s,
       now() - (g * interval '30 days') / %(attempts)s + interval '1 second',
       now() - (g * interval '30 days') / %(attempts)s,
       s.status = 'failed' AND g %% 3 = 0, false, '', '', ''
FROM generate_series(1, %(attempts)s) g
CROSS JOIN LATERAL (SELECT CASE WHEN g %% 50 = 0 THEN 'failed' WHEN g %% 97 = 0 THEN 'dead'
                                WHEN g %% 211 = 0 THEN 'pending' ELSE 'succeeded' END AS status) s
JOIN (SELECT id, record_type, row_number() OVER (ORDER BY id) - 1 AS n FROM syncs_syncjob) j ON j.n = g %% 9
"""


def fill() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM syncs_syncattempt")
        if cursor.fetchone()[0] >= ATTEMPTS:
            return
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute("TRUNCATE syncs_syncattempt, syncs_syncrun RESTART IDENTITY CASCADE")
        cursor.execute(FILL_RUNS, {"runs": RUNS})
        cursor.execute(FILL_ATTEMPTS, {"attempts": ATTEMPTS})
    # Autovacuum would do this soon after a real load; index-only scans need the visibility map it writes.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE syncs_syncattempt")
        cursor.execute("VACUUM ANALYZE syncs_syncrun")
        print(f"Generated {ATTEMPTS:,} attempts and {RUNS:,} runs in {time.perf_counter() - started:.1f} s")


def pages() -> list[tuple[str, str]]:
    from syncs.models import SyncAttempt, SyncJob, SyncRun

    job = SyncJob.objects.get(name="push_contacts")
    failed = SyncAttempt.objects.filter(status="failed").order_by("-created_at").first()
    base = "/admin/syncs/syncattempt/"
    return [
        ("dashboard", "/admin/"),
        ("attempts: all", base),
        ("attempts: page 50", base + "?p=50"),
        ("attempts: job", f"{base}?job__id__exact={job.pk}"),
        ("attempts: status failed", base + "?status__exact=failed"),
        ("attempts: waiting for a person", base + "?attention=waiting"),
        ("attempts: job + waiting", f"{base}?attention=waiting&job__id__exact={job.pk}"),
        ("attempts: error kind", base + "?error_kind__exact=permanent"),
        ("attempts: error code", base + "?remote_code=TIMEOUT"),
        ("attempts: today", base + "?created_at__gte=" + time.strftime("%Y-%m-%d") + "+00%3A00%3A00%2B00%3A00"),
        ("attempts: search Salesforce id", base + "?q=" + failed.salesforce_id),
        ("attempts: search NetSuite id", base + "?q=100777"),
        ("attempts: search name", base + "?q=quayside+diner+1234"),
        ("attempt page", f"{base}{failed.pk}/change/"),
        ("commission queue", base + "commissions/"),
        ("attempts: mine", base + "?attention=mine"),
        ("runs: all", "/admin/syncs/syncrun/"),
        ("runs: job", f"/admin/syncs/syncrun/?job__id__exact={job.pk}"),
        ("run page", f"/admin/syncs/syncrun/{SyncRun.objects.order_by('-started_at').first().pk}/change/"),
        ("mapping history", "/admin/syncs/syncjob/mapping-history/"),
        ("value mappings", "/admin/mappings/valuemapping/"),
        ("my alerts", "/admin/syncs/syncjob/my-alerts/"),
        ("metrics", "/metrics"),
        ("healthz", "/healthz"),
    ]


def main() -> None:
    call_command("migrate", verbosity=0)
    fill()
    user, _ = User.objects.get_or_create(username="bench-ops", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="ops"))
    # /metrics asks for a bearer token: the bench scrapes it as Prometheus would.
    from django.conf import settings

    settings.HUB_METRICS_TOKEN = settings.HUB_METRICS_TOKEN or "bench-token"
    client = Client(SERVER_NAME="localhost", HTTP_AUTHORIZATION=f"Bearer {settings.HUB_METRICS_TOKEN}")
    client.force_login(user)
    all_times, changelist_times = [], []
    print(f"{'page':34} {'p50 ms':>8} {'p95 ms':>8}")
    for label, url in pages():
        times = []
        for attempt in range(REPEAT + 1):
            started = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            # /healthz answers 503 here (no beat, no worker): its time is what is measured.
            assert response.status_code == 200 or label == "healthz", (url, response.status_code)
            if attempt:  # the first request warms caches and connections
                times.append(elapsed)
        all_times += times
        if label.startswith(("attempts:", "runs:")):
            changelist_times += times
        print(f"{label:34} {statistics.median(times):8.1f} {_p95(times):8.1f}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM syncs_syncattempt")
        total = cursor.fetchone()[0]
    print(f"\n{total:,} attempts stored. p95 of the changelists: {_p95(changelist_times):.1f} ms; "
          f"of every page above: {_p95(all_times):.1f} ms")


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


if __name__ == "__main__":
    main()
