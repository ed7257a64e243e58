"""Benchmark: time to serve one 2,000-row page of a filtered, ordered SOQL query from the Salesforce sandbox.

    .venv/bin/python bench/salesforce_query.py [--applications 100000] [--repeat 20]

Seeds a fresh org into a temporary data dir (100,000 applications by default, plus their accounts, contacts,
fee lines and remittances), starts the sandbox as its own process and times the query over HTTPS with
keep-alive, as the hub's client would see it. Not a test: it prints numbers, it does not assert them.
"""
import argparse
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sandboxes.salesforce.process import run_salesforce_sandbox, seed  # noqa: E402
from machine import cpu_model  # noqa: E402  (bench/ is on sys.path when a bench runs)

QUERY = ("SELECT Id, Name, StageName, Amount, CloseDate, Factor_Rate__c, Broker__c, Account.Name "
         "FROM Opportunity WHERE StageName IN ('Funded', 'Contract Signed', 'Approved') AND Amount > 50000 "
         "ORDER BY SystemModstamp DESC, Id")


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(function, repeat):
    durations = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        durations.append(time.perf_counter() - started)
    return durations, result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    print(f"machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}; Python {platform.python_version()}; "
          f"SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory(prefix="sf-bench-") as data_dir:
        started = time.perf_counter()
        counts = seed(data_dir, {"accounts": args.accounts, "contacts_per_account": 1,
                                 "applications": args.applications, "remittances_per_funded": 1, "random_seed": 1})
        print(f"seeded {sum(counts.values()):,} records in {time.perf_counter() - started:.1f}s: {counts}")
        with run_salesforce_sandbox(data_dir) as sandbox:
            sf = sandbox.client()
            http = sandbox.session()
            http.headers["Authorization"] = "Bearer " + sf.session_id
            base = sandbox.url + "/services/data/v59.0"

            def first_page():
                response = http.get(base + "/query", params={"q": QUERY})
                response.raise_for_status()
                return response.json()

            first_page()    # warm the page cache, as a long-running org would be
            first_durations, page = timed(first_page, args.repeat)
            next_url = page["nextRecordsUrl"]

            def next_page():
                response = http.get(sandbox.url + next_url)
                response.raise_for_status()
                return response.json()

            next_durations, more = timed(next_page, args.repeat)
            print(f"query: {QUERY}")
            print(f"matching rows: {page['totalSize']:,}; page size: {len(page['records'])} / "
                  f"{len(more['records'])}")
            for label, durations in (("first page (runs the query)", first_durations),
                                     ("next page (query locator)", next_durations)):
                print(f"{label}: median {statistics.median(durations) * 1000:.0f} ms, "
                      f"p95 {percentile(durations, 0.95) * 1000:.0f} ms over {len(durations)} runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
