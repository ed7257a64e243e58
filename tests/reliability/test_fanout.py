"""One run's sending spread over four workers (syncs/sending.py), and one of them killed while it sends: every record
lands in NetSuite once, and the tries the dead worker held are settled without writing twice.

    pytest tests/reliability/test_fanout.py -s
"""
import os
import re
import signal

import pytest
from django.db.models import Count

from syncs.models import AttemptStatus, SyncAttempt, SyncJob, SyncRun

pytestmark = [pytest.mark.slow, pytest.mark.reliability]


def helper_in_flight(scenario):
    """A worker that is helping a run send (its log shows a send_run_attempts task received) while tries are
    running: killing it now kills a helper mid-batch."""
    if not SyncAttempt.objects.filter(status=AttemptStatus.RUNNING).exists():
        return None
    for number, worker in enumerate(scenario.workers, start=1):
        log = scenario.hub_processes.log(f"worker{number}")
        received = len(re.findall(r"Task syncs\.tasks\.send_run_attempts\[[^\]]+\] received", log))
        done = len(re.findall(r"Task syncs\.tasks\.send_run_attempts\[[^\]]+\] succeeded", log))
        if worker.poll() is None and received > done and '"event": "attempt"' in log.split("send_run_attempts")[-1]:
            return worker
    return None


def test_it_lands_every_record_once_when_one_of_four_workers_dies_mid_fan_out(scenario):
    scenario.begin(workers=4, netsuite={"latency_ms": 1500}, env={"HUB_SEND_WORKERS": "4"})
    # Batches of two and slow answers: twenty batches in rounds of five, long enough for the helpers to join in.
    SyncJob.objects.update(batch_size=2)
    scenario.fault()
    scenario.enqueue(["push_accounts"])
    scenario.wait_until(lambda: helper_in_flight(scenario), "a helper worker with a batch in flight", timeout=90)
    victim = helper_in_flight(scenario) or scenario.workers[-1]
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    held = SyncAttempt.objects.filter(status=AttemptStatus.RUNNING).count()
    scenario.clear(netsuite={"latency_ms": 30})
    scenario.settle()
    scenario.check()

    # The first run of push_accounts was sent by several workers: its tries' outcome lines are in more than one log.
    first = SyncRun.objects.filter(job__name="push_accounts").order_by("id").first()
    senders = [number for number in range(1, 5)
               if f'"run_id": {first.pk},' in scenario.hub_processes.log(f"worker{number}")]
    assert len(senders) >= 2, f"one run's tries were sent by workers {senders} only"
    # The dead worker's tries were taken back, and each record went through once: a reclaimed try looked the record
    # up (and found it written by the lost batch, or not there) before writing.
    reclaimed = SyncAttempt.objects.filter(remote_code="WORKER_LOST")
    assert held and reclaimed.exists(), (held, reclaimed.count())
    twice = (SyncAttempt.objects.filter(status=AttemptStatus.SUCCEEDED).values("job_id", "salesforce_id")
             .annotate(n=Count("id")).filter(n__gt=1))
    assert not twice.exists(), list(twice[:5])
    successors = SyncAttempt.objects.filter(attempt_number__gt=1, salesforce_id__in=reclaimed.values("salesforce_id"),
                                            status=AttemptStatus.SUCCEEDED)
    assert successors.exists() and set(successors.values_list("operation", flat=True)) <= {"lookup", "lookup+upsert"}
