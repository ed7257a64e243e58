"""The fault matrix of issue #14: faults that pass never become work for a person, and every run says honestly what
it did.

Each case starts from fresh sandbox stores and a fresh hub, runs the six pushes (and the pulls where the fault is
about them) with real Celery workers against both sandboxes over real HTTP, turns the fault on and off, lets the hub
settle as beat would, and counts in the two systems themselves: nothing lost, nothing duplicated, content equal,
nothing waiting for a person. The settle times are tabled at the end of the session (and in
var/reliability-report.txt).

    pytest -m reliability -s          this suite
    pytest -m "not slow"              everything quick, without it
"""
import os
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from sandboxes.processes import free_port
from syncs.models import RunOutcome, SyncAttempt, SyncJob
from syncs.schedules import SWEEP_NAME, schedules_apply
from tests.conftest import PROJECT_ROOT
from tests.hub_workers import PUSHES

pytestmark = [pytest.mark.slow, pytest.mark.reliability]


def test_it_syncs_every_record_once_without_a_fault(scenario):
    """The baseline: the same data set and workers with no fault, so the other settle times have a yardstick."""
    scenario.begin(workers=2)
    scenario.fault()
    scenario.enqueue()
    scenario.clear()
    scenario.settle()
    scenario.check()


def test_it_recovers_every_record_after_a_worker_is_killed_mid_batch(scenario):
    scenario.begin(workers=2, netsuite={"latency_ms": 300})
    scenario.fault()
    scenario.enqueue()
    scenario.wait_until(scenario.busy_worker, "a worker with a batch in flight")
    victim = scenario.busy_worker() or scenario.workers[0]
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    scenario.add_worker()  # a supervisor starts another in its place
    scenario.clear(netsuite={"latency_ms": 30})
    scenario.settle()
    scenario.notes.append(f"tries of the killed worker reclaimed: "
                          f"{SyncAttempt.objects.filter(remote_code='WORKER_LOST').count()}")
    scenario.check()


def test_it_leaves_nothing_lost_or_twice_when_netsuite_loses_answers(scenario):
    scenario.begin(workers=2)
    scenario.fault(netsuite={"lost_response_rate": 0.2})
    scenario.enqueue()
    scenario.act(8)
    scenario.clear()
    scenario.settle()
    scenario.check()


def test_it_waits_out_netsuite_refusing_requests_over_its_concurrency_limit(scenario):
    """The account allows one request at a time (another integration holds the rest) while four workers push."""
    scenario.begin(workers=4)
    scenario.fault(netsuite={"concurrency_limit": 1})
    scenario.enqueue()
    scenario.act(8)
    scenario.clear(netsuite={"concurrency_limit": 5})
    scenario.settle()
    scenario.check()


def test_it_logs_in_again_when_salesforce_sessions_expire_mid_run(scenario):
    scenario.begin(workers=2, pulls=True)
    expire = lambda: scenario.salesforce.control(expire_sessions=True)  # noqa: E731
    scenario.fault()
    scenario.enqueue(PUSHES)
    scenario.act(4, tick=expire)
    scenario.enqueue(["pull_sales_orders", "pull_purchase_orders"])  # the pulls write onto applications meanwhile
    scenario.act(5, tick=expire)
    scenario.clear()
    scenario.settle()
    logins = scenario.salesforce.stats()["counts"].get("logins")
    scenario.notes.append(f"Salesforce logins: {logins}")
    scenario.check()


def test_it_pauses_and_resumes_when_the_salesforce_api_allocation_is_spent(scenario):
    scenario.begin(workers=2, pulls=True)
    scenario.enqueue(PUSHES)
    scenario.wait_until(scenario.mid_batch, "a batch in flight")
    limit = scenario.salesforce.stats()["api_daily_limit"]
    scenario.fault(salesforce={"api_usage": limit})  # every request from now on: 403 REQUEST_LIMIT_EXCEEDED
    scenario.act(2)
    scenario.enqueue()  # the next scheduled runs start while the allocation is spent
    scenario.act(6)
    scenario.clear(salesforce={"api_usage": 0})  # a new day
    during = list(scenario.runs_during_fault())
    scenario.settle()
    problems = []
    failed = [f"run {run.pk} of {run.job.name}: {run.message}" for run in during if run.outcome == RunOutcome.FAILED]
    if failed:
        problems.append(f"{len(failed)} runs failed instead of pausing while the allocation was spent: {failed[:5]}")
    if not any(run.outcome == RunOutcome.PAUSED for run in during):
        problems.append("no run paused while the allocation was spent: "
                        f"{sorted({(run.job.name, run.outcome) for run in during})}")
    still_paused = dict(SyncJob.objects.exclude(paused_reason="").values_list("name", "paused_reason"))
    if still_paused:
        problems.append(f"jobs still paused after the allocation came back: {still_paused}")
    scenario.check(*problems)


def test_it_leaves_nothing_for_a_person_after_a_5xx_burst(scenario):
    """A fifth of NetSuite's answers are a gateway's 503 or 500 page for ten seconds; no run finished meanwhile may
    say it succeeded while its records were still failing or waiting to retry (checked in every case)."""
    scenario.begin(workers=2)
    scenario.fault(netsuite={"http_503_rate": 0.1, "http_500_rate": 0.112})  # 0.1 + 0.9 × 0.112 ≈ 20 %
    scenario.enqueue()
    scenario.act(10)
    scenario.clear()  # and the runs finished meanwhile are held to their outcomes (see Scenario.check)
    scenario.settle()
    scenario.check()


def test_it_leaves_nothing_for_a_person_after_a_netsuite_outage(scenario):
    """Every NetSuite request answered 503 for fifteen seconds (a quarter of an hour in production time, longer than
    five tries' backoff), then NetSuite is back."""
    scenario.begin(workers=2)
    scenario.fault(netsuite={"http_503_rate": 1.0})
    scenario.enqueue()
    scenario.act(15)
    scenario.clear()
    scenario.settle()
    scenario.check()


def test_it_retries_records_netsuite_reports_as_changed_meanwhile(scenario):
    scenario.begin(workers=2)
    scenario.fault(netsuite={"record_changed_rate": 0.2, "fault_operations": "upsertList"})
    scenario.enqueue()
    scenario.act(8)
    scenario.clear(netsuite={"fault_operations": ""})
    scenario.settle()
    scenario.check()


def test_it_recovers_from_a_postgresql_restart(scenario):
    if connection.vendor != "postgresql":
        pytest.skip("the hub's database is SQLite here; run with DATABASE_URL=postgres://… to restart PostgreSQL")
    scenario.begin(workers=2, netsuite={"latency_ms": 150})
    scenario.fault()
    scenario.enqueue()
    scenario.wait_until(scenario.mid_batch, "a batch in flight")
    cut = postgresql_down_and_up(seconds=3)
    scenario.notes.append(f"hub connections cut: {cut}")
    scenario.clear(netsuite={"latency_ms": 30})
    scenario.settle()
    scenario.check()


def test_it_recovers_from_a_redis_restart(scenario, tmp_path):
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("the broker is the embedded filesystem transport; run with CELERY_BROKER_URL=redis://… to restart Redis")
    # A Redis of the case's own (the shared one may serve other test runs), restarted for real: without
    # persistence, as CI runs it, the queued tasks and the NetSuite concurrency slots are gone after it.
    redis = PrivateRedis(tmp_path / "redis")
    try:
        scenario.env.update(CELERY_BROKER_URL=redis.url, NETSUITE_SEMAPHORE_URL=redis.url)
        scenario.begin(workers=2, netsuite={"latency_ms": 150})
        scenario.fault()
        scenario.enqueue()
        scenario.wait_until(scenario.mid_batch, "a batch in flight")
        redis.stop()
        scenario.act(3)  # beat cannot reach the broker meanwhile
        redis.start()
        scenario.notes.append(f"beat's sends refused while Redis was down: {len(scenario.beat.errors)}")
        scenario.clear(netsuite={"latency_ms": 30})
        scenario.settle()
        scenario.check()
    finally:
        scenario.hub_processes.stop_all()
        redis.stop()


def test_it_writes_each_record_once_when_runs_are_delivered_twice(scenario):
    scenario.begin(workers=3, netsuite={"latency_ms": 100})
    scenario.fault()
    assert scenario.beat.send("twice", *PUSHES)  # each run's message delivered twice
    scenario.wait_until(scenario.mid_batch, "a batch in flight")
    # And an operator's `sync run --enqueue` twice at the same moment, mid-run.
    commands = [subprocess.Popen([sys.executable, "manage.py", "sync", "run", "--enqueue", *PUSHES], cwd=PROJECT_ROOT,
                                 env=scenario.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for command in commands:
        assert command.wait(timeout=60) == 0, command.stderr.read()
    scenario.act(4)
    scenario.clear(netsuite={"latency_ms": 30})
    scenario.settle()
    scenario.check()


def test_it_writes_each_record_once_with_two_beats(scenario):
    """Two beat processes (a deploy left the old one running) schedule every job every two seconds."""
    scenario.begin(workers=3, pulls=True)
    schedules_apply()
    every_two, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    every_one, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.exclude(name=SWEEP_NAME).filter(crontab=None).update(interval=every_two)
    PeriodicTask.objects.filter(name=SWEEP_NAME).update(interval=every_one)
    scenario.fault()
    beats = [scenario.hub_processes.start(f"beat{n}", "-m", "celery", "-A", "integration_hub", "beat", "--loglevel",
                                          "INFO", "--pidfile", "", "--max-interval", "1") for n in (1, 2)]
    scenario.act(10)
    for beat in beats:  # the settle below is beat's work, done by the test's stand-in
        beat.terminate()
        beat.wait(timeout=15)
    scenario.clear()
    scenario.settle()
    scenario.notes.append(f"beat logs: {[scenario.hub_processes.log(f'beat{n}').count('Sending due task') for n in (1, 2)]} tasks sent")
    scenario.check()


def test_it_recovers_answers_slower_than_its_timeout(scenario):
    """A fifth of NetSuite's answers come after 5 s, with the hub's timeout at 2 s (the write was done meanwhile)."""
    scenario.begin(workers=2, env={"NETSUITE_TIMEOUT": "2"})
    scenario.fault(netsuite={"slow_rate": 0.2, "slow_ms": 5000})
    scenario.enqueue()
    scenario.act(8)
    scenario.clear()
    scenario.settle()
    scenario.check()


def test_it_ends_with_salesforces_final_content_after_edits_mid_run(scenario):
    """People edit accounts, contacts, fees and commissions while the pushes run; NetSuite ends as Salesforce is."""
    scenario.begin(workers=2, netsuite={"latency_ms": 150})
    scenario.fault()
    scenario.enqueue()
    scenario.wait_until(scenario.mid_batch, "a batch in flight")
    for wave in (1, 2, 3):
        salesforce_edits(scenario.salesforce.client(), wave)
        scenario.act(1.5)
    scenario.clear(netsuite={"latency_ms": 30})
    scenario.settle()
    scenario.check()


# --- faults the test makes itself ---------------------------------------------------------------------------------

def salesforce_edits(sf, wave: int) -> None:
    """A wave of people's edits: accounts renamed, contacts' names and emails, fees re-priced, removed and added, a
    commission changed."""
    accounts = sf.query_all("SELECT Id, Name FROM Account ORDER BY Id")["records"]
    for account in accounts[wave::9]:
        sf.Account.update(account["Id"], {"Name": f"{account['Name'][:60]} (edit {wave})"})
    contacts = sf.query_all("SELECT Id FROM Contact ORDER BY Id")["records"]
    for number, contact in enumerate(contacts[wave::13]):
        sf.Contact.update(contact["Id"], {"LastName": f"Edited{wave}x{number}", "Email": f"edit{wave}.{number}@example.com"})
    funded = sf.query_all("SELECT Id, Broker__c, (SELECT Id, UnitPrice FROM OpportunityLineItems ORDER BY Id) "
                          "FROM Opportunity WHERE StageName = 'Funded' ORDER BY Id")["records"]
    for app in funded[wave::7]:
        fees = (app["OpportunityLineItems"] or {}).get("records") or []
        if fees:
            sf.OpportunityLineItem.update(fees[0]["Id"], {"UnitPrice": fees[0]["UnitPrice"] + 11 * wave})
    with_many_fees = [app for app in funded if len((app["OpportunityLineItems"] or {}).get("records") or []) >= 3]
    if wave == 2 and with_many_fees:
        sf.OpportunityLineItem.delete(with_many_fees[0]["OpportunityLineItems"]["records"][-1]["Id"])
    if wave == 3 and funded:
        entry = sf.query("SELECT Id FROM PricebookEntry WHERE ProductCode = 'FEE-WIRE'")["records"][0]
        sf.OpportunityLineItem.create({"OpportunityId": funded[-1]["Id"], "PricebookEntryId": entry["Id"],
                                       "Quantity": 1, "UnitPrice": 25 + wave})
    for app in [app for app in funded if app["Broker__c"]][wave - 1::4]:
        sf.Opportunity.update(app["Id"], {"Commission_Percent__c": 3 + wave})


def postgresql_down_and_up(*, seconds: float) -> int:
    """What the hub sees of a PostgreSQL restart: every connection of its database cut, and no new one taken for a
    while. Only the hub's database is touched (connections are refused there; the test's own is kept to watch)."""
    import psycopg

    db = connection.settings_dict
    name = db["NAME"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]
    admin = psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                            password=db["PASSWORD"] or None, dbname="postgres", autocommit=True)
    try:
        admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        try:
            cut = 0
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                cut += len(admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                                         "AND pid <> %s", (name, own)).fetchall())
                time.sleep(0.2)
        finally:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
    finally:
        admin.close()
    return cut


class PrivateRedis:
    """A redis-server of the test's own, without persistence, that can be stopped and started on its port."""

    def __init__(self, directory):
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self) -> None:
        log = open(self.directory / "redis.log", "ab")
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", str(self.directory)],
                                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
