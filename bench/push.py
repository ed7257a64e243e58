"""Benchmark of the six pushes (issue 5; not a test): a Salesforce org of exactly the given shape pushed to the
NetSuite sandbox at 200 ms per request plus 2 ms per record, concurrency limit 5.

    .venv/bin/python bench/push.py [--accounts 10000 --contacts 10000 --applications 2000 --brokers 100]

Both sandboxes run as their own processes; the hub's database is a fresh SQLite file in a temporary directory (or
--database-url, which must point at an empty database), migrated by this process before the clock starts. The jobs run in dependency stages, the
jobs of one stage at the same time, each calling `syncs.services.sync_run` as a worker would (by default in worker
processes forked from the warm bench process, like Celery workers with concurrency 1; `--workers threads` runs them
in threads of one process):

    stage 1  push_accounts
    stage 2  push_contacts, push_sales_orders, push_purchase_orders   (each needs only the accounts)
    stage 3  push_sales_order_lines, push_purchase_order_lines        (each needs its orders)

The lower bound is what NetSuite's limits allow: per stage, ⌈(Σ over its jobs of ⌈records/100⌉) / limit⌉ rounds of
latency + 100 × per-record latency, summed over the stages. "One record per call" is the request count an
integration writing each record with its own upsert would need.

`--workers N` (or a list, `--workers 1,2,4`; needs PostgreSQL and Redis, `--database-url` and `--broker-url`) runs
the stages with N real Celery workers instead, one pass per count, each into a fresh NetSuite sandbox and hub
database: the bench enqueues a stage's runs as beat would, and each run's sending is spread over the N workers
(HUB_SEND_WORKERS=N, syncs/sending.py). It reports each pass against the API bound above and against this machine's
CPU bound: the workers' CPU per record × records ÷ cores; and each worker's peak memory (VmHWM).

`--custom-fields 5` (the default) pushes each order with the five custom body fields of the default mappings (the
deal's terms: application id, payback amount, factor rate, holdback %, funded date) and each line with its custom fee
type, as the account declares them; `--custom-fields 0` disables those mappings (and the customers' custom field),
for comparing the two.

`--transport rest` pushes the same org twice in one invocation, first over SOAP (as above), then over SuiteTalk REST
(asynchronous batch upserts, OAuth 2.0), each into a fresh NetSuite sandbox and a fresh hub database, and reports
the REST run against its own bound and against the SOAP run. The REST bound models what the sandbox charges and
what NetSuite's limits allow: a batch is a job whose tasks the account's REST async processors run, one record
after another, each costing latency + per-record latency (the sandbox's model; NetSuite runs a batch's tasks in
parallel), at most `--rest-async-processors` jobs at a time; and every request (the submit, at least one poll, the
task list and one result per record) holds one of the `limit` slots for its latency. Per stage:

    max(records × (latency + per-record) / processors,  (3 × batches + records) × latency / limit)

summed over the stages.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import multiprocessing
import os
import platform
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from sandboxes.netsuite.process import default_wsdl, run_netsuite_sandbox  # noqa: E402
from sandboxes.salesforce import schema as sf_schema  # noqa: E402
from sandboxes.salesforce.seed import SeedPlan, Seeder  # noqa: E402
from sandboxes.salesforce.store import Store  # noqa: E402
from sandboxes.salesforce.process import run_salesforce_sandbox  # noqa: E402
from machine import cpu_model  # noqa: E402  (bench/ is on sys.path when a bench runs)

STAGES = [
    ["push_accounts"],
    ["push_contacts", "push_sales_orders", "push_purchase_orders"],
    ["push_sales_order_lines", "push_purchase_order_lines"],
]
BATCH = 100  # upsertList maximum
FEE_CODES = ["FEE-ORIG", "FEE-UW", "FEE-ACH", "FEE-WIRE"]


# --- the data set -------------------------------------------------------------------------------------------------

class ExactShapeSeeder(Seeder):
    """The sandbox's own seeder (names, awkward values, ids, stamps), with the benchmark's exact shape instead of
    stages drawn by weight: every application funded with exactly `fees` fee lines, a broker on every other one."""

    def __init__(self, store: Store, *, accounts: int, brokers: int, contacts: int, applications: int, fees: int,
                 random_seed: int):
        super().__init__(store, SeedPlan(accounts=accounts, contacts_per_account=1, applications=applications,
                                         remittances_per_funded=0, random_seed=random_seed))
        self.brokers, self.contacts, self.fees = brokers, contacts, fees

    def seed(self, conn) -> dict:
        pricebook = self.ensure_catalogue(conn)
        merchants = self.plan.accounts - self.brokers
        accounts = [{"Name": name, "Type": "Merchant", "Industry": self.random.choice(sf_schema.INDUSTRIES),
                     "BillingCity": "Austin", "BillingCountry": "United States",
                     "Phone": f"+1 (555) {self.random.randint(100, 999)}-{self.random.randint(1000, 9999)}"}
                    for name in self.account_names(merchants)]
        merchant_ids = self.add(conn, "Account", accounts)
        broker_ids = self.add(conn, "Account", [{"Name": f"Broker {i + 1} Funding Partners", "Type": "Broker",
                                                 "Industry": "Professional Services"} for i in range(self.brokers)])
        everyone = merchant_ids + broker_ids
        # seed_contacts gives each listed account contacts_per_account (1) contact: list accounts round robin.
        self.seed_contacts(conn, [everyone[i % len(everyone)] for i in range(self.contacts)])
        self.seed_funded(conn, merchant_ids, broker_ids, pricebook)
        return self.flush(conn)

    def seed_funded(self, conn, merchant_ids, broker_ids, pricebook) -> None:
        names = {row["Id"]: row["Name"] for row in self.rows["Account"]}
        applications = []
        for index in range(self.plan.applications):
            account_id = merchant_ids[index % len(merchant_ids)]
            amount = float(self.random.randrange(5000, 500001, 500))
            factor = round(self.random.uniform(1.15, 1.49), 2)
            close = self.now.date() - dt.timedelta(days=self.random.randint(1, 120))
            brokered = bool(broker_ids) and index % 2 == 0
            applications.append({
                "Name": f"{names[account_id][:100]} - MCA {index + 1}"[:120],
                "AccountId": account_id, "StageName": "Funded", "CloseDate": close.isoformat(),
                "Amount": amount, "Factor_Rate__c": factor, "Payback_Amount__c": round(amount * factor, 2),
                "Holdback_Percent__c": 10.0,
                "Broker__c": broker_ids[(index // 2) % len(broker_ids)] if brokered else None,
                "Commission_Percent__c": float(self.random.choice([2, 4, 6, 8, 10])) if brokered else None,
                "Funded_Date__c": (close - dt.timedelta(days=1)).isoformat(),
                "IsClosed": True, "IsWon": sf_schema.CLOSED_STAGES.get("Funded", True),
                "Pricebook2Id": pricebook["id"],
            })
        line_items = [self.fee_line(application_id, application, pricebook, code)
                      for application_id, application in zip(self.add(conn, "Opportunity", applications), applications)
                      for code in FEE_CODES[:2] + self.random.sample(FEE_CODES[2:], self.fees - 2)]
        self.add(conn, "OpportunityLineItem", line_items)


def seed_salesforce(data_dir: Path, args) -> dict:
    store = Store(data_dir)
    seeder = ExactShapeSeeder(store, accounts=args.accounts, brokers=args.brokers, contacts=args.contacts,
                              applications=args.applications, fees=args.fees, random_seed=args.random_seed)
    with store.transaction() as conn:
        counts = seeder.seed(conn)
    store.conn().execute("PRAGMA optimize")
    store.close()
    return counts


# --- the hub --------------------------------------------------------------------------------------------------------

def hub_environment(temp: Path, salesforce, netsuite, args) -> None:
    """Point the hub at the two sandboxes the way an operator would: environment variables, before Django loads."""
    os.environ.update({
        "DJANGO_SETTINGS_MODULE": "integration_hub.settings",
        "HUB_DEMO": "1",
        "HUB_VAR_DIR": str(temp / "var"),
        "DATABASE_URL": args.database_url or f"sqlite:///{temp / 'hub.sqlite3'}",
        "LOG_LEVEL": "WARNING",
        "SALESFORCE_LOGIN_URL": salesforce.url, "SALESFORCE_CA_BUNDLE": salesforce.ca_cert,
        "SALESFORCE_DOMAIN": "login", "SALESFORCE_USERNAME": salesforce.username,
        "SALESFORCE_CONSUMER_KEY": salesforce.consumer_key, "SALESFORCE_PRIVATE_KEY_FILE": salesforce.private_key_file,
        "NETSUITE_ENDPOINT": netsuite.endpoint, "NETSUITE_WSDL": netsuite.wsdl, "NETSUITE_ACCOUNT": netsuite.account,
        "NETSUITE_CONSUMER_KEY": netsuite.consumer_key, "NETSUITE_CONSUMER_SECRET": netsuite.consumer_secret,
        "NETSUITE_TOKEN_ID": netsuite.token_id, "NETSUITE_TOKEN_SECRET": netsuite.token_secret,
        "NETSUITE_CONCURRENCY_LIMIT": str(args.concurrency_limit), "NETSUITE_SEMAPHORE_URL": "",
        "NETSUITE_TRANSPORT": "soap",
    })
    if getattr(args, "workers", "") == "celery":
        # Real workers take the runs from Redis, and share the NetSuite budget there.
        os.environ.update({"CELERY_BROKER_URL": args.broker_url, "NETSUITE_SEMAPHORE_URL": args.broker_url,
                           "CELERY_QUEUE": f"bench-push-{os.getpid()}"})
    import django

    django.setup()
    import logging

    from django.core.management import call_command

    # The hub writes one JSON line per attempt outcome (logger hub.attempts) to stderr: keep paying for them, as a
    # deployment does, but into a file in the temporary directory rather than over the report.
    attempt_log = logging.getLogger("hub.attempts")
    for handler in list(attempt_log.handlers):
        file_handler = logging.FileHandler(temp / "attempts.jsonl")
        file_handler.setFormatter(handler.formatter)
        attempt_log.removeHandler(handler)
        attempt_log.addHandler(file_handler)

    call_command("migrate", verbosity=0)


def run_job(job_name: str) -> dict:
    """One run of one job, as a worker runs it; with what it cost this process (meaningful per job in a worker
    process of its own)."""
    from django.db import connections
    from syncs.services import sync_run

    cpu_before, calls_before = cpu_seconds(), len(slot_holds.seconds)
    try:
        run = sync_run(job_name=job_name)
    finally:
        connections.close_all()
    return {"run_id": run.pk, "cpu": cpu_seconds() - cpu_before, "slot_seconds": slot_holds.seconds[calls_before:],
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


def _forked_worker_init() -> None:
    """A forked worker opens a connection pool of its own, as a Celery prefork child does."""
    from syncs.database import pools_forget

    pools_forget()


class StageRunner:
    """Runs the jobs of a stage at the same time: in worker processes forked from this warm process (one job each,
    like Celery workers with concurrency 1), or in threads of this process."""

    def __init__(self, mode: str, width: int):
        self.mode, self.pool = mode, None
        if mode == "processes":
            from django.db import connections

            connections.close_all()  # a forked child must not share the parent's database connection
            self.pool = multiprocessing.get_context("fork").Pool(processes=width, initializer=_forked_worker_init)

    def run(self, job_names: list[str]) -> dict:
        from syncs.models import SyncRun

        if self.pool is not None:
            pending = {name: self.pool.apply_async(run_job, (name,)) for name in job_names}
            results = {name: result.get() for name, result in pending.items()}
        else:
            results, errors = {}, {}

            def work(name):
                try:
                    results[name] = run_job(name)
                except BaseException as exc:  # noqa: BLE001 - reported below
                    errors[name] = exc

            from syncs.database import connection_release

            connection_release()   # this thread only waits for the stage: its pooled connection is the jobs'
            threads = [threading.Thread(target=work, args=(name,), name=f"bench-{name}") for name in job_names]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if errors:
                raise RuntimeError(f"jobs crashed: {errors}")
        from django.db.models import Min
        from syncs.models import SyncAttempt

        for result in results.values():
            result["run"] = run = SyncRun.objects.select_related("job").get(pk=result["run_id"])
            first_claim = SyncAttempt.objects.filter(run=run).aggregate(first=Min("started_at"))["first"]
            result["first_send"] = (first_claim - run.started_at).total_seconds() if first_claim else None
        return results

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()


class CeleryWorkers:
    """N Celery workers (`--pool solo`: one process each, the task in its main thread and its sender threads beside
    it), pointed at this pass's sandboxes and the hub database, with each run's sending spread over all N; their CPU
    time and peak memory read from /proc."""

    def __init__(self, directory: Path, count: int, salesforce, netsuite, transport: str, args):
        self.directory, self.count, self.args = directory, count, args
        self.directory.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "HUB_SEND_WORKERS": str(count), "NETSUITE_TRANSPORT": transport,
                    "NETSUITE_ENDPOINT": netsuite.endpoint, "NETSUITE_WSDL": netsuite.wsdl,
                    "NETSUITE_ACCOUNT": netsuite.account, "NETSUITE_REST_URL": netsuite.url,
                    "NETSUITE_CLIENT_ID": netsuite.client_id, "NETSUITE_CERTIFICATE_ID": netsuite.certificate_id,
                    "NETSUITE_PRIVATE_KEY_FILE": str(netsuite.private_key_path), "PYTHONUNBUFFERED": "1",
                    "LOG_LEVEL": "WARNING"}
        self.processes = []

    def __enter__(self):
        import subprocess

        for number in range(1, self.count + 1):
            log = open(self.directory / f"worker{number}.log", "wb")
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "integration_hub", "worker", "--pool", "solo", "--loglevel",
                 "WARNING", "--hostname", f"bench{number}-{os.getpid()}@%h", "--without-heartbeat", "--without-gossip",
                 "--without-mingle"], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT))
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        """Every worker consuming the queue (and so warm: Django loaded, the WSDL parsed on first use) before the
        clock starts."""
        from integration_hub.celery import app

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            replies = app.control.ping(timeout=1.0) or []
            if len(replies) >= self.count:
                return
            if any(process.poll() is not None for process in self.processes):
                break
        raise RuntimeError("the Celery workers did not start; see " + str(self.directory))

    def __exit__(self, *exc_info):
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except Exception:  # noqa: BLE001 - a worker that won't stop is killed
                process.kill()
                process.wait()

    def cpu_seconds(self) -> float:
        return sum(process_cpu_seconds(process.pid) for process in self.processes)

    def peak_rss_kb(self) -> list[int]:
        peaks = []
        for process in self.processes:
            try:
                lines = Path(f"/proc/{process.pid}/status").read_text().splitlines()
                peaks.append(next(int(line.split()[1]) for line in lines if line.startswith("VmHWM:")))
            except (OSError, StopIteration):
                peaks.append(0)
        return peaks

    def stage_runner(self):
        return CeleryStageRunner()


class CeleryStageRunner:
    """Enqueues a stage's runs as beat would and waits until each has finished."""

    def run(self, job_names: list[str]) -> dict:
        from django.db.models import Max, Min
        from syncs.models import RunOutcome, SyncAttempt, SyncRun
        from syncs.tasks import run_sync_job

        before = SyncRun.objects.aggregate(top=Max("id"))["top"] or 0
        for name in job_names:
            run_sync_job.delay(name, trigger="manual")
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            runs = {run.job.name: run for run in SyncRun.objects.filter(pk__gt=before).select_related("job")}
            if set(runs) >= set(job_names) and all(run.outcome != RunOutcome.RUNNING for run in runs.values()):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"the runs of {job_names} did not finish")
        results = {}
        for name in job_names:
            run = runs[name]
            first_claim = SyncAttempt.objects.filter(run=run).aggregate(first=Min("started_at"))["first"]
            results[name] = {"run": run, "cpu": float("nan"), "slot_seconds": [], "maxrss_kb": 0,
                             "first_send": (first_claim - run.started_at).total_seconds() if first_claim else None}
        return results

    def close(self) -> None:
        pass


class SlotHoldTimes:
    """Times how long each NetSuite request holds one of the account's concurrency slots, for the report; the slot
    itself is unchanged."""

    def __init__(self):
        self.seconds: list[float] = []
        self.lock = threading.Lock()

    def install(self) -> None:
        from syncs.concurrency import FileBudget, RedisBudget

        times = self
        for budget_class in (FileBudget, RedisBudget):
            def timed_slot(budget, *args, _original=budget_class.slot, **kwargs):
                with _original(budget, *args, **kwargs):
                    started = time.monotonic()
                    try:
                        yield
                    finally:
                        with times.lock:
                            times.seconds.append(time.monotonic() - started)

            budget_class.slot = contextlib.contextmanager(timed_slot)


slot_holds = SlotHoldTimes()


# --- figures ---------------------------------------------------------------------------------------------------------

def stage_bound(written: list[int], *, limit: int, latency_s: float, per_record_s: float) -> float:
    batches = sum(math.ceil(count / BATCH) for count in written)
    return math.ceil(batches / limit) * (latency_s + BATCH * per_record_s)


def rest_stage_bound(written: list[int], *, limit: int, latency_s: float, per_record_s: float,
                     processors: int) -> float:
    records = sum(written)
    batches = sum(math.ceil(count / BATCH) for count in written)
    return max(records * (latency_s + per_record_s) / processors, (3 * batches + records) * latency_s / limit)


def point_hub_at(netsuite, transport: str) -> None:
    """The hub's NetSuite settings for one pass: this sandbox, this transport (as an operator's variables would)."""
    from django.conf import settings
    from syncs import concurrency
    from syncs.clients.netsuite.rest_auth import access_tokens

    settings.NETSUITE = {
        **settings.NETSUITE, "TRANSPORT": transport, "ENDPOINT": netsuite.endpoint, "ACCOUNT": netsuite.account,
        "REST_URL": netsuite.url, "CLIENT_ID": netsuite.client_id, "CERTIFICATE_ID": netsuite.certificate_id,
        "PRIVATE_KEY": Path(netsuite.private_key_path).read_text(),
    }
    concurrency._budget = None
    access_tokens.clear()


def hub_database_empty() -> None:
    """A fresh hub for the next pass: no attempts, links or watermarks; the jobs and their mappings as deployed."""
    from django.core.management import call_command
    from syncs.jobs.apply import jobs_apply

    call_command("flush", interactive=False, verbosity=0)
    jobs_apply()


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of another process so far, from /proc (Linux); NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle so far (all CPUs), from /proc/stat; NaN elsewhere."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = values[3] + values[4] + (values[7] if len(values) > 7 else 0)  # idle, iowait, stolen by the host
        return (sum(values) - idle) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


class DatabaseWatch:
    """On PostgreSQL: the hub's connections to its database (peak, sampled every 0.2 s) and the CPU time its server
    processes spent (each backend's /proc CPU time, from its first sample to its last), from a connection of its
    own, which is not counted. Nothing on SQLite."""

    def __init__(self, database_url: str):
        self.url = database_url if database_url.startswith("postgres") else ""
        self.peak = 0
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stopped = threading.Event()
        self.thread = None

    def __enter__(self):
        if self.url:
            import psycopg

            self.conn = psycopg.connect(self.url, autocommit=True)
            self.own_pid = self.conn.info.backend_pid
            self.thread = threading.Thread(target=self._watch, name="database-watch", daemon=True)
            self.thread.start()
        return self

    def __exit__(self, *exc_info):
        if self.thread is not None:
            self.stopped.set()
            self.thread.join()
            self.conn.close()

    def _watch(self) -> None:
        while True:
            pids = [pid for (pid,) in self.conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> %s", [self.own_pid])]
            self.peak = max(self.peak, len(pids))
            for pid in pids:
                seconds = process_cpu_seconds(pid)
                if seconds == seconds:  # not NaN: the backend is on this machine
                    self.first.setdefault(pid, seconds)
                    self.last[pid] = seconds
            if self.stopped.wait(0.2):
                return

    @property
    def cpu(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last) if self.url else float("nan")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10000, help="Accounts in all, brokers included")
    parser.add_argument("--brokers", type=int, default=None, help="of the accounts, how many are brokers (default 1%%)")
    parser.add_argument("--contacts", type=int, default=10000)
    parser.add_argument("--applications", type=int, default=2000, help="funded applications")
    parser.add_argument("--fees", type=int, default=3, choices=[2, 3, 4], help="fee line items per application")
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--latency-per-record-ms", type=float, default=2)
    parser.add_argument("--concurrency-limit", type=int, default=5)
    parser.add_argument("--transport", choices=["soap", "rest"], default="soap",
                        help="rest: push over SOAP, then over REST into a fresh account, and compare")
    parser.add_argument("--rest-async-processors", type=int, default=2,
                        help="the account's REST async processors (SuiteCloud Plus licences)")
    parser.add_argument("--custom-fields", type=int, choices=[0, 5], default=5,
                        help="custom body fields per sales order (the default mappings' five deal terms, with the "
                             "lines' fee type), or 0 for none")
    parser.add_argument("--random-seed", type=int, default=7)
    parser.add_argument("--database-url", default="", help="an empty hub database (default: a fresh SQLite file)")
    parser.add_argument("--workers", default="processes",
                        help="run a stage's jobs in worker processes forked from the warm bench process (as Celery "
                             "workers would), in threads of the bench process, or N (a comma list: 1,2,4) real Celery "
                             "workers on --broker-url, each pushing into a fresh NetSuite sandbox and hub database, with "
                             "every run's sending spread over the N workers (HUB_SEND_WORKERS=N)")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/7",
                        help="with --workers N: the Redis broker and NetSuite concurrency semaphore")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (data, logs)")
    args = parser.parse_args()
    if args.brokers is None:
        args.brokers = max(1, args.accounts // 100)
    if not 0 < args.brokers < args.accounts:
        parser.error("--brokers must be at least 1 and fewer than --accounts")
    args.worker_counts = [None]
    if args.workers not in ("processes", "threads"):
        try:
            args.worker_counts = [int(n) for n in args.workers.split(",")]
        except ValueError:
            parser.error("--workers: processes, threads or worker counts such as 1,2,4")
        args.workers = "celery"
        if not args.database_url.startswith("postgres"):
            parser.error("--workers N needs --database-url postgres://… (workers share the hub database)")

    temp = Path(tempfile.mkdtemp(prefix="hub-bench-push-"))
    try:
        return bench(temp, args)
    finally:
        if args.keep:
            print(f"kept {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)


def bench(temp: Path, args) -> int:
    started = time.monotonic()
    seeded = seed_salesforce(temp / "salesforce", args)
    brokered = (args.applications + 1) // 2
    expected = {"customer": args.accounts - args.brokers, "vendor": args.brokers, "contact": args.contacts,
                "salesOrder": args.applications, "purchaseOrder": brokered}
    print(f"seeded Salesforce in {time.monotonic() - started:.1f} s: " + ", ".join(
        f"{name} {count}" for name, count in seeded.items() if count))

    transports = ["soap"] if args.transport == "soap" else ["soap", "rest"]
    passes = {}
    with run_salesforce_sandbox(temp / "salesforce") as salesforce:
        for transport in transports:
            for workers in args.worker_counts:
                label = transport if workers is None else f"{transport}, {workers} workers"
                with run_netsuite_sandbox(temp / f"netsuite-{transport}-{workers}", wsdl=default_wsdl(),
                                          latency_ms=args.latency_ms, latency_per_record_ms=args.latency_per_record_ms,
                                          concurrency_limit=args.concurrency_limit,
                                          settings={"rest_async_processors": args.rest_async_processors}) as netsuite:
                    if not passes:
                        hub_environment(temp, salesforce, netsuite, args)
                        slot_holds.install()
                    else:
                        hub_database_empty()
                    point_hub_at(netsuite, transport)
                    if workers is None:
                        passes[label] = push_pass(salesforce, netsuite, transport, args)
                    else:
                        with CeleryWorkers(temp / f"workers-{transport}-{workers}", workers, salesforce, netsuite,
                                           transport, args) as celery_workers:
                            passes[label] = push_pass(salesforce, netsuite, transport, args, celery_workers)
                    passes[label]["transport"], passes[label]["workers"] = transport, workers

    limit, latency_s, per_record_s = args.concurrency_limit, args.latency_ms / 1000, args.latency_per_record_ms / 1000
    print()
    print(f"shape: {args.accounts} accounts ({args.brokers} brokers), {args.contacts} contacts, {args.applications} "
          f"funded applications × {args.fees} fees, broker on {brokered}")
    print(f"NetSuite sandbox: {args.latency_ms:g} ms per request + {args.latency_per_record_ms:g} ms per record, "
          f"concurrency limit {limit}" + (f", {args.rest_async_processors} REST async processors" if "rest" in passes else ""))
    print(f"hub workers: {args.workers} (a stage's jobs run at the same time); custom fields per order: "
          f"{args.custom_fields}" + (" (and the fee type on each line)" if args.custom_fields else ""))
    print(f"machine: {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), {cpu_model()}, "
          f"Python {platform.python_version()}, hub database "
          f"{'SQLite (fresh file)' if not args.database_url else args.database_url.split(':', 1)[0]}")
    verdict = True
    for label, figures in passes.items():
        verdict = report_pass(label, figures, args, expected) and verdict
    if args.workers == "celery":
        report_workers(passes, args)
    if "rest" in passes and "soap" in passes:
        soap, rest = passes["soap"], passes["rest"]
        print()
        print("--- REST against SOAP ---")
        print(f"wall time                    REST {rest['total']:.2f} s, SOAP {soap['total']:.2f} s "
              f"({rest['total'] / soap['total']:.1f}×)")
        print(f"ratio to its bound           REST {rest['total'] / rest['bound']:.2f} (bound {rest['bound']:.2f} s), "
              f"SOAP {soap['total'] / soap['bound']:.2f} (bound {soap['bound']:.2f} s)   (aim ≤ 1.3)")
        print(f"NetSuite requests per record REST {rest['requests'] / max(rest['written'], 1):.3f}, "
              f"SOAP {soap['requests'] / max(soap['written'], 1):.3f}")
    print("PASS" if verdict else "FAIL")
    return 0 if verdict else 1


def push_pass(salesforce, netsuite, transport: str, args, celery_workers=None) -> dict:
    """The six pushes over one transport, stage by stage, timed (by Celery workers, if given)."""
    from syncs.models import SyncAttempt

    if transport == "soap":
        from syncs.clients.netsuite.soap import zeep_client

        zeep_client()  # parse the WSDL once before the clock starts, as a warm worker has
    else:
        from syncs.clients.netsuite.rest import RestNetSuiteClient
        from syncs.clients.netsuite.rest_auth import access_tokens

        client = RestNetSuiteClient()  # log in before the clock starts: a warm worker holds a token
        access_tokens.token(client.credentials, client.session, client.timeout)
    custom_field_mappings(args.custom_fields)
    slot_holds.seconds.clear()
    salesforce.control(reset_stats=True)
    netsuite.control(reset_stats=True)

    cpu_before = cpu_seconds()
    sandboxes_before = {name: process_cpu_seconds(box.process.pid) for name, box in
                        (("Salesforce", salesforce), ("NetSuite", netsuite))}
    machine_before = machine_busy_seconds()
    workers_cpu_before = celery_workers.cpu_seconds() if celery_workers else 0.0
    runner = (celery_workers.stage_runner() if celery_workers
              else StageRunner(args.workers, width=max(len(job_names) for job_names in STAGES)))
    total_started = time.monotonic()
    stage_rows = []
    try:
        with DatabaseWatch(args.database_url) as database:
            for number, job_names in enumerate(STAGES, start=1):
                stage_started = time.monotonic()
                results = runner.run(job_names)
                elapsed = time.monotonic() - stage_started
                stage_rows.append((number, elapsed, results))
    finally:
        runner.close()
    total = time.monotonic() - total_started
    results = [result for _, _, stage_results in stage_rows for result in stage_results.values()]
    if celery_workers:
        # the workers' own CPU (every thread of each): this process only enqueued and waited
        cpu = celery_workers.cpu_seconds() - workers_cpu_before
        holds = []
        peak_kb = max(celery_workers.peak_rss_kb())
    elif args.workers == "processes":
        # each worker measured its own job; this process only waited
        cpu = cpu_seconds() - cpu_before + sum(result["cpu"] for result in results)
        holds = [s for result in results for s in result["slot_seconds"]]
    else:
        cpu = cpu_seconds() - cpu_before
        holds = list(slot_holds.seconds)
    if not celery_workers:
        peak_kb = max([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss] + [r["maxrss_kb"] for r in results])
    figures = {
        "stage_rows": stage_rows, "total": total, "results": results, "cpu": cpu, "holds": holds, "peak_kb": peak_kb,
        "machine_busy": machine_busy_seconds() - machine_before,
        "database_peak": database.peak, "database_cpu": database.cpu,
        "worker_peaks_kb": celery_workers.peak_rss_kb() if celery_workers else [],
        "sandbox_cpu": {name: process_cpu_seconds(box.process.pid) - sandboxes_before[name] for name, box in
                        (("Salesforce", salesforce), ("NetSuite", netsuite))},
        "ns": netsuite.stats(), "sf": salesforce.stats(),
        "failed": SyncAttempt.objects.filter(status__in=["failed", "dead"]).count(),
        "open": SyncAttempt.objects.filter(status__in=["pending", "running"], superseded=False).count(),
    }
    return figures


def report_workers(passes: dict, args) -> None:
    """Each worker count's wall time against the API bound and this machine's CPU bound (hub CPU per record ×
    records ÷ cores, the hub's CPU being its workers'), with the larger of the two as the one to meet."""
    cores = len(os.sched_getaffinity(0))
    print()
    print(f"--- workers against both bounds (concurrency limit {args.concurrency_limit}, {cores} cores) ---")
    print(f"{'pass':<22} {'wall s':>8} {'API bound':>10} {'CPU bound':>10} {'ratio':>6} {'all-CPU bound':>13} "
          f"{'hub ms/rec':>10} {'PG ms/rec':>9} {'peak MB/worker':>15} {'other load s':>12}")
    for label, figures in passes.items():
        written = max(figures["written"], 1)
        cpu_bound = figures["cpu"] / written * figures["written"] / cores
        bound = max(figures["bound"], cpu_bound)
        database_cpu = figures["database_cpu"] if figures["database_cpu"] == figures["database_cpu"] else 0.0
        # On one machine the hub shares its cores with PostgreSQL and the two sandboxes: all their CPU, per core.
        all_cpu_bound = (figures["cpu"] + database_cpu + sum(figures["sandbox_cpu"].values())) / cores
        others = max(0.0, figures["machine_busy"] - figures["cpu"] - sum(figures["sandbox_cpu"].values()) - database_cpu)
        print(f"{label:<22} {figures['total']:8.2f} {figures['bound']:10.2f} {cpu_bound:10.2f} "
              f"{figures['total'] / bound:6.2f} {all_cpu_bound:13.2f} {figures['cpu'] / written * 1000:10.3f} "
              f"{database_cpu / written * 1000:9.3f} {figures['peak_kb'] / 1024:15.0f} {others:12.1f}")
    print("CPU bound: the workers' CPU per record × records ÷ cores; ratio: wall time ÷ the larger of it and the API "
          "bound (aim ≤ 1.3 at 4 workers); all-CPU bound: the hub's, PostgreSQL's and the sandboxes' CPU ÷ cores, what "
          "this one machine can do when they share it; other load: CPU seconds spent meanwhile by processes that are "
          "none of these (a busy machine)")


def custom_field_mappings(per_order: int) -> None:
    """Enable the default mappings' custom fields (five on each order, one on each line, one on each customer), or
    disable them all."""
    from mappings.models import FieldMapping

    custom = FieldMapping.objects.filter(target_field__regex=r"^cust(body|col|entity)_")
    custom.update(enabled=per_order > 0)
    if per_order:
        on_orders = FieldMapping.objects.filter(job__name="push_sales_orders", enabled=True,
                                                target_field__startswith="custbody_").count()
        assert on_orders == per_order, f"{on_orders} custom body fields mapped on the sales order, not {per_order}"


def report_pass(label: str, figures: dict, args, expected: dict) -> bool:
    transport = figures["transport"]
    limit, latency_s, per_record_s = args.concurrency_limit, args.latency_ms / 1000, args.latency_per_record_ms / 1000
    total, cpu, ns_stats, sf_stats = figures["total"], figures["cpu"], figures["ns"], figures["sf"]
    print()
    print(f"--- {label.upper()} ---")
    print(f"{'stage':<6} {'job':<28} {'outcome':<10} {'read':>7} {'written':>8} {'failed':>7} {'wall s':>8} "
          f"{'bound s':>8} {'ratio':>6} {'CPU s':>7} {'1st send s':>10}")
    bound_total = 0.0
    written_total = 0
    for number, elapsed, stage_results in figures["stage_rows"]:
        runs = {name: result["run"] for name, result in stage_results.items()}
        written = [run.records_written for run in runs.values()]
        if transport == "soap":
            bound = stage_bound(written, limit=limit, latency_s=latency_s, per_record_s=per_record_s)
        else:
            bound = rest_stage_bound(written, limit=limit, latency_s=latency_s, per_record_s=per_record_s,
                                     processors=args.rest_async_processors)
        bound_total += bound
        written_total += sum(written)
        for name, run in runs.items():
            run_wall = (run.finished_at - run.started_at).total_seconds()
            # a worker process's own CPU; threads share one process, so there it is not told apart per job
            job_cpu = f"{stage_results[name]['cpu']:7.2f}" if args.workers == "processes" else "      -"
            seconds = stage_results[name]["first_send"]
            first_send = f"{seconds:10.2f}" if seconds is not None else "         -"
            print(f"{number:<6} {name:<28} {run.outcome:<10} {run.records_read:>7} {run.records_written:>8} "
                  f"{run.records_failed:>7} {run_wall:>8.2f} {'':>8} {'':>6} {job_cpu} {first_send}")
        ratio = f"{elapsed / bound:6.2f}" if bound else "     -"
        print(f"{number:<6} {'(stage)':<28} {'':<10} {'':>7} {sum(written):>8} {'':>7} {elapsed:>8.2f} "
              f"{bound:>8.2f} {ratio}")
    print()
    requests_by_operation = dict(sorted(ns_stats.get("requests", {}).items()))
    # async.task is the sandbox's count of records its processors wrote, not a request
    ns_requests = sum(n for operation, n in requests_by_operation.items() if operation not in ("async.task", "token"))
    figures.update(bound=bound_total, written=written_total, requests=ns_requests)
    print(f"wall time                    {total:8.2f} s")
    if transport == "soap":
        print(f"lower bound                  {bound_total:8.2f} s   (Σ stages ⌈⌈records/{BATCH}⌉ / {limit}⌉ × "
              f"({latency_s:g} s + {BATCH} × {per_record_s * 1000:g} ms))")
    else:
        print(f"lower bound                  {bound_total:8.2f} s   (Σ stages max(records × ({latency_s:g} s + "
              f"{per_record_s * 1000:g} ms) / {args.rest_async_processors} processors, (3 × batches + records) × "
              f"{latency_s:g} s / {limit} slots))")
    print(f"ratio to the bound           {total / bound_total if bound_total else float('nan'):8.2f}   (aim ≤ 1.3)")
    print(f"records written              {written_total:8d}")
    print(f"NetSuite requests            {ns_requests:8d}   ({ns_requests / max(written_total, 1):.3f} a record) "
          f"{requests_by_operation}")
    print(f"NetSuite faults              {dict(ns_stats.get('faults', {}))}")
    print(f"NetSuite max concurrency     {ns_stats.get('max_concurrency'):8d}   (limit {limit})")
    holds = sorted(figures["holds"])
    if holds:
        print(f"slot held per request        median {holds[len(holds) // 2] * 1000:.0f} ms, "
              f"p95 {holds[int(len(holds) * 0.95)] * 1000:.0f} ms, {len(holds)} requests of "
              f"{written_total / len(holds):.1f} records on average (the sandbox models {latency_s * 1000:g} ms + "
              f"{per_record_s * 1000:g} ms a record, its own work included)")
        print(f"slots busy                   {100 * sum(holds) / (limit * total):7.0f}%   (Σ slot holds / ({limit} slots × "
              f"wall time))")
    print(f"one record per call          {written_total:8d} requests")
    print(f"Salesforce requests          {sf_stats.get('requests', 0):8d}   {sf_stats.get('by_route', {})}")
    per_record_ms = cpu / written_total * 1000 if written_total else float("nan")
    print(f"hub CPU                      {cpu:8.2f} s   ({per_record_ms:.2f} ms per record written)")
    print("sandbox CPU                  " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in figures["sandbox_cpu"].items()))
    if args.database_url.startswith("postgres"):
        print(f"PostgreSQL                   {figures['database_peak']:8d} connections at most; its processes' CPU "
              f"{figures['database_cpu']:.2f} s ({figures['database_cpu'] / max(written_total, 1) * 1000:.3f} ms per "
              f"record written)")
    cpus = len(os.sched_getaffinity(0))
    others = figures["machine_busy"] - cpu - sum(figures["sandbox_cpu"].values())
    print(f"machine CPU busy             {figures['machine_busy']:8.2f} s of {cpus} × {total:.2f} s "
          f"({100 * figures['machine_busy'] / (cpus * total):.0f}%); other processes on the machine {max(0.0, others):.2f} s")
    if figures["worker_peaks_kb"]:
        print(f"hub peak memory (VmHWM)      {figures['peak_kb'] / 1024:8.0f} MB   (largest Celery worker; each: "
              + ", ".join(f"{kb / 1024:.0f}" for kb in figures["worker_peaks_kb"]) + " MB)")
    else:
        print(f"hub peak memory (maxrss)     {figures['peak_kb'] / 1024:8.0f} MB   "
              f"({'largest worker process' if args.workers == 'processes' else 'the one hub process'})")
    counts = {name: ns_stats.get("records", {}).get(name, 0) for name in expected}
    mismatched = {name: (counts[name], want) for name, want in expected.items() if counts[name] != want}
    print(f"NetSuite records: {counts}  expected {expected}")
    print(f"attempts failed or dead: {figures['failed']}; still open: {figures['open']}")
    not_succeeded = {result["run"].job.name: f"{result['run'].outcome}: {result['run'].message}"
                     for result in figures["results"] if result["run"].outcome != "succeeded"}
    for name, why in not_succeeded.items():
        print(f"run of {name} did not succeed: {why}")
    ok = not mismatched and not not_succeeded and figures["failed"] == 0 and figures["open"] == 0
    print(f"{label.upper()}: " + ("PASS" if ok else f"FAIL {mismatched}"))
    return ok


if __name__ == "__main__":
    sys.exit(main())
