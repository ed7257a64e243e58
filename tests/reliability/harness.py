"""One case of the fault matrix: fresh sandboxes and hub, real workers, a fault turned on and off, and the hub left to
settle as beat would let it, with what it leaves behind counted in both systems.

    scenario.begin(workers=2)                       # workers and a beat stand-in on fresh stores
    scenario.fault(netsuite={"http_503_rate": 0.2}) # the fault goes on
    scenario.enqueue()                              # the push runs beat would start
    scenario.act(10)                                # the fault acts while beat sweeps every second
    scenario.clear()                                # the fault clears; the settle clock starts
    scenario.settle()                               # runs and sweeps until nothing is left, or a deadline
    scenario.check()                                # 0 lost, 0 duplicated, 0 waiting for a person, and
                                                    # no run finished during the fault said succeeded too early

Time is compressed about sixty-fold against production: retries back off 0.5–2 s (30 s–1 h there), the sweeper runs
every second (every minute there), so a fault of ten seconds here stands for one of some ten minutes there.
"""
from __future__ import annotations

import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection
from django.db.models import Count, Max, Q
from django.conf import settings
from django.utils import timezone

from mappings.models import ValueMapping
from syncs.models import NEEDS_PERSON_STATUSES, AttemptStatus, RecordLink, RunOutcome, SyncAttempt, SyncJob, SyncRun
from tests.conftest import PROJECT_ROOT
from tests.hub_workers import PUSHES, start_worker

from .census import Census, NetSuiteReader, take_census

PULLS = ["pull_sales_orders", "pull_purchase_orders"]
BATCH_SIZE = 5
# The NetSuite sandbox between cases: no injected fault, Standard-tier concurrency, a little latency.
NETSUITE_BASELINE = {"concurrency_limit": 5, "latency_ms": 30, "latency_per_record_ms": 3, "slow_ms": 60000,
                     "fault_operations": "", "record_changed_match": "", "fault_seed": 1}
# The workers' settings: fast retries and short leases, renewed by their holders every third of a lease as in
# production (60 s, every 20 s). The breaker settings are for the NetSuite circuit breaker (unknown settings are
# harmless).
WORKER_ENV = {
    "HUB_RETRY_BASE_SECONDS": "0.5", "HUB_RETRY_MAX_SECONDS": "2", "HUB_PARENT_WAIT_SECONDS": "0.5",
    "HUB_ATTEMPT_LEASE_SECONDS": "6", "HUB_RUN_LEASE_SECONDS": "4", "NETSUITE_TIMEOUT": "5",
    "HUB_BREAKER_THRESHOLD": "3", "HUB_BREAKER_BASE_SECONDS": "0.5", "HUB_BREAKER_MAX_SECONDS": "2",
    "LOG_LEVEL": "INFO",
}
SETTLE_DEADLINE = 90        # s from the fault clearing to everything synced
ROUND_TIMEOUT = 20          # s after which a round of runs that never showed up (tasks lost) is sent again
# Nothing open, and since the last change this many rounds of every job's run have come and gone and this long has
# passed (several sweeps): the hub is stuck, and what it has not done waits for a person.
STUCK_ROUNDS = 1
STUCK_SECONDS = 6
SHOWN = 12                  # examples of each kind of problem in a failure's story

# What every case left behind, for the table at the end of the session (see conftest.py).
REPORT: list[dict] = []


class BeatDriver:
    """The beat stand-in (tests/reliability/beat.py) as a process of the hub's, answering each command."""

    def __init__(self, hub_processes):
        log = open(hub_processes.log_dir / "beat-driver.log", "wb")
        self.process = subprocess.Popen([sys.executable, "-m", "tests.reliability.beat"], cwd=PROJECT_ROOT,
                                        env=hub_processes.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=log, start_new_session=True, text=True, bufsize=1)
        log.close()
        hub_processes.processes.append(self.process)
        self.log_path = hub_processes.log_dir / "beat-driver.log"
        self.errors: list[str] = []

    def ready(self) -> None:
        answer = self._answer(60)
        assert answer == "ready", f"the beat stand-in did not start: {answer!r}\n{self.log_path.read_text()[-2000:]}"

    def send(self, *words: str) -> bool:
        self.process.stdin.write(" ".join(words) + "\n")
        self.process.stdin.flush()
        answer = self._answer(60)
        if answer != "ok":
            self.errors.append(answer)  # the broker was down: beat would try again at its next tick
        return answer == "ok"

    def _answer(self, timeout: float) -> str:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise AssertionError(f"the beat stand-in did not answer in {timeout}s\n{self.log_path.read_text()[-2000:]}")
        return self.process.stdout.readline().strip()


@dataclass
class Settled:
    settled: bool = False
    seconds: float | None = None
    reason: str = ""
    census: Census | None = None
    rounds: int = 0


@dataclass
class Scenario:
    case: str
    salesforce: object            # the Salesforce sandbox (RunningSalesforceSandbox)
    netsuite: object              # the NetSuite sandbox (RunningSandbox)
    reader: NetSuiteReader
    hub_processes: object
    env: dict
    jobs: list = field(default_factory=lambda: list(PUSHES))
    pulls: bool = False
    workers: list = field(default_factory=list)
    beat: BeatDriver | None = None
    expected: dict = field(default_factory=dict)   # record type → Salesforce records that must get a NetSuite twin
    fee_items: dict = field(default_factory=dict)  # fee product code → NetSuite item (the fee_item value mapping)
    fault_started: float | None = None   # monotonic
    fault_started_at: object = None      # the hub's clock (aware datetime)
    cleared: float | None = None
    cleared_at: object = None
    faults_seen: dict = field(default_factory=dict)
    result: Settled | None = None
    early: list = field(default_factory=list)  # runs finished during the fault that said succeeded too early
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    # --- setting up -------------------------------------------------------------------------------------------------
    def begin(self, *, workers: int = 2, netsuite: dict | None = None, env: dict | None = None, pulls: bool = False):
        """Workers and the beat stand-in on the fresh stores, small batches so there are many of them."""
        self.env.update(WORKER_ENV)
        self.env.update(env or {})
        self.pulls = pulls
        self.jobs = list(PUSHES) + (list(PULLS) if pulls else [])
        SyncJob.objects.update(batch_size=BATCH_SIZE)
        if netsuite:
            self.netsuite.control(**netsuite)
        for _ in range(workers):
            self.add_worker()
        self.beat = BeatDriver(self.hub_processes)
        sf = self.salesforce.client()
        self.expected = {
            "Account": sf.query("SELECT COUNT() FROM Account")["totalSize"],
            "Contact": sf.query("SELECT COUNT() FROM Contact")["totalSize"],
            "SalesOrder": sf.query("SELECT COUNT() FROM Opportunity WHERE StageName = 'Funded'")["totalSize"],
            "PurchaseOrder": sf.query("SELECT COUNT() FROM Opportunity WHERE StageName = 'Funded' AND Broker__c != null")["totalSize"],
        }
        self.fee_items = dict(ValueMapping.objects.filter(category="fee_item").values_list("source_value", "target_value"))
        self.beat.ready()
        return self

    def add_worker(self):
        worker = start_worker(self.hub_processes, f"worker{len(self.workers) + 1}")
        self.workers.append(worker)
        return worker

    # --- the fault --------------------------------------------------------------------------------------------------
    def fault(self, *, netsuite: dict | None = None, salesforce: dict | None = None) -> None:
        """The fault goes on (settings of either sandbox; none for a fault the test does itself)."""
        if netsuite:
            self.netsuite.control(**netsuite)
        if salesforce:
            self.salesforce.control(**salesforce)
        self.fault_started, self.fault_started_at = time.monotonic(), timezone.now()

    def enqueue(self, jobs: list | None = None) -> None:
        """The runs beat starts on schedule (each job's interval has come)."""
        assert self.beat.send("run", *(jobs or self.jobs))

    def act(self, seconds: float, *, tick=None, every: float = 0.5) -> None:
        """Let the fault act for this long, with beat sweeping every second as it does every minute in production;
        `tick()` (if given) is called every `every` seconds, e.g. to expire Salesforce's sessions again."""
        end = time.monotonic() + seconds
        last_sweep = 0.0
        while time.monotonic() < end:
            if time.monotonic() - last_sweep >= 1:
                self.beat.send("sweep")
                last_sweep = time.monotonic()
            if tick:
                tick()
            time.sleep(min(every, max(0.0, end - time.monotonic())))

    def wait_until(self, predicate, what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"{self.case}: never reached {what} in {timeout}s\n{self.story()}")

    def mid_batch(self) -> bool:
        """Some records are through and others are on their way: a fault now hits a batch in flight."""
        return (SyncAttempt.objects.filter(status=AttemptStatus.SUCCEEDED).exists()
                and SyncAttempt.objects.filter(status=AttemptStatus.RUNNING).exists())

    def busy_worker(self):
        """A worker with a batch in flight: one whose log shows an attempt of a run that has tries running now (the
        attempt outcomes are JSON lines carrying their run's id)."""
        running = set(SyncAttempt.objects.filter(status=AttemptStatus.RUNNING).values_list("run_id", flat=True)) - {None}
        for number, worker in enumerate(self.workers, start=1):
            if worker.poll() is not None:
                continue
            log = self.hub_processes.log(f"worker{number}")
            if any(f'"run_id": {run_id},' in log for run_id in running):
                return worker
        return None

    def clear(self, *, netsuite: dict | None = None, salesforce: dict | None = None) -> None:
        """The fault clears: every injection off (and these settings back); the settle clock starts."""
        self.netsuite.control(clear_faults=True, **(netsuite or {}))
        if salesforce:
            self.salesforce.control(**salesforce)
        if self.fault_started is None:
            self.fault_started, self.fault_started_at = time.monotonic(), timezone.now()
        self.cleared, self.cleared_at = time.monotonic(), timezone.now()
        stats = self.netsuite.stats()
        self.faults_seen = {**stats.get("faults", {}), **{f"injected {k}": v for k, v in stats.get("injected", {}).items()}}
        outcomes = dict(self.runs_during_fault().order_by().values_list("outcome").annotate(n=Count("id"))
                        .values_list("outcome", "n"))
        self.notes.append(f"runs finished during the fault: {outcomes or 'none'}")
        failed = [f"{run.job.name}: {run.message[:200]}" for run in self.runs_during_fault().filter(outcome=RunOutcome.FAILED)[:3]]
        if failed:
            self.notes.append(f"failed runs, e.g. {' | '.join(failed)}")
        self.early = self.runs_claiming_success_too_early()
        if outcomes.get(RunOutcome.SUCCEEDED):
            self.notes.append(f"succeeded runs held to it: {outcomes[RunOutcome.SUCCEEDED]}, too early: {len(self.early)}")

    # --- settling ---------------------------------------------------------------------------------------------------
    def settle(self, deadline: float = SETTLE_DEADLINE) -> Settled:
        """Do what beat does (a round of every job's run when the last round is through, a sweep every second) until
        nothing is open and both systems agree, the hub is stuck (nothing open, rounds of runs change nothing, the
        systems still disagree), or the deadline passes."""
        assert self.cleared is not None, "clear() the fault first"
        result = Settled()
        round_at, round_sent = None, 0.0
        last_sweep = 0.0
        last_fingerprint, changed, changed_at = None, time.monotonic(), timezone.now()
        rounds_since_change = 0     # rounds begun after the last change that have finished
        census_fingerprint = None
        while True:
            now = time.monotonic()
            if now - self.cleared > deadline:
                result.reason = f"not settled within {deadline}s"
                break
            if round_at is None or self._round_done(round_at) or now - round_sent > ROUND_TIMEOUT:
                if round_at is not None and self._round_done(round_at):
                    result.rounds += 1
                    rounds_since_change += round_at >= changed_at
                round_at, round_sent = timezone.now(), now
                self.beat.send("run", *self.jobs)
            if now - last_sweep >= 1:
                self.beat.send("sweep")
                last_sweep = now
            time.sleep(0.5)
            fingerprint = self._fingerprint()
            if fingerprint != last_fingerprint:
                last_fingerprint, changed, changed_at, rounds_since_change = fingerprint, time.monotonic(), timezone.now(), 0
            if not self._quiet():
                continue
            if fingerprint != census_fingerprint and self._links_complete():
                census_fingerprint, quiet_after = fingerprint, time.monotonic() - self.cleared
                result.census = self.census()  # the count confirms; the settle time is when the hub fell quiet
                if result.census.ok and not self.waiting_for_a_person():
                    result.settled, result.seconds = True, quiet_after
                    break
            if rounds_since_change >= STUCK_ROUNDS and time.monotonic() - changed >= STUCK_SECONDS:
                result.reason = (f"stuck: nothing open, and nothing changed for {time.monotonic() - changed:.0f}s "
                                 f"({rounds_since_change} rounds of every job's run and the sweeps meanwhile), "
                                 f"{time.monotonic() - self.cleared:.1f}s after the fault cleared")
                break
        if not result.settled:
            result.census = self.census()
        self.result = result
        return result

    def _round_done(self, round_at) -> bool:
        finished = set(SyncRun.objects.filter(trigger=SyncRun.Trigger.SCHEDULE, started_at__gte=round_at)
                       .exclude(outcome=RunOutcome.RUNNING).values_list("job__name", flat=True))
        return finished >= set(self.jobs)

    @staticmethod
    def _quiet() -> bool:
        """Nothing open: no try pending or running, no run running."""
        return not (SyncAttempt.objects.filter(status__in=[AttemptStatus.PENDING, AttemptStatus.RUNNING], superseded=False).exists()
                    or SyncRun.objects.filter(outcome=RunOutcome.RUNNING).exists())

    @staticmethod
    def _fingerprint() -> tuple:
        statuses = tuple(sorted(SyncAttempt.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n")))
        return statuses, SyncAttempt.objects.aggregate(top=Max("id"))["top"], RecordLink.objects.count()

    def _links_complete(self) -> bool:
        linked = dict(RecordLink.objects.values_list("record_type").annotate(n=Count("id")).values_list("record_type", "n"))
        return all(linked.get(record_type, 0) >= count for record_type, count in self.expected.items())

    def census(self) -> Census:
        return take_census(self.salesforce, self.reader, fee_items=self.fee_items, pulls=self.pulls)

    # --- what is left -----------------------------------------------------------------------------------------------
    @staticmethod
    def waiting_for_a_person() -> list[dict]:
        """Failed or dead tries no later try replaced and no person resolved, by job, status and remote code."""
        return list(
            SyncAttempt.objects.filter(status__in=NEEDS_PERSON_STATUSES, superseded=False, resolved_at__isnull=True)
            .values("job__name", "status", "remote_code").annotate(count=Count("id"), example=Max("remote_message"))
            .order_by("job__name", "remote_code", "status"))

    def runs_during_fault(self):
        runs = SyncRun.objects.select_related("job").exclude(finished_at=None)
        if self.fault_started_at is not None:
            runs = runs.filter(finished_at__gte=self.fault_started_at)
        if self.cleared_at is not None:
            runs = runs.filter(finished_at__lte=self.cleared_at)
        return runs.order_by("finished_at")

    def runs_claiming_success_too_early(self) -> list[str]:
        """Runs finished during the fault that say succeeded although, when they finished, a record they tried was
        not through (it failed, waited for a retry, or was still on its way) or another try of their job waited for
        its retry."""
        wrong = []
        for run in self.runs_during_fault().filter(outcome=RunOutcome.SUCCEEDED):
            tried = set(SyncAttempt.objects.filter(run=run).values_list("salesforce_id", flat=True)) - {""}
            through = set(SyncAttempt.objects.filter(job=run.job, salesforce_id__in=tried, status=AttemptStatus.SUCCEEDED,
                                                     finished_at__lte=run.finished_at).values_list("salesforce_id", flat=True))
            waiting = self.waiting_at(run.job, run.finished_at)
            if tried - through or waiting:
                codes = sorted(set(SyncAttempt.objects.filter(job=run.job, salesforce_id__in=(tried - through) | waiting)
                                   .exclude(remote_code="").values_list("remote_code", flat=True)))
                wrong.append(f"run {run.pk} of {run.job.name} says succeeded ({run.message}) but when it finished "
                             f"{len(tried - through)} of its {len(tried)} records were not through and {len(waiting)} "
                             f"of the job's records waited for a retry (codes seen: {codes or 'none'})")
        return wrong

    @staticmethod
    def waiting_at(job, moment) -> set[str]:
        """Salesforce ids of the job's tries that were pending (planned or waiting for a retry) at that moment, and
        had been for a second: a run counts what waits just before it finishes, and another job's writer may give a
        held-back record its new try meanwhile."""
        pending = (SyncAttempt.objects.filter(job=job, created_at__lte=moment - timedelta(seconds=1))
                   .filter(Q(started_at__gt=moment) | Q(started_at__isnull=True, finished_at__isnull=True, superseded=False)
                           | Q(started_at__isnull=True, finished_at__gt=moment)))
        return set(pending.values_list("salesforce_id", flat=True)) - {""}

    def check(self, *extra_problems: str) -> None:
        """0 lost, 0 duplicated, 0 different, 0 waiting for a person, settled, and no run finished during the fault
        that said succeeded while its work was not through: or a story of what is left."""
        result = self.result or self.settle()
        census = result.census
        waiting = self.waiting_for_a_person()
        problems = list(extra_problems)
        if self.early:
            problems.append(f"{len(self.early)} runs finished during the fault said succeeded too early: "
                            + " | ".join(self.early[:5]))
        if waiting:
            problems.append(f"{sum(row['count'] for row in waiting)} records waiting for a person")
        if census.lost:
            problems.append(f"{len(census.lost)} lost")
        if census.duplicated:
            problems.append(f"{len(census.duplicated)} duplicated")
        if census.different:
            problems.append(f"{len(census.different)} different")
        if not result.settled:
            problems.append(result.reason or "not settled")
        self.problems = problems
        assert not problems, f"{self.case}: {'; '.join(problems)}\n{self.story()}"

    def story(self) -> str:
        """What is left and what happened, for a failure's message."""
        lines = []
        result = self.result
        if result is not None:
            lines.append(f"settled in {result.seconds:.1f}s" if result.settled else f"NOT SETTLED: {result.reason}")
        waiting = self.waiting_for_a_person()
        lines.append(f"waiting for a person: {sum(row['count'] for row in waiting)}")
        for row in waiting:
            lines.append(f"  {row['job__name']:<26} {row['status']:<7} {row['remote_code'] or '-':<22} x{row['count']:<4} "
                         f"e.g. {(row['example'] or '')[:160]}")
        stuck = (SyncAttempt.objects.filter(status__in=NEEDS_PERSON_STATUSES, superseded=False, resolved_at__isnull=True)
                 .select_related("job").order_by("job__name", "remote_code", "id"))
        seen = set()
        for attempt in stuck:
            if len(seen) >= 4 or (attempt.job_id, attempt.remote_code) in {key[:2] for key in seen}:
                continue
            seen.add((attempt.job_id, attempt.remote_code, attempt.salesforce_id))
            tries = SyncAttempt.objects.filter(job=attempt.job, salesforce_id=attempt.salesforce_id).order_by("id")
            lines.append(f"  the tries of {attempt.job.name} {attempt.salesforce_id}: " + ", ".join(
                f"#{t.attempt_number} {t.status}{' ' + t.remote_code if t.remote_code else ''}"
                f"{' (replaced)' if t.superseded else ''}" for t in tries))
        census = result.census if result is not None else None
        if census is not None:
            for label in ("lost", "duplicated", "different"):
                values = getattr(census, label)
                lines.append(f"{label} (counted in the sandboxes): {len(values)}")
                lines += [f"  {value}" for value in values[:SHOWN]] + ([f"  … {len(values) - SHOWN} more"] if len(values) > SHOWN else [])
            lines.append(f"counts: {census.counts}")
        open_work = list(SyncAttempt.objects.filter(status__in=[AttemptStatus.PENDING, AttemptStatus.RUNNING], superseded=False)
                         .values_list("job__name", "status").annotate(n=Count("id")).order_by("job__name"))
        lines.append(f"open tries: {open_work or 'none'}")
        lines.append("runs (job: outcome x count):")
        for job_name, outcome, count in (SyncRun.objects.values_list("job__name", "outcome").annotate(n=Count("id"))
                                         .order_by("job__name", "outcome")):
            lines.append(f"  {job_name:<26} {outcome:<12} x{count}")
        codes = list(SyncAttempt.objects.exclude(remote_code="").values_list("remote_code", "status").annotate(n=Count("id"))
                     .order_by("remote_code"))
        lines.append(f"remote codes of every try, replaced ones too (code, status, count): {codes}")
        lines.append(f"NetSuite sandbox faults up to the clearing: {self.faults_seen}")
        lines += self.notes
        if self.beat and self.beat.errors:
            lines.append(f"beat could not send {len(self.beat.errors)} times, e.g. {self.beat.errors[0]}")
        errors = []
        for path in sorted(self.hub_processes.log_dir.glob("worker*.log")):
            errors += [f"  {path.stem}: {line[:300]}" for line in path.read_text(errors="replace").splitlines()
                       if " ERROR" in line or "Traceback" in line or "Error:" in line]
        if errors:
            lines.append(f"worker log errors ({len(errors)}), the last few:")
            lines += errors[-8:]
        return "\n".join(lines)

    # --- the report -------------------------------------------------------------------------------------------------
    def row(self, outcome: str) -> dict:
        result = self.result
        waiting = self.waiting_for_a_person() if result is not None else []
        census = result.census if result is not None else None
        window = (self.cleared - self.fault_started) if self.cleared and self.fault_started else None
        return {
            "case": self.case, "outcome": outcome, "backend": backend(), "workers": len(self.workers),
            "fault_seconds": window,
            "settle": (f"{result.seconds:.1f}" if result and result.settled else
                       ("-" if result is None else "not settled")),
            "waiting": ", ".join(f"{r['job__name']}/{r['remote_code'] or r['status']} x{r['count']}" for r in waiting) or "0",
            "census": census.summary() if census else "-",
            "counts": census.counts if census else {},
            "faults": ", ".join(f"{k} {v}" for k, v in sorted(self.faults_seen.items())) or "-",
            "problems": "; ".join(self.problems),
            "notes": "; ".join(self.notes + ([f"counts {census.counts}"] if census and not census.ok else [])),
        }


def backend() -> str:
    broker = settings.CELERY_BROKER_URL.split(":", 1)[0]
    return f"{connection.vendor}+{broker}"
