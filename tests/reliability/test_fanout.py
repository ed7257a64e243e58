"""One run's sending spread over four workers (syncs/sending.py), and one of them killed while it sends: every record
lands in NetSuite once, and the tries the dead worker held are settled without writing twice. With answers slower
than the lease, the live workers keep their tries (they renew their leases) and only the dead one's come back,
about a lease after it died.

    pytest tests/reliability/test_fanout.py -s
"""
import os
import re
import signal
import time

import pytest
from django.db.models import Count, Max
from django.utils import timezone

from syncs.models import AttemptStatus, SyncAttempt, SyncJob, SyncRun
from syncs.sending import sender_threads

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



def test_only_the_dead_workers_tries_come_back_about_a_lease_after_it_died(scenario):
    """Every answer takes a lease and a half. A worker is killed once every try of the run is claimed: a live
    worker's batch outlasts its lease and keeps it (renewed every third of it), so the run waits for the live
    workers' batches, then for the dead one's leases to run out (about a lease, not a lease as long as a batch may
    take), and the next run takes back the dead worker's tries only."""
    lease, answer_s, batch = 3, 4.5, 2
    scenario.begin(workers=4, netsuite={"latency_ms": answer_s * 1000, "latency_per_record_ms": 0},
                   env={"HUB_SEND_WORKERS": "4", "HUB_ATTEMPT_LEASE_SECONDS": str(lease), "NETSUITE_TIMEOUT": "20"})
    SyncJob.objects.update(batch_size=batch)
    scenario.fault()
    scenario.enqueue(["push_accounts"])
    tries = SyncAttempt.objects.filter(job__name="push_accounts")

    def all_claimed_and_a_helper_in_flight():
        return tries.exists() and not tries.filter(status=AttemptStatus.PENDING).exists() and helper_in_flight(scenario)

    scenario.wait_until(all_claimed_and_a_helper_in_flight, "every try claimed and a helper with a batch in flight",
                        timeout=90)
    victim = helper_in_flight(scenario) or scenario.workers[-1]
    os.killpg(victim.pid, signal.SIGKILL)
    killed_at = timezone.now()
    victim.wait()
    # The answers stay slow until the dead worker's tries are taken back (beat sweeping every second meanwhile): the
    # live workers' batches in flight all that time outlast their leases.
    reclaimed = tries.filter(remote_code="WORKER_LOST")
    deadline = time.monotonic() + 60
    while not reclaimed.exists() and time.monotonic() < deadline:
        scenario.beat.send("sweep")
        time.sleep(1)
    scenario.clear(netsuite={"latency_ms": 30})
    scenario.settle()
    scenario.check()

    # At most what one worker can hold (its sender threads' batches): a live worker's batch taken from it because
    # it outlasted its lease would be counted here too, and its record would go through twice in the hub.
    held_by_one = sender_threads(limit=5, workers=4) * batch
    assert 0 < reclaimed.count() <= held_by_one, (killed_at, list(reclaimed.values_list(
        "salesforce_id", "started_at", "lease_expires_at", "finished_at")))
    outlasting = tries.filter(status=AttemptStatus.SUCCEEDED, remote_code="", duration_ms__gt=lease * 1000)
    assert outlasting.count() >= batch, "no live batch outlasted its lease: the case shows nothing"
    twice = tries.filter(status=AttemptStatus.SUCCEEDED).values("salesforce_id").annotate(n=Count("id")).filter(n__gt=1)
    assert not twice.exists(), list(twice[:5])
    # The run waited for the dead worker's tries no longer than their lease once its other tries were through, and
    # their records landed soon after (a sweep, the next run, a lookup and a write).
    first = SyncRun.objects.filter(job__name="push_accounts").order_by("id").first()
    others_done = (tries.filter(run=first, finished_at__lte=first.finished_at).exclude(remote_code="WORKER_LOST")
                   .aggregate(last=Max("finished_at"))["last"])
    stalled = (first.finished_at - others_done).total_seconds()
    landed = tries.filter(attempt_number__gt=1, status=AttemptStatus.SUCCEEDED,
                          salesforce_id__in=reclaimed.values("salesforce_id")).aggregate(last=Max("finished_at"))["last"]
    after_run = (landed - first.finished_at).total_seconds()
    scenario.notes.append(f"{reclaimed.count()} tries of the dead worker; the run ended "
                          f"{(first.finished_at - killed_at).total_seconds():.1f}s after the kill, having waited "
                          f"{stalled:.1f}s for them after its other tries, and they landed {after_run:.1f}s after it "
                          f"ended (lease {lease}s, answers {answer_s}s until they were taken back)")
    assert stalled <= lease + 1.5, scenario.notes[-1]
    assert after_run <= lease + answer_s + 3, scenario.notes[-1]
