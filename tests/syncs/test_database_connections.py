"""The hub's database connections stay within a budget whatever NetSuite's concurrency limit: three pushes at limit 25
(50 sender threads each) run at once against a PostgreSQL that accepts 30 connections."""
import os
import subprocess
import sys
import threading

import psycopg
import pytest

from sandboxes.netsuite.process import run_netsuite_sandbox
from sandboxes.salesforce.process import run_salesforce_sandbox
from tests.conftest import PROJECT_ROOT
from tests.hub_workers import worker_environment
from tests.postgres_cluster import postgres_cluster

pytestmark = pytest.mark.slow

MAX_CONNECTIONS = 30
POOL_MAX_SIZE = 4
STAGE_TWO = ["push_contacts", "push_sales_orders", "push_purchase_orders"]


@pytest.fixture
def small_postgres():
    yield from postgres_cluster(max_connections=MAX_CONNECTIONS,
                                superuser_reserved_connections=3)


class ConnectionPeak:
    """The most connections the hub held to its database at once, sampled every 50 ms from a connection of its own."""

    def __init__(self, url: str):
        self.conn = psycopg.connect(url, autocommit=True)
        self.peak = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self.stopped.wait(0.05):
            (count,), = self.conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = 'hub' "
                                          "AND pid <> pg_backend_pid()").fetchall()
            self.peak = max(self.peak, count)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join()
        self.conn.close()


def hub_environment(tmp_path, hub_url: str, salesforce, netsuite, **pool) -> dict:
    """Hub processes on the small PostgreSQL's `hub_url`, at limit 25 with the embedded broker, and `pool` settings."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(DJANGO_SETTINGS_MODULE="integration_hub.settings", HUB_DEMO="1", HUB_VAR_DIR=str(tmp_path / "var"),
               DATABASE_URL=hub_url, CELERY_BROKER_URL="filesystem://", **pool)
    worker_environment(env, salesforce, netsuite)
    env.update(NETSUITE_CONCURRENCY_LIMIT="25", NETSUITE_SEMAPHORE_URL="", HUB_ATTEMPT_LEASE_SECONDS="60",
               HUB_RUN_LEASE_SECONDS="60")
    return env


def test_it_runs_three_jobs_at_limit_25_within_30_connections(small_postgres, tmp_path):
    seed = {"accounts": 200, "contacts_per_account": 5, "applications": 300, "broker_share": 0.1,
            "remittances_per_funded": 0, "random_seed": 11}
    with psycopg.connect(small_postgres.url(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE hub")
    hub_url = small_postgres.url("hub")
    with run_salesforce_sandbox(tmp_path / "salesforce", seed_args=seed) as salesforce, \
            run_netsuite_sandbox(tmp_path / "netsuite", concurrency_limit=25, latency_ms=100) as netsuite:
        env = hub_environment(tmp_path, hub_url, salesforce, netsuite, DATABASE_POOL_MAX_SIZE=str(POOL_MAX_SIZE))

        def manage(*args):
            return subprocess.Popen([sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env=env, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

        for first in (["migrate", "-v", "0"], ["sync", "run", "push_accounts"]):
            output, _ = manage(*first).communicate(timeout=300)
            assert "too many clients" not in output, output
        with ConnectionPeak(hub_url) as connections:
            runs = [manage("sync", "run", job) for job in STAGE_TWO]
            outputs = [run.communicate(timeout=300)[0] for run in runs]
        assert [run.returncode for run in runs] == [0, 0, 0], outputs
        assert not [output for output in outputs if "too many clients" in output], outputs

    # Each process opened at most its pool's connections, whatever its 50 sender threads did.
    assert 0 < connections.peak <= len(STAGE_TWO) * POOL_MAX_SIZE, connections.peak
    assert "too many clients" not in small_postgres.log()
    with psycopg.connect(hub_url) as hub:
        runs = dict(hub.execute("SELECT j.name, r.outcome FROM syncs_syncrun r JOIN syncs_syncjob j ON j.id = r.job_id "
                                "WHERE j.name = ANY(%s)", [STAGE_TWO]).fetchall())
        open_attempts = hub.execute("SELECT count(*) FROM syncs_syncattempt WHERE status IN ('pending', 'running') "
                                    "AND NOT superseded").fetchone()[0]
        hub_errors = hub.execute("SELECT count(*) FROM syncs_syncattempt WHERE remote_code = 'HUB_ERROR'").fetchone()[0]
        written = dict(hub.execute("SELECT j.name, count(*) FROM syncs_syncattempt a JOIN syncs_syncjob j "
                                   "ON j.id = a.job_id WHERE a.status = 'succeeded' GROUP BY j.name").fetchall())
    assert set(runs) == set(STAGE_TWO) and "failed" not in runs.values(), runs
    assert open_attempts == 0 and hub_errors == 0
    # Every contact and every funded application's order went through (the seed's awkward records aside).
    assert written["push_contacts"] >= 900 and written["push_sales_orders"] > 50, written


# Three runs in threads of one process, as a thread-pool worker (or the push benchmark's threads mode) runs them.
THREADED_RUNS = """
import threading
from django.db import connections
from syncs.services import sync_run

outcomes = {}

def run(name):
    try:
        outcomes[name] = str(sync_run(job_name=name).outcome)
    finally:
        connections.close_all()

threads = [threading.Thread(target=run, args=(name,)) for name in %r]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("OUTCOMES", sorted(outcomes.items()))
"""


def test_three_runs_in_one_process_share_a_pool_smaller_than_their_readers_and_senders(small_postgres, tmp_path):
    """A reader that waited for its senders kept its pooled connection: three runs in one process held all of a
    pool of three while their 150 senders queued for one, and the pool's timeout failed them. A thread that waits
    (for Salesforce's next page, for its senders) gives its connection back."""
    seed = {"accounts": 100, "contacts_per_account": 4, "applications": 120, "broker_share": 0.1,
            "remittances_per_funded": 0, "random_seed": 5}
    with psycopg.connect(small_postgres.url(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE hub_threads")
    hub_url = small_postgres.url("hub_threads")
    with run_salesforce_sandbox(tmp_path / "salesforce", seed_args=seed) as salesforce, \
            run_netsuite_sandbox(tmp_path / "netsuite", concurrency_limit=25, latency_ms=100) as netsuite:
        env = hub_environment(tmp_path, hub_url, salesforce, netsuite, DATABASE_POOL_MAX_SIZE=str(len(STAGE_TWO)),
                              DATABASE_POOL_TIMEOUT="20")
        for first in (["migrate", "-v", "0"], ["sync", "run", "push_accounts"]):
            subprocess.run([sys.executable, "manage.py", *first], cwd=PROJECT_ROOT, env=env, check=True,
                           capture_output=True, timeout=300)
        done = subprocess.run([sys.executable, "manage.py", "shell", "-c", THREADED_RUNS % (STAGE_TWO,)],
                              cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout + done.stderr
    assert "couldn't get a connection" not in output, output[-3000:]
    assert f"OUTCOMES {sorted((name, 'succeeded') for name in STAGE_TWO)}" in done.stdout, output[-3000:]
