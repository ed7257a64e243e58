"""Benchmark of near-real-time pushes (issue 18; not a test): how long from a save in Salesforce to the write in
NetSuite when Salesforce tells the hub of each change by outbound message, with no beat at all.

    .venv/bin/python bench/outbound.py [--changes 200 --rate 10 --workers 2 --netsuite-latency-ms 50]

Both sandboxes, the hub's web process (gunicorn, the hook) and Celery workers run as their own processes on a fresh
SQLite database and the embedded broker in a temporary directory. The bench makes `--changes` changes in the
Salesforce sandbox at `--rate` a second, in turn: a new merchant account, a contact on an account made earlier, a
rename of an account made earlier. A change is saved at the record's LastModifiedDate (the org's commit stamp, in
milliseconds) and written when the hub's first try of it that began after the save succeeded (finished_at of the
attempt, which is recorded once NetSuite has answered). Both clocks are this machine's.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from demo.outbound import hook_url, outbound_messages  # noqa: E402
from sandboxes.netsuite.process import run_netsuite_sandbox  # noqa: E402
from sandboxes.processes import free_port  # noqa: E402
from sandboxes.salesforce.process import run_salesforce_sandbox  # noqa: E402
from machine import cpu_model  # noqa: E402  (bench/ is on sys.path when a bench runs)

TOKEN = "bench-outbound-token"


def hub_environment(tmp: Path, salesforce, netsuite, transport: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="integration_hub.settings", HUB_DEMO="1", HUB_DEMO_ENV_FILE="",
        DATABASE_URL=f"sqlite:///{tmp / 'hub.sqlite3'}", HUB_VAR_DIR=str(tmp / "var"), CELERY_QUEUE="bench-outbound",
        HUB_OUTBOUND_TOKEN=TOKEN, PYTHONUNBUFFERED="1",
        SALESFORCE_LOGIN_URL=salesforce.url, SALESFORCE_CA_BUNDLE=salesforce.ca_cert,
        SALESFORCE_CONSUMER_KEY=salesforce.consumer_key, SALESFORCE_USERNAME=salesforce.username,
        SALESFORCE_PRIVATE_KEY_FILE=salesforce.private_key_file, NETSUITE_TRANSPORT=transport,
        NETSUITE_ENDPOINT=netsuite.endpoint, NETSUITE_WSDL=netsuite.wsdl or "", NETSUITE_ACCOUNT=netsuite.account,
        NETSUITE_CONSUMER_KEY=netsuite.consumer_key, NETSUITE_CONSUMER_SECRET=netsuite.consumer_secret,
        NETSUITE_TOKEN_ID=netsuite.token_id, NETSUITE_TOKEN_SECRET=netsuite.token_secret,
        NETSUITE_REST_URL=netsuite.url, NETSUITE_CLIENT_ID=netsuite.client_id,
        NETSUITE_CERTIFICATE_ID=netsuite.certificate_id, NETSUITE_PRIVATE_KEY_FILE=str(netsuite.private_key_path),
        HUB_PARENT_WAIT_SECONDS="1",
    )
    return env


def start(env, log_dir: Path, name: str, *args) -> subprocess.Popen:
    log = open(log_dir / f"{name}.log", "wb")
    return subprocess.Popen([sys.executable, *args], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stamp(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="changes a second")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--netsuite-latency-ms", type=int, default=50)
    parser.add_argument("--transport", choices=["soap", "rest"], default="soap")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-outbound-") as tmp_name:
        tmp = Path(tmp_name)
        log_dir = tmp / "log"
        log_dir.mkdir()
        processes = []
        with run_salesforce_sandbox(tmp / "salesforce", seed_args={"accounts": 5, "random_seed": 7}) as salesforce, \
                run_netsuite_sandbox(tmp / "netsuite", latency_ms=args.netsuite_latency_ms, latency_per_record_ms=1) as netsuite:
            env = hub_environment(tmp, salesforce, netsuite, args.transport)
            subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=PROJECT_ROOT, env=env,
                           check=True)
            port = free_port()
            try:
                processes.append(start(env, log_dir, "web", "-m", "gunicorn", "integration_hub.wsgi", "--bind",
                                       f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"))
                for number in range(1, args.workers + 1):
                    processes.append(start(env, log_dir, f"worker{number}", "-m", "celery", "-A", "integration_hub",
                                           "worker", "--concurrency", "1", "--hostname", f"bench{number}@%h",
                                           "--without-heartbeat", "--without-gossip", "--without-mingle"))
                base = f"http://127.0.0.1:{port}"
                for _ in range(150):
                    try:
                        requests.get(base + "/healthz", timeout=1)
                        break
                    except requests.RequestException:
                        time.sleep(0.2)
                time.sleep(3)   # the workers' start
                salesforce.control(outbound_messages=outbound_messages(hook_url(base, TOKEN)),
                                   outbound_retry_base_seconds=1)
                changes = make_changes(salesforce.client(), args.changes, args.rate)
                latencies, missing = wait_for_writes(tmp / "hub.sqlite3", changes, args.timeout)
            finally:
                for process in processes:
                    process.terminate()
                for process in processes:
                    try:
                        process.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        process.kill()
            outbound = salesforce.stats()["outbound"]
    report(args, latencies, missing, outbound)
    return 0 if not missing else 1


def make_changes(sf, count: int, rate: float) -> list[tuple[str, str, dt.datetime]]:
    """(kind, Salesforce id, saved at) for each change, made at `rate` a second."""
    changes, accounts = [], []
    started = time.monotonic()
    for number in range(count):
        kind = ("account", "contact", "rename")[number % 3] if accounts else "account"
        if kind == "account":
            record_id = sf.Account.create({"Name": f"Bench Merchant {number}", "Type": "Merchant"})["id"]
            accounts.append(record_id)
            table = "Account"
        elif kind == "contact":
            record_id = sf.Contact.create({"LastName": f"Bench {number}", "AccountId": accounts[-1]})["id"]
            table = "Contact"
        else:
            record_id = accounts[number % len(accounts)]
            sf.Account.update(record_id, {"Name": f"Bench Merchant {number} (renamed)"})
            table = "Account"
        saved = sf.query(f"SELECT LastModifiedDate FROM {table} WHERE Id = '{record_id}'")["records"][0]["LastModifiedDate"]
        changes.append((kind, record_id, stamp(saved)))
        wait = started + (number + 1) / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
    return changes


def wait_for_writes(database: Path, changes, timeout: float):
    deadline = time.monotonic() + timeout
    latencies = {}
    while time.monotonic() < deadline and len(latencies) < len(changes):
        conn = sqlite3.connect(database, timeout=30)
        rows = conn.execute("SELECT salesforce_id, started_at, finished_at FROM syncs_syncattempt "
                            "WHERE status = 'succeeded' AND started_at IS NOT NULL").fetchall()
        conn.close()
        tries = {}
        for salesforce_id, started, finished in rows:
            tries.setdefault(salesforce_id, []).append((_aware(started), _aware(finished)))
        for index, (kind, record_id, saved) in enumerate(changes):
            if index in latencies:
                continue
            after = [finished for started, finished in tries.get(record_id, []) if started >= saved]
            if after:
                latencies[index] = (kind, (min(after) - saved).total_seconds())
        time.sleep(0.5)
    missing = [changes[i] for i in range(len(changes)) if i not in latencies]
    return list(latencies.values()), missing


def _aware(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def report(args, latencies, missing, outbound):
    seconds = [s for _, s in latencies]
    print(f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu_model()}), "
          f"Python {platform.python_version()}")
    print(f"changes: {args.changes} at {args.rate:g}/s, {args.workers} workers, NetSuite {args.transport.upper()} at "
          f"{args.netsuite_latency_ms} ms a request; outbound messages sent {outbound['messages_sent']}, "
          f"failed {outbound['deliveries_failed']}")
    if seconds:
        print(f"save → NetSuite write: p50 {statistics.median(seconds):.2f} s, p95 {percentile(seconds, 0.95):.2f} s, "
              f"max {max(seconds):.2f} s over {len(seconds)} changes")
        for kind in ("account", "contact", "rename"):
            own = [s for k, s in latencies if k == kind]
            if own:
                print(f"  {kind:8} {len(own):4}: p50 {statistics.median(own):.2f} s, p95 {percentile(own, 0.95):.2f} s")
    if missing:
        print(f"NOT WRITTEN within the timeout: {len(missing)} changes, e.g. {missing[:3]}")


if __name__ == "__main__":
    raise SystemExit(main())
