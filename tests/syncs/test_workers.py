"""Reliability with real Celery workers as processes: the shared NetSuite budget and a worker killed mid-batch."""
import os
import signal
import time

import pytest

from syncs.models import AttemptStatus, RecordLink, SyncAttempt, SyncJob, SyncRun
from tests.hub_workers import PUSHES, manage, start_worker, wait_until_synced

pytestmark = pytest.mark.slow


@pytest.fixture
def small_batches(seeded_hub):
    SyncJob.objects.update(batch_size=5)  # many batches from a small data set, so the workers overlap


def test_it_never_exceeds_netsuites_concurrency_with_four_workers(worker_env, small_batches, hub_processes, salesforce_sandbox, netsuite_sandbox):
    netsuite_sandbox.control(latency_ms=100, latency_per_record_ms=2, concurrency_limit=5, reset_stats=True)
    for number in range(1, 5):
        start_worker(hub_processes, f"worker{number}")
    manage(worker_env, "sync", "run", "--enqueue", *PUSHES)

    sf = salesforce_sandbox.client()
    contacts = {c["Id"] for c in sf.query_all("SELECT Id FROM Contact")["records"]}
    wait_until_synced(worker_env, contacts, "Contact", hub_processes)
    funded = {a["Id"] for a in sf.query_all("SELECT Id FROM Opportunity WHERE StageName = 'Funded'")["records"]}
    wait_until_synced(worker_env, funded, "SalesOrder", hub_processes)

    stats = netsuite_sandbox.stats()
    assert stats["max_concurrency"] <= 5
    assert stats["max_concurrency"] >= 3, "the workers should have overlapped their requests"
    assert not stats["faults"].get("WS_REQUEST_BLOCKED"), stats["faults"]
    assert stats["records"]["contact"] == len(contacts)
    assert stats["records"]["salesOrder"] == len(funded)


def test_it_syncs_every_record_once_after_a_worker_is_killed_mid_batch(worker_env, small_batches, hub_processes, salesforce_sandbox, netsuite_sandbox):
    netsuite_sandbox.control(latency_ms=400, latency_per_record_ms=0, concurrency_limit=5, reset_stats=True)
    worker = start_worker(hub_processes, "worker1")
    manage(worker_env, "sync", "run", "--enqueue", "push_accounts")

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if (SyncAttempt.objects.filter(status=AttemptStatus.SUCCEEDED).exists()
                and SyncAttempt.objects.filter(status=AttemptStatus.RUNNING).exists()):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the worker never got mid-batch\n" + hub_processes.log("worker1"))
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    assert SyncAttempt.objects.filter(status=AttemptStatus.RUNNING).exists(), "the kill should leave tries running"

    netsuite_sandbox.control(latency_ms=50)
    start_worker(hub_processes, "worker2")
    sf = salesforce_sandbox.client()
    accounts = {a["Id"] for a in sf.query_all("SELECT Id FROM Account")["records"]}
    wait_until_synced(worker_env, accounts, "Account", hub_processes)

    counts = netsuite_sandbox.stats()["records"]
    assert counts.get("customer", 0) + counts.get("vendor", 0) == len(accounts)
    succeeded = SyncAttempt.objects.filter(job__name="push_accounts", status=AttemptStatus.SUCCEEDED)
    story = "\n".join(str(row) for row in SyncAttempt.objects.filter(job__name="push_accounts").order_by("salesforce_id", "id").values_list(
        "salesforce_id", "id", "run_id", "attempt_number", "status", "remote_code", "superseded", "verify_before_write", "operation"))
    assert sorted(succeeded.values_list("salesforce_id", flat=True)) == sorted(accounts), story
    assert SyncAttempt.objects.filter(remote_code="WORKER_LOST").exists()
