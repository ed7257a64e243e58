"""Benchmark of the remittance pull (issue 6; not a test): 50,000 customer payments read from the NetSuite sandbox
at 200 ms per request plus 1 ms per record returned, 1,000 a page, and written to the Salesforce sandbox as
Remittance__c records through sObject Collections (200 a call).

    .venv/bin/python bench/pull.py [--payments 50000 --customers 2000 --applications 2500]

The data is seeded straight into both sandboxes' storage before they start (their own seeding code): a Salesforce
org of merchant Accounts and funded Applications, and a NetSuite account holding their Customers and Sales Orders
(external ids = the Salesforce ids, as the pushes would have left them), each order billed by one invoice, and the
payments, applied to the invoices in turn and dated over a year of office hours, to the second (so some share one).
`--reversals-share 0.05` undoes that share of the payments later the same day, half voided directly (kept, amount 0)
and half deleted, as ACH returns and payments entered by mistake are; the pull then reads the voided ones with the
rest. Each page also asks NetSuite which sales orders its payments' invoices were billed from (one getList, or one
SuiteQL query, of the page's invoices), which the bound below does not count. The hub's database gets the
Account and Sales Order record links the pushes would have made. Both sandboxes run as their own processes; the hub
runs `syncs.services.sync_run(job_name="pull_remittances")` in this process, as a worker would, on a fresh SQLite
database (or --database-url, an empty one), then runs it again to show that the second run writes nothing.

The lower bound overlaps the two sides: max(NetSuite: the first page, then the rest as many at a time as the pull's
share of the concurrency budget allows (HUB_PULL_BUDGET_SHARE × --concurrency-limit pages in flight, at least one;
syncs/jobs/pulls.py), each latency + page size × per-record latency;
⌈payments / 200⌉ collection calls × the measured mean collection call). The serial sum is shown for reference.
The roll-up of the applications' totals that follows the pull is timed separately and is not in the bound.

`--transport rest` then reads the same account again over SuiteTalk REST (SuiteQL with a keyset cursor, OAuth 2.0)
into a fresh hub database, and reports it against its own bound and against the SOAP run. A keyset page needs the
last key of the one before, so one cursor reads one page ahead; each page of payments takes a second SuiteQL query
for what they apply to (as many rows as payments). The first page comes from one cursor, its applications read
beside the query of the bounds of the rest (MIN/MAX/COUNT of the ids); the rest is read in ranges of ids side by
side, as many as the pull's share of the budget (at most one per page left), each range a keyset cursor whose page
and its applications come one after the other. Its NetSuite bound is, with page = latency + page size × per-record
latency: page + max(page, latency) + ⌈(pages − 1) / ranges⌉ × 2 pages. A sweep of two pages or fewer, or a share of
one page, keeps one cursor: (pages + 1) × page.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import math
import multiprocessing
import os
import platform
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from push import (cpu_model, cpu_seconds, hub_database_empty, hub_environment, machine_busy_seconds,  # noqa: E402
                  point_hub_at, process_cpu_seconds)
from sandboxes.netsuite import records as ns_records  # noqa: E402
from sandboxes.netsuite import seeding as ns_seeding  # noqa: E402
from sandboxes.netsuite.store import DB_NAME as NS_DB_NAME  # noqa: E402
from sandboxes.netsuite.store import Store as NetSuiteStore  # noqa: E402
from sandboxes.netsuite.process import default_wsdl, run_netsuite_sandbox  # noqa: E402
from sandboxes.salesforce import schema as sf_schema  # noqa: E402
from sandboxes.salesforce.seed import SeedPlan, Seeder  # noqa: E402
from sandboxes.salesforce.store import Store as SalesforceStore  # noqa: E402
from sandboxes.salesforce.process import run_salesforce_sandbox  # noqa: E402

COLLECTION = 200  # sObject Collection maximum
JOB = "pull_remittances"


# --- the data set -------------------------------------------------------------------------------------------------

class FundedOrgSeeder(Seeder):
    """The Salesforce sandbox's own seeder (names, ids, stamps), with only what the pull needs: merchant Accounts
    and funded Applications, application n belonging to account n mod accounts (as order n to customer n in
    NetSuite's seeding)."""

    def __init__(self, store: SalesforceStore, *, accounts: int, applications: int, random_seed: int):
        super().__init__(store, SeedPlan(accounts=accounts, contacts_per_account=0, applications=applications,
                                         remittances_per_funded=0, random_seed=random_seed))

    def seed(self, conn) -> tuple[list[str], list[str]]:
        accounts = [{"Name": name, "Type": "Merchant", "Industry": self.random.choice(sf_schema.INDUSTRIES),
                     "BillingCity": "Austin", "BillingCountry": "United States"}
                    for name in self.account_names(self.plan.accounts)]
        account_ids = self.add(conn, "Account", accounts)
        applications = []
        for index in range(self.plan.applications):
            account_id = account_ids[index % len(account_ids)]
            amount = float(self.random.randrange(5000, 500001, 500))
            factor = round(self.random.uniform(1.15, 1.49), 2)
            close = self.now.date() - dt.timedelta(days=self.random.randint(400, 500))
            applications.append({
                "Name": f"{accounts[index % len(accounts)]['Name'][:100]} - MCA {index + 1}"[:120],
                "AccountId": account_id, "StageName": "Funded", "CloseDate": close.isoformat(),
                "Amount": amount, "Factor_Rate__c": factor, "Payback_Amount__c": round(amount * factor, 2),
                "Holdback_Percent__c": 10.0, "Funded_Date__c": (close - dt.timedelta(days=1)).isoformat(),
                "IsClosed": True, "IsWon": True,
            })
        application_ids = self.add(conn, "Opportunity", applications)
        self.flush(conn)
        return account_ids, application_ids


def seed_both(temp: Path, args) -> dict:
    """Both sandboxes' storage, before they start (run in a child process, so the hub's memory figure is its own)."""
    started = time.monotonic()
    sf_store = SalesforceStore(temp / "salesforce")
    seeder = FundedOrgSeeder(sf_store, accounts=args.customers, applications=args.applications,
                             random_seed=args.random_seed)
    with sf_store.transaction() as conn:
        account_ids, application_ids = seeder.seed(conn)
    sf_store.conn().execute("PRAGMA optimize")
    sf_store.close()

    ns_store = NetSuiteStore(temp / "netsuite")
    ns_records.seed_items(ns_store)
    ns_seeding.seed(ns_store, customers=args.customers, sales_orders=args.applications, payments=args.payments,
                    payment_days=args.payment_days, random_seed=args.random_seed,
                    customer_external_ids=account_ids, order_external_ids=application_ids,
                    reversals_share=args.reversals_share)
    with ns_store.read() as conn:
        customers = conn.execute("SELECT external_id, internal_id FROM entities WHERE type = 'customer'").fetchall()
        orders = conn.execute("SELECT external_id, internal_id FROM transactions WHERE type = 'salesOrder'").fetchall()
        kept = conn.execute("SELECT COUNT(*) FROM transactions WHERE type = 'customerPayment'").fetchone()[0]
        voided = conn.execute("SELECT COUNT(*) FROM transactions WHERE type = 'customerPayment' "
                              "AND json_extract(body, '$._voided') IS NOT NULL").fetchone()[0]
        deleted = conn.execute("SELECT COUNT(*) FROM deleted_records WHERE type = 'customerPayment'").fetchone()[0]
        seconds = conn.execute("SELECT last_modified_ms / 1000, COUNT(*) FROM transactions "
                               "WHERE type = 'customerPayment' GROUP BY 1 HAVING COUNT(*) > 1").fetchall()
        span = conn.execute("SELECT MIN(last_modified_ms), MAX(last_modified_ms) FROM transactions "
                            "WHERE type = 'customerPayment'").fetchone()
    ns_store.close()
    return {"customers": customers, "orders": orders, "seconds": time.monotonic() - started,
            "payments_kept": kept, "voided": voided, "deleted": deleted,
            "shared_seconds": len(seconds), "payments_sharing": sum(n for _, n in seconds),
            "most_in_one_second": max([n for _, n in seconds], default=1), "span_ms": span}


def links_create(seeded: dict) -> None:
    """The record links the pushes would have left: each Account's Customer and each Application's Sales Order."""
    from syncs.models import RecordLink

    links = [RecordLink(record_type="Account", salesforce_id=sf_id, netsuite_record_type="customer",
                        netsuite_internal_id=str(internal_id), netsuite_external_id=sf_id)
             for sf_id, internal_id in seeded["customers"]]
    links += [RecordLink(record_type="SalesOrder", salesforce_id=sf_id, netsuite_record_type="salesOrder",
                         netsuite_internal_id=str(internal_id), netsuite_external_id=sf_id)
              for sf_id, internal_id in seeded["orders"]]
    RecordLink.objects.bulk_create(links, batch_size=1000)


# --- what the run does, timed from outside ------------------------------------------------------------------------

class CallLog:
    """Start and end of each remote call the pull makes (NetSuite searches, Salesforce collection writes and
    queries, the roll-up), for the report; the calls themselves are unchanged."""

    def __init__(self):
        self.calls: list[tuple[str, float, float, int]] = []  # (what, start, end, records)
        self.lock = threading.Lock()

    def note(self, what: str, started: float, records: int) -> None:
        with self.lock:
            self.calls.append((what, started, time.monotonic(), records))

    def wrap(self, owner, name: str, what: str, count) -> None:
        original = getattr(owner, name)
        log = self

        def timed(*args, **kwargs):
            started = time.monotonic()
            result = original(*args, **kwargs)
            log.note(what, started, count(args, kwargs, result))
            return result

        setattr(owner, name, timed)

    def install(self) -> None:
        from syncs.jobs import remittances
        from syncs.clients.netsuite.soap import SoapNetSuiteClient as NetSuiteClient
        from syncs.clients.salesforce import SalesforceClient

        def page(args, kwargs, result):
            return len(result.records)

        self.wrap(NetSuiteClient, "search_transactions", "search", page)
        self.wrap(NetSuiteClient, "search_more", "searchMoreWithId", page)
        from syncs.clients.netsuite.rest import RestNetSuiteClient

        self.wrap(RestNetSuiteClient, "suiteql", "suiteql", lambda a, k, r: len(r.get("items") or []))
        self.wrap(SalesforceClient, "upsert_collection", "upsert collection", lambda a, k, r: len(a[3]))
        self.wrap(SalesforceClient, "update_collection", "update collection", lambda a, k, r: len(a[2]))
        self.wrap(SalesforceClient, "query_all", "query", lambda a, k, r: len(r))
        self.wrap(remittances, "rollup", "roll-up", lambda a, k, r: 0)

    def since(self, moment: float) -> list[tuple[str, float, float, int]]:
        return [(what, start - moment, end - moment, n) for what, start, end, n in self.calls if start >= moment]


calls = CallLog()


def rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@contextlib.contextmanager
def profiled(path: str):
    """cProfile every thread of the run (the reader and the sender threads) into one stats file, if asked."""
    if not path:
        yield
        return
    import cProfile

    profiles = []

    def start_in_thread(*_):
        profile = cProfile.Profile()
        profiles.append(profile)
        sys.setprofile(None)
        profile.enable()

    main = cProfile.Profile()
    profiles.append(main)
    threading.setprofile(start_in_thread)
    main.enable()
    try:
        yield
    finally:
        main.disable()
        threading.setprofile(None)
        for profile in profiles:
            profile.disable()
        import pstats

        stats = pstats.Stats(*profiles)
        stats.dump_stats(path)
        print(f"profile of the first run in {path}")


def pull_once(salesforce, netsuite, *, profile: str = "") -> dict:
    from django.db import connections
    from syncs.models import SyncAttempt
    from syncs.services import sync_run

    salesforce.control(reset_stats=True)
    netsuite.control(reset_stats=True)
    sandboxes_before = {name: process_cpu_seconds(box.process.pid) for name, box in
                        (("Salesforce", salesforce), ("NetSuite", netsuite))}
    machine_before, cpu_before, rss_before = machine_busy_seconds(), cpu_seconds(), rss_mb()
    started = time.monotonic()
    with profiled(profile):
        run = sync_run(job_name=JOB)
    wall = time.monotonic() - started
    cpu = cpu_seconds() - cpu_before
    run.refresh_from_db()
    figures = {
        "run": run, "wall": wall, "cpu": cpu, "rss_before": rss_before,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "machine_busy": machine_busy_seconds() - machine_before,
        "sandbox_cpu": {name: process_cpu_seconds(box.process.pid) - sandboxes_before[name] for name, box in
                        (("Salesforce", salesforce), ("NetSuite", netsuite))},
        "calls": calls.since(started), "ns": netsuite.stats(), "sf": salesforce.stats(),
        "failed": SyncAttempt.objects.filter(run=run, status__in=["failed", "dead"]).count(),
    }
    connections.close_all()
    return figures


# --- checks -------------------------------------------------------------------------------------------------------

def verify(temp: Path, salesforce, args) -> list[str]:
    """What a person would look at in Salesforce: every payment is there once, and a sample sits on the right
    application and account with the right amount; the sample's applications carry the right total."""
    problems = []
    sf = salesforce.client()
    count = sf.query("SELECT COUNT() FROM Remittance__c")["totalSize"]
    print(f"Remittance__c in Salesforce: {count} (payments in NetSuite: {args.expected_payments})")
    if count != args.expected_payments:
        problems.append(f"{count} remittances for {args.expected_payments} payments")
    netsuite_db = sqlite3.connect(f"file:{temp / 'netsuite' / NS_DB_NAME}?mode=ro", uri=True)
    order_ids = {row[0]: row[1] for row in netsuite_db.execute(
        "SELECT internal_id, external_id FROM transactions WHERE type = 'salesOrder'")}
    # A payment applies to an invoice; the application is the sales order the invoice was billed from.
    orders = {row[0]: order_ids[int(row[1])] for row in netsuite_db.execute(
        "SELECT internal_id, json_extract(body, '$.createdFrom.internalId') FROM transactions WHERE type = 'invoice'")}
    customers = {row[0]: row[1] for row in netsuite_db.execute(
        "SELECT internal_id, external_id FROM entities WHERE type = 'customer'")}
    payments = netsuite_db.execute("SELECT internal_id, parent_id, body FROM transactions "
                                   "WHERE type = 'customerPayment' ORDER BY internal_id").fetchall()
    sample = random.Random(args.random_seed).sample(payments, min(50, len(payments)))
    expected = {}
    for internal_id, customer_id, body in sample:
        body = json.loads(body)
        doc = int(body["applyList"]["apply"][0]["doc"])
        expected[str(internal_id)] = (orders[doc], customers[customer_id], float(body["payment"]), body["tranId"])
    found = {r["NetSuite_Payment_Id__c"]: r for r in sf.query_all(
        "SELECT NetSuite_Payment_Id__c, NetSuite_Payment_Number__c, Application__c, Account__c, Amount__c "
        "FROM Remittance__c WHERE NetSuite_Payment_Id__c IN ('" + "','".join(expected) + "')")["records"]}
    wrong = [payment_id for payment_id, (application, account, amount, number) in expected.items()
             if payment_id not in found or found[payment_id]["Application__c"] != application
             or found[payment_id]["Account__c"] != account or abs(found[payment_id]["Amount__c"] - amount) > 0.005
             or found[payment_id]["NetSuite_Payment_Number__c"] != number]
    print(f"sample of {len(expected)} remittances on the right application, account, amount and number: "
          f"{len(expected) - len(wrong)} of {len(expected)}")
    if wrong:
        problems.append(f"sample remittances wrong or missing: {wrong[:5]}")
    # The roll-up on the sample's applications: the total NetSuite says each order was paid.
    paid: dict[str, float] = {}
    for _, _, body in payments:
        line = json.loads(body)["applyList"]["apply"][0]
        application = orders[int(line["doc"])]
        paid[application] = paid.get(application, 0.0) + float(line["amount"])
    netsuite_db.close()
    sampled = sorted({application for application, *_ in expected.values()})
    applications = {a["Id"]: a for a in sf.query_all(
        "SELECT Id, Total_Remitted__c FROM Opportunity WHERE Id IN ('" + "','".join(sampled) + "')")["records"]}
    off = [app for app in sampled if applications.get(app, {}).get("Total_Remitted__c") is None
           or abs(applications[app]["Total_Remitted__c"] - paid[app]) > 0.01]
    print(f"roll-up Total_Remitted__c right on the sample's applications: {len(sampled) - len(off)} of {len(sampled)}")
    if off:
        problems.append(f"roll-up wrong on {off[:5]}")
    return problems


# --- the report ---------------------------------------------------------------------------------------------------

def report_run(label: str, figures: dict, args) -> dict:
    run = figures["run"]
    ns_requests = dict(sorted(figures["ns"].get("requests", {}).items()))
    sf_routes = {route: n for route, n in figures["sf"].get("by_route", {}).items()
                 if route not in ("control", "stats")}  # the bench's own calls to the sandbox
    searches = [c for c in figures["calls"] if c[0] in ("search", "searchMoreWithId", "suiteql")]
    upserts = [c for c in figures["calls"] if c[0] == "upsert collection"]
    rollup = [c for c in figures["calls"] if c[0] == "roll-up"]
    print(f"--- {label} ---")
    print(f"outcome                      {run.outcome}: {run.message}")
    print(f"wall time                    {figures['wall']:8.2f} s   (read {run.records_read}, written "
          f"{run.records_written}, failed {run.records_failed}, unchanged {run.records_skipped})")
    print(f"NetSuite requests            {sum(ns_requests.values()):8d}   {ns_requests}")
    print(f"Salesforce requests          {sum(sf_routes.values()):8d}   {sf_routes}")
    if searches:
        reading_done = max(end for _, _, end, _ in searches)
        mean = sum(end - start for _, start, end, _ in searches) / len(searches)
        exchanges = [end - start for what, start, end, _ in figures["calls"] if what == "NetSuite HTTP"]
        http = sum(exchanges) / len(exchanges) if exchanges else float("nan")
        split = (f": {http:.2f} s the HTTP exchange, {mean - http:.2f} s the hub's client building the request and "
                 "reading the answer") if exchanges else " (SuiteQL: pages and their applications)"
        print(f"NetSuite pages               {len(searches):8d}   mean {mean:.2f} s a page{split}; "
              f"reading done at {reading_done:.1f} s")
    if upserts:
        mean = sum(end - start for _, start, end, _ in upserts) / len(upserts)
        print(f"collection upserts           {len(upserts):8d}   mean {mean:.3f} s a call, "
              f"{sum(n for *_, n in upserts) / len(upserts):.0f} records a call; first at "
              f"{min(s for _, s, _, _ in upserts):.1f} s, last done at {max(e for _, _, e, _ in upserts):.1f} s")
    if rollup:
        _, start, end, _ = rollup[0]
        print(f"roll-up of applications      {end - start:8.2f} s   (from {start:.1f} s to {end:.1f} s)")
    return {"searches": searches, "upserts": upserts, "rollup": rollup}


def print_cpu_bound(wall: float, api_bound: float, cpu: float) -> None:
    """The run against the larger of its API bound and its CPU bound: a pull runs in one worker process, whose
    Python uses at most one core however many reader and writer threads it has, so its hub CPU is its CPU bound."""
    larger = max(api_bound, cpu)
    print(f"CPU bound (one process)      {cpu:8.2f} s   ratio to the larger of the two bounds {wall / larger:.2f} "
          f"({'CPU' if cpu > api_bound else 'API'} bound the larger)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=50000)
    parser.add_argument("--customers", type=int, default=2000, help="merchant Accounts / NetSuite Customers")
    parser.add_argument("--applications", type=int, default=2500, help="funded Applications / NetSuite Sales Orders")
    parser.add_argument("--payment-days", type=int, default=365, help="days of office hours the payments span")
    parser.add_argument("--reversals-share", type=float, default=0.0,
                        help="share of the payments undone later the same day (ACH returns and mistakes): half voided "
                             "directly (kept, amount 0), half deleted; e.g. 0.05")
    parser.add_argument("--page-size", type=int, default=1000, help="HUB_NETSUITE_PAGE_SIZE")
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument("--latency-per-record-ms", type=float, default=1)
    parser.add_argument("--salesforce-latency-ms", type=float, default=0)
    parser.add_argument("--concurrency-limit", type=int, default=5)
    parser.add_argument("--transport", choices=["soap", "rest"], default="soap",
                        help="rest: read over SOAP, then again over REST into a fresh hub database, and compare")
    parser.add_argument("--random-seed", type=int, default=7)
    parser.add_argument("--database-url", default="", help="an empty hub database (default: a fresh SQLite file)")
    parser.add_argument("--profile", default="", metavar="FILE",
                        help="cProfile the first run's threads into FILE (pstats; slows the run)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (data, logs)")
    args = parser.parse_args()
    if not 0 < args.customers <= args.applications:
        parser.error("need at least one customer and no more customers than applications")

    temp = Path(tempfile.mkdtemp(prefix="hub-bench-pull-"))
    try:
        return bench(temp, args)
    finally:
        if args.keep:
            print(f"kept {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)


def bench(temp: Path, args) -> int:
    with multiprocessing.get_context("fork").Pool(1) as pool:
        seeded = pool.apply(seed_both, (temp, args))
    # Deleted payments are gone from NetSuite: the pull reads (and writes) the rest, voided ones included.
    args.expected_payments = seeded["payments_kept"]
    if args.reversals_share:
        print(f"reversals: {args.reversals_share:.1%} of the payments asked for undone: {seeded['voided']} voided "
              f"(kept, amount 0), {seeded['deleted']} deleted; {seeded['payments_kept']} payments to pull")
    first, last = (dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).date() for ms in seeded["span_ms"])
    print(f"seeded both sandboxes in {seeded['seconds']:.1f} s: {args.customers} accounts/customers, "
          f"{args.applications} funded applications/sales orders, {args.payments} payments from {first} to {last} "
          f"({seeded['payments_sharing']} of them share a second with another, at most {seeded['most_in_one_second']} "
          f"in one second)")

    with run_salesforce_sandbox(temp / "salesforce", latency_ms=args.salesforce_latency_ms) as salesforce, \
            run_netsuite_sandbox(temp / "netsuite", wsdl=default_wsdl(), latency_ms=0, latency_per_record_ms=0,
                                 concurrency_limit=args.concurrency_limit) as netsuite:
        os.environ["HUB_NETSUITE_PAGE_SIZE"] = str(args.page_size)
        hub_environment(temp, salesforce, netsuite, args)
        from syncs.clients.netsuite.soap import zeep_client
        from syncs.clients.salesforce import salesforce_client

        attempt_log = (temp / "attempts.log").open("a")
        for handler in logging.getLogger("hub.attempts").handlers:
            # One JSON line per attempt outcome, as a worker writes it, but into a file rather than over the report.
            handler.setStream(attempt_log)
        links_create(seeded)
        calls.install()
        # parse the WSDL once before the clock starts, as a warm worker has; time its HTTP exchanges on their own
        calls.wrap(zeep_client().transport, "post_xml", "NetSuite HTTP", lambda a, k, r: 0)
        salesforce_client().sf  # and log in: a worker's client stays logged in between runs
        netsuite.control(latency_ms=args.latency_ms, latency_per_record_ms=args.latency_per_record_ms)

        point_hub_at(netsuite, "soap")
        first_run = pull_once(salesforce, netsuite, profile=args.profile)
        second_run = pull_once(salesforce, netsuite)
        problems = verify(temp, salesforce, args)
        rest_runs = None
        if args.transport == "rest":
            hub_database_empty()
            links_create(seeded)
            point_hub_at(netsuite, "rest")
            from syncs.clients.netsuite.rest import RestNetSuiteClient
            from syncs.clients.netsuite.rest_auth import access_tokens

            client = RestNetSuiteClient()   # logged in before the clock starts, as a warm worker is
            access_tokens.token(client.credentials, client.session, client.timeout)
            rest_runs = (pull_once(salesforce, netsuite), pull_once(salesforce, netsuite))
            problems += [f"REST: {problem}" for problem in verify(temp, salesforce, args)]
        del seeded

    latency_s, per_record_s = args.latency_ms / 1000, args.latency_per_record_ms / 1000
    print()
    print(f"payments: {args.payments}, NetSuite page size {args.page_size}; NetSuite sandbox {args.latency_ms:g} ms "
          f"per request + {args.latency_per_record_ms:g} ms per record, concurrency limit {args.concurrency_limit}; "
          f"Salesforce sandbox latency {args.salesforce_latency_ms:g} ms")
    cpus = len(os.sched_getaffinity(0))
    print(f"machine: {os.cpu_count()} CPUs ({cpus} usable), {cpu_model()}, Python {platform.python_version()}, hub "
          f"database {'SQLite (fresh file)' if not args.database_url else args.database_url.split(':', 1)[0]}")
    print()
    timeline = report_run("first pull (everything new)", first_run, args)
    run = first_run["run"]
    written = run.records_written
    from syncs.jobs.pulls import pull_pages_at_once

    READ_AHEAD = pull_pages_at_once()  # the pull's share of the concurrency budget, in pages in flight

    pages = math.ceil(args.expected_payments / args.page_size)
    page_s = latency_s + args.page_size * per_record_s
    netsuite_bound = page_s + math.ceil((pages - 1) / READ_AHEAD) * page_s
    calls_needed = math.ceil(args.expected_payments / COLLECTION)
    upserts = timeline["upserts"]
    mean_call = sum(end - start for _, start, end, _ in upserts) / len(upserts) if upserts else float("nan")
    salesforce_bound = calls_needed * mean_call
    bound = max(netsuite_bound, salesforce_bound)
    wall = first_run["wall"]
    rollup_s = sum(end - start for _, start, end, _ in timeline["rollup"])
    print(f"records per second           {written / wall:8.0f}   ({written} written in {wall:.2f} s)")
    print(f"lower bound (overlapped)     {bound:8.2f} s   = max(NetSuite {pages} pages, {READ_AHEAD} at a time after the "
          f"first, × ({latency_s:g} s + {args.page_size} × {per_record_s * 1000:g} ms) = {netsuite_bound:.2f} s, "
          f"Salesforce {calls_needed} calls × {mean_call:.3f} s = {salesforce_bound:.2f} s)")
    print(f"ratio to the bound           {wall / bound:8.2f}   (without the roll-up, {rollup_s:.2f} s: "
          f"{(wall - rollup_s) / bound:.2f})")
    serial = pages * page_s + salesforce_bound
    print(f"serial sum (reference)       {serial:8.2f} s   ratio {wall / serial:.2f}   (every page and call one after another)")
    cpu = first_run["cpu"]
    per_record_ms = cpu / written * 1000 if written else float("nan")
    print(f"hub CPU                      {cpu:8.2f} s   ({per_record_ms:.2f} ms per record written; "
          f"{100 * cpu / wall:.0f}% of one CPU)")
    print_cpu_bound(wall, bound, cpu)
    print("sandbox CPU                  " + ", ".join(
        f"{name} {seconds:.2f} s" for name, seconds in first_run["sandbox_cpu"].items()))
    busy = first_run["machine_busy"]
    others = busy - cpu - sum(first_run["sandbox_cpu"].values())
    print(f"machine CPU busy             {busy:8.2f} s of {cpus} × {wall:.2f} s ({100 * busy / (cpus * wall):.0f}%); "
          f"other processes on the machine {max(0.0, others):.2f} s")
    print(f"hub peak memory (maxrss)     {first_run['maxrss_mb']:8.0f} MB   ({first_run['rss_before']:.0f} MB before "
          f"the run: Django, the parsed WSDL, the links)")
    print()
    report_run("second pull (nothing new)", second_run, args)
    print()
    again = second_run["run"]
    if run.outcome != "succeeded" or first_run["failed"]:
        problems.append(f"first run {run.outcome} with {first_run['failed']} failed attempts: {run.message}")
    if written != args.expected_payments:
        problems.append(f"first run wrote {written} of {args.expected_payments}")
    if again.outcome != "succeeded" or again.records_written != 0:
        problems.append(f"second run {again.outcome}, wrote {again.records_written}: {again.message}")
    collection_calls = sum(n for route, n in second_run["sf"].get("by_route", {}).items() if "composite" in route)
    if collection_calls:
        problems.append(f"second run made {collection_calls} collection calls")
    if rest_runs is not None:
        rest_first, rest_second = rest_runs
        rest_timeline = report_run("REST: first pull (everything new to this hub)", rest_first, args)
        rest_wall = rest_first["wall"]
        from syncs.clients.netsuite.rest_reads import SINGLE_CURSOR_PAGES

        ranges = min(READ_AHEAD, pages - 1)
        if pages <= SINGLE_CURSOR_PAGES or ranges <= 1:
            ranges, rest_netsuite_bound = 1, (pages + 1) * page_s
            rest_reading = f"({pages} keyset pages + 1) × {page_s:.2f} s"
        else:
            rounds = math.ceil((pages - 1) / ranges)
            rest_netsuite_bound = page_s + max(page_s, latency_s) + rounds * 2 * page_s
            rest_reading = (f"first page {page_s:.2f} s + its applications beside the bounds query "
                            f"{max(page_s, latency_s):.2f} s + {pages - 1} pages in {ranges} ranges side by side, "
                            f"⌈{pages - 1}/{ranges}⌉ × (page + its applications) = {rounds} × {2 * page_s:.2f} s")
        rest_upserts = rest_timeline["upserts"]
        rest_mean_call = (sum(end - start for _, start, end, _ in rest_upserts) / len(rest_upserts)
                          if rest_upserts else float("nan"))
        rest_bound = max(rest_netsuite_bound, calls_needed * rest_mean_call)
        rest_rollup = sum(end - start for _, start, end, _ in rest_timeline["rollup"])
        print(f"lower bound (overlapped)     {rest_bound:8.2f} s   = max(NetSuite {rest_reading} = "
              f"{rest_netsuite_bound:.2f} s, Salesforce {calls_needed} calls × {rest_mean_call:.3f} s = "
              f"{calls_needed * rest_mean_call:.2f} s)")
        print(f"NetSuite requests at once    {rest_first['ns'].get('max_concurrency', 0):8d}   (the most in flight, the "
              f"planner's invoice lookups too; the pull's share {READ_AHEAD}, {ranges} range{'s' if ranges > 1 else ''} "
              "of keyset pages)")
        print(f"ratio to the bound           {rest_wall / rest_bound:8.2f}   (without the roll-up, {rest_rollup:.2f} s: "
              f"{(rest_wall - rest_rollup) / rest_bound:.2f})")
        print(f"hub CPU                      {rest_first['cpu']:8.2f} s   "
              f"({rest_first['cpu'] / max(rest_first['run'].records_written, 1) * 1000:.2f} ms per record written)")
        print_cpu_bound(rest_wall, rest_bound, rest_first["cpu"])
        print()
        report_run("REST: second pull (nothing new)", rest_second, args)
        rest_requests = sum(n for op, n in rest_first["ns"].get("requests", {}).items() if op != "token")
        soap_requests = sum(first_run["ns"].get("requests", {}).values())
        print()
        print("--- REST against SOAP ---")
        print(f"wall time                    REST {rest_wall:.2f} s, SOAP {wall:.2f} s ({rest_wall / wall:.2f}×)")
        print(f"ratio to its bound           REST {rest_wall / rest_bound:.2f}, SOAP {wall / bound:.2f}   (aim ≤ 1.3)")
        print(f"NetSuite requests per record REST {rest_requests / max(rest_first['run'].records_read, 1):.4f}, "
              f"SOAP {soap_requests / max(run.records_read, 1):.4f}")
        if rest_first["run"].outcome != "succeeded" or rest_first["failed"]:
            problems.append(f"REST first run {rest_first['run'].outcome}: {rest_first['run'].message}")
        if rest_first["run"].records_written != args.expected_payments:
            problems.append(f"REST first run wrote {rest_first['run'].records_written} of {args.expected_payments}")
        if rest_second["run"].outcome != "succeeded" or rest_second["run"].records_written != 0:
            problems.append(f"REST second run {rest_second['run'].outcome}, wrote {rest_second['run'].records_written}")
    print("PASS" if not problems else "FAIL: " + "; ".join(problems))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
