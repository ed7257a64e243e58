"""python manage.py sync run JOB [--dry-run] [--since DATE] [--enqueue] | sync status | sync schedule | sync sweep | sync reconcile
| sync alerts"""
import time
from datetime import datetime, timezone as dt_timezone

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from syncs import selectors, services
from syncs.jobs.registry import job_spec
from syncs.models import SyncJob, SyncRun
from syncs.schedules import schedules_apply
from syncs.tasks import run_sync_job


class Command(BaseCommand):
    help = "Run a sync job now, show the jobs' status, or apply the beat schedules."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="Run one job now, in this process.")
        run.add_argument("job", nargs="+", help="job names, as `sync status` lists them")
        run.add_argument("--dry-run", action="store_true", help="Read and map, but write nothing to the target.")
        run.add_argument("--enqueue", action="store_true", help="Hand the run to the Celery workers instead of running it here.")
        run.add_argument("--since", type=_moment, help="Backfill a pull job from this date or date-time (UTC unless an "
                         "offset is given), page by page with progress; run it again to resume after an interruption.")
        sub.add_parser("status", help="A table of the nine jobs.")
        sub.add_parser("sweep", help="Enqueue runs for jobs with due retries or tries of a stopped worker.")
        sub.add_parser("reconcile", help="Compare Salesforce and NetSuite record by record (missing, duplicated, unexpected) "
                       "and then the amounts (orders against fees, commissions, remittances against NetSuite's money; "
                       "stored as a run, each difference in finance's review queue). Differences are sent to those "
                       "who chose reconciliation alerts.")
        sub.add_parser("alerts", help="Send the alerts that are due now (the beat does this every few minutes; run it "
                       "from cron too, to hear of a beat that stopped).")
        schedule = sub.add_parser("schedule", help="Create or update the jobs' periodic tasks (keeps edited intervals).")
        schedule.add_argument("--every-minutes", type=int, default=None, help="Force one interval on every job (demo).")

    def handle(self, *args, action, **options):
        if action == "run":
            known = set(SyncJob.objects.values_list("name", flat=True))
            unknown = [name for name in options["job"] if name not in known]
            if unknown:
                raise CommandError(f"No job named {', '.join(unknown)}. The jobs: {', '.join(sorted(known))}.")
        if action == "run" and options["enqueue"]:
            for job_name in options["job"]:
                run_sync_job.delay(job_name, trigger=SyncRun.Trigger.MANUAL)
            self.stdout.write(f"Enqueued {', '.join(options['job'])}.")
        elif action == "run":
            for job_name in options["job"]:
                self._run(job_name, options["dry_run"], options["since"])
        elif action == "reconcile":
            self._reconcile()
        elif action == "alerts":
            from syncs.alerts import alerts_send

            sent = alerts_send()
            self.stdout.write(f"{len(sent)} alert{'s' if len(sent) != 1 else ''} sent" + (": " + ", ".join(
                f"{alert.kind} {alert.subject}" for alert in sent) if sent else "."))
        elif action == "sweep":
            with transaction.atomic():
                job_names = services.sync_sweep()
            self.stdout.write(f"Enqueued {', '.join(job_names) or 'nothing'}.")
        elif action == "status":
            self._status()
        else:
            tasks = schedules_apply(every_minutes_override=options["every_minutes"])
            self.stdout.write(f"{len(tasks)} periodic tasks in place.")

    def _run(self, job_name: str, dry_run: bool, since=None) -> None:
        spec = job_spec(job_name)
        if since is not None and not (spec and spec.supports_backfill):
            raise CommandError("--since backfills a pull job.")
        progress = _Progress(self.stdout) if since is not None else None
        run = services.sync_run(job_name=job_name, trigger=SyncRun.Trigger.MANUAL, dry_run=dry_run, since=since, progress=progress)
        if progress:
            self.stdout.write("")
        self.stdout.write(
            f"{job_name}: {run.get_outcome_display()} — read {run.records_read}, written {run.records_written}, "
            f"failed {run.records_failed}, skipped {run.records_skipped}. {run.message}"
        )
        if run.outcome == "failed":
            raise CommandError(f"{job_name} failed.")

    def _reconcile(self) -> None:
        from syncs.models import AttemptStatus, SyncAttempt
        from syncs.reconcile import reconcile

        failed = set(SyncAttempt.objects.filter(status__in=[AttemptStatus.FAILED, AttemptStatus.DEAD], superseded=False)
                     .exclude(salesforce_id="").values_list("salesforce_id", flat=True))
        findings = reconcile(failed_ids=failed)
        for finding in findings:
            mark = "ok " if finding.ok else "BAD"
            self.stdout.write(f"{mark} {finding.check}: expected {finding.expected}, NetSuite/Salesforce hold {finding.found}")
            for label in ("missing", "duplicated", "unexpected"):
                values = getattr(finding, label)
                if values:
                    self.stdout.write(f"      {label} ({len(values)}): {', '.join(values[:10])}{' …' if len(values) > 10 else ''}")
        if failed:
            self.stdout.write(f"({len(failed)} records the hub reports as failed are left out; see the console.)")
        from syncs.alerts import alert_reconciliation

        alert_reconciliation(findings=findings)
        from syncs.reconcile_amounts import amounts_reconcile

        amounts = amounts_reconcile(trigger="manual")
        mark = "ok " if amounts.outcome == "agreed" else "BAD"
        self.stdout.write(f"{mark} Amounts: {amounts.message}")
        for difference in amounts.differences.all()[:50]:
            self.stdout.write(f"      {difference.get_kind_display()}: {difference.description}")
        if amounts.differences_found > 50:
            self.stdout.write(f"      … {amounts.differences_found - 50} more in the console (reconciliation run {amounts.pk}).")
        if not all(finding.ok for finding in findings) or amounts.outcome != "agreed":
            raise CommandError("The two systems disagree.")

    def _status(self) -> None:
        header = ("job", "enabled", "schedule", "last run", "outcome", "failed waiting")
        rows = [
            (
                status.job.name,
                "yes" if status.job.enabled else "no",
                status.schedule,
                timezone.localtime(status.job.last_run_finished_at).strftime("%Y-%m-%d %H:%M:%S") if status.job.last_run_finished_at else "never",
                status.job.get_last_outcome_display() or "-",
                str(status.failed_waiting),
            )
            for status in selectors.job_status_list()
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _moment(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt_timezone.utc)


class _Progress:
    """done/total, rate and time left, on one line."""

    def __init__(self, out):
        self.out, self.started = out, time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate else 0
        self.out.write(f"\r{done}/{total} records  {rate:,.0f}/s  {left:,.0f} s left   ", ending="")
        self.out.flush()
