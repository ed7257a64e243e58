"""What the hub knows about its work: the nine jobs, each run of a job, each try of each record, and the links
between a Salesforce record and its NetSuite twin. Attempts are never deleted: they are the audit trail."""
import re

from django.conf import settings
from django.db import models
from django.db.models import Q

from mappings.models import RecordType, System

# A Salesforce record id: 15 characters, or 18 with the case-safe suffix.
SALESFORCE_ID = re.compile(r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
_SUFFIX_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def salesforce_id_18(record_id: str) -> str:
    """The 18-character, case-safe form of a Salesforce id (the API's form, which the hub stores), from either form.
    Each suffix character encodes which of five characters of the 15 are upper case."""
    if len(record_id) != 15:
        return record_id
    suffix = ""
    for start in range(0, 15, 5):
        bits = sum(1 << index for index, character in enumerate(record_id[start:start + 5]) if "A" <= character <= "Z")
        suffix += _SUFFIX_CHARACTERS[bits]
    return record_id + suffix


class Direction(models.TextChoices):
    PUSH = "push", "Push (Salesforce → NetSuite)"
    PULL = "pull", "Pull (NetSuite → Salesforce)"


class RunOutcome(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partly failed"
    # Nothing failed for good, but records wait for another try: not a success until they are through.
    RETRYING = "retrying", "Records waiting to retry"
    FAILED = "failed", "Failed"
    PAUSED = "paused", "Paused"
    SKIPPED = "skipped", "Skipped (job disabled or already running)"
    NOT_IMPLEMENTED = "not_implemented", "Not implemented"


class SyncJob(models.Model):
    name = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    source_system = models.CharField(max_length=16, choices=System.choices)
    source_record_type = models.CharField(max_length=64, help_text="API name in the source system, e.g. Opportunity")
    target_system = models.CharField(max_length=16, choices=System.choices)
    target_record_type = models.CharField(max_length=64, help_text="API name in the target system, e.g. salesOrder")
    record_type = models.CharField(
        max_length=32, choices=RecordType.choices, help_text="The business record this job writes; its master rule applies."
    )
    stage = models.PositiveSmallIntegerField(
        default=1, help_text="Dependency order: a job runs after the jobs of lower stages (customers before orders)."
    )
    enabled = models.BooleanField(default=True)
    batch_size = models.PositiveIntegerField(default=100)
    retry_for_minutes = models.PositiveIntegerField(
        default=24 * 60,
        help_text="How long a record's own temporary failures are retried (capped exponential backoff) before it waits "
                  "for a person. Faults of a whole request (an outage, a refusal for concurrency) don't count.",
    )
    watermark_timestamp = models.DateTimeField(null=True, blank=True, help_text="Last-modified time of the last synced change (UTC).")
    watermark_record_id = models.CharField(max_length=32, blank=True, help_text="Record id breaking ties on that time.")
    run_lease_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="A run holds the job until then (renewed while it works); one run per job at a time."
    )
    paused_reason = models.CharField(max_length=255, blank=True, help_text="Why the job holds back, e.g. API allocation nearly spent.")
    last_run_started_at = models.DateTimeField(null=True, blank=True)
    last_run_finished_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=20, choices=RunOutcome.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["stage", "id"]

    def __str__(self):
        return self.name


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Schedule"
        MANUAL = "manual", "Run now by a person"
        RETRY = "retry", "Retry by a person"
        SWEEP = "sweep", "Due retries (sweeper)"
        BACKFILL = "backfill", "Backfill"
        OUTBOUND = "outbound", "Outbound message"

    job = models.ForeignKey(SyncJob, on_delete=models.PROTECT, related_name="runs")
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.SCHEDULE)
    dry_run = models.BooleanField(default=False)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=RunOutcome.choices, default=RunOutcome.RUNNING)
    message = models.TextField(blank=True)
    records_read = models.PositiveIntegerField(default=0)
    records_written = models.PositiveIntegerField(default=0)
    records_failed = models.PositiveIntegerField(default=0)
    records_skipped = models.PositiveIntegerField(default=0)
    watermark_before_timestamp = models.DateTimeField(null=True, blank=True)
    watermark_before_record_id = models.CharField(max_length=32, blank=True)
    watermark_after_timestamp = models.DateTimeField(null=True, blank=True)
    watermark_after_record_id = models.CharField(max_length=32, blank=True)
    reading_finished_at = models.DateTimeField(
        null=True, blank=True, help_text="When the run had read and planned everything: the workers helping it send stop "
                                         "once nothing is left.")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["job", "-started_at"], name="syncrun_job_started")]

    def __str__(self):
        return f"{self.job.name} at {self.started_at:%Y-%m-%d %H:%M:%S}"


class AttemptStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    DEAD = "dead", "Dead (retries exhausted)"


# The statuses of a try that waits for a person (unless a later try replaced it, or a person resolved it).
NEEDS_PERSON_STATUSES = (AttemptStatus.FAILED, AttemptStatus.DEAD)


class ErrorKind(models.TextChoices):
    TRANSIENT = "transient", "Transient (retried)"
    # The remote system failed the whole request (5xx, concurrency refusal, timeout): not the record's fault, so it
    # is retried without spending the record's retry window.
    REQUEST = "request", "Request fault (remote system; retried)"
    PERMANENT = "permanent", "Permanent (needs a person)"


class SyncAttempt(models.Model):
    run = models.ForeignKey(SyncRun, on_delete=models.PROTECT, null=True, blank=True, related_name="attempts")
    # Every version of an attempt's row (planned, claimed, closed: three a try) is written into each of the table's
    # indexes, which is most of PostgreSQL's work in a push: the foreign keys below get no index of their own. A job's
    # attempts are found through the indexes that begin with the job; a person's assigned failures through
    # attempt_assigned; and resolved_by is only ever shown, never searched (deleting a user scans, which is rare).
    job = models.ForeignKey(SyncJob, on_delete=models.PROTECT, related_name="attempts", db_index=False)
    trigger = models.CharField(
        max_length=16, choices=SyncRun.Trigger.choices, blank=True,
        help_text="What asked for this try: the schedule, an outbound message, a person's retry, a backfill …",
    )
    record_type = models.CharField(max_length=32, choices=RecordType.choices)
    record_name = models.CharField(max_length=255, blank=True, help_text="A human name for search: account, application …")
    salesforce_id = models.CharField(max_length=18, blank=True)
    netsuite_internal_id = models.CharField(max_length=32, blank=True)
    netsuite_external_id = models.CharField(max_length=64, blank=True)
    operation = models.CharField(max_length=32, help_text="upsert, update, lookup …")
    attempt_number = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=16, choices=AttemptStatus.choices, default=AttemptStatus.PENDING)
    error_kind = models.CharField(max_length=16, choices=ErrorKind.choices, blank=True)
    remote_code = models.CharField(max_length=100, blank=True)
    remote_message = models.TextField(blank=True)
    request_payload = models.JSONField(null=True, blank=True, help_text="Redacted: no secret is ever stored.")
    response_payload = models.JSONField(null=True, blank=True, help_text="Redacted.")
    source_hash = models.CharField(max_length=64, blank=True, help_text="Hash of the source content this attempt carries.")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When a pending retry becomes due.")
    lease_expires_at = models.DateTimeField(null=True, blank=True, help_text="A running claim older than this is reclaimed.")
    superseded = models.BooleanField(default=False, help_text="A later attempt of the same record took over from this one.")
    verify_before_write = models.BooleanField(
        default=False, help_text="An earlier try may have been carried out unseen (timeout, lost answer): look it up first."
    )
    waiting_on = models.CharField(max_length=18, blank=True, help_text="Salesforce id of the parent this record needs first.")
    idempotency_key = models.CharField(
        max_length=36, blank=True,
        help_text="The key of the NetSuite batch that carried this try (REST): sent again, NetSuite answers with that "
                  "batch's results instead of writing twice.",
    )
    retrying_since = models.DateTimeField(
        null=True, blank=True, help_text="When this record's own temporary failures began: its retry window runs from here."
    )
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="A person settled this failure without another try.")
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                    db_index=False)
    resolution_note = models.TextField(blank=True, help_text="Why it was resolved, and notes staff left on the record.")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+", help_text="The person looking after this failure.", db_index=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("retry_commission_attempt", "Can retry failed commission (purchase order) records")]
        indexes = [
            # Ops ask: what failed in job X, newest first? And: what happened to this Salesforce record?
            models.Index(fields=["job", "status", "-created_at"], name="attempt_job_status_created"),
            models.Index(fields=["salesforce_id", "-created_at"], name="attempt_sf_id_created"),
            models.Index(fields=["netsuite_internal_id"], name="attempt_ns_internal_id"),
            models.Index(fields=["-created_at"], name="attempt_created"),
            # The console's filters, each able to read one index in the changelist's order.
            models.Index(fields=["job", "-created_at", "-id"], name="attempt_job_created"),
            models.Index(fields=["status", "-created_at", "-id"], name="attempt_status_created"),
            models.Index(fields=["error_kind", "-created_at"], name="attempt_kind_created", condition=~Q(error_kind="")),
            models.Index(fields=["remote_code", "-created_at"], name="attempt_code_created", condition=~Q(remote_code="")),
            models.Index(fields=["netsuite_external_id"], name="attempt_ns_external_id", condition=~Q(netsuite_external_id="")),
            # What waits for a person: failed or dead, not taken over by a later try, not resolved.
            models.Index(
                fields=["job", "status", "created_at"],
                name="attempt_needs_person",
                condition=Q(status__in=["failed", "dead"], superseded=False, resolved_at__isnull=True),
            ),
            models.Index(fields=["waiting_on"], name="attempt_waiting_on", condition=~Q(waiting_on="")),
            # The dashboard's counts of what waits, by job, status and code, with the oldest and newest, read from
            # the index alone in one pass.
            models.Index(
                fields=["job", "status", "remote_code", "created_at"],
                name="attempt_needs_person_code",
                condition=Q(status__in=["failed", "dead"], superseded=False, resolved_at__isnull=True),
            ),
            # The dashboard's lag and in-flight count: the open tries of each job, oldest first.
            models.Index(
                fields=["job", "created_at"],
                name="attempt_open_created",
                condition=Q(status__in=["pending", "running"], superseded=False),
            ),
            # The hourly roll-ups: the tries that finished in an hour, by job and status, from the index alone.
            models.Index(
                fields=["finished_at", "job", "status"],
                name="attempt_finished",
                condition=Q(status__in=["succeeded", "failed", "dead"]),
            ),
            # "Mine": the failures assigned to a person.
            models.Index(fields=["assigned_to", "-created_at"], name="attempt_assigned",
                         condition=Q(assigned_to__isnull=False)),
            # A sender's claim: a job's pending tries in due order, read from the front with no sort (without it, each
            # claim of 100 sorted every pending row of the job, holding the write lock meanwhile on SQLite).
            models.Index(
                fields=["job", "next_attempt_at", "id"],
                name="attempt_job_due",
                condition=Q(status="pending", superseded=False),
            ),
            # The sweeper's question: what is pending or running and due?
            models.Index(
                fields=["status", "next_attempt_at"],
                name="attempt_open_due",
                condition=Q(status__in=["pending", "running"]),
            ),
        ]

    def __str__(self):
        return f"{self.job.name} {self.salesforce_id or self.netsuite_internal_id} #{self.attempt_number} {self.status}"


class RecordLink(models.Model):
    """A Salesforce record and its NetSuite twin, with the hash of the content last synced between them."""

    record_type = models.CharField(max_length=32, choices=RecordType.choices)
    salesforce_id = models.CharField(max_length=18)
    netsuite_record_type = models.CharField(max_length=64, blank=True, help_text="e.g. customer, vendor, salesOrder")
    netsuite_internal_id = models.CharField(max_length=32, blank=True)
    netsuite_external_id = models.CharField(max_length=64, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    detail_hash = models.CharField(max_length=64, blank=True, help_text="Hash of the lines last synced (orders).")
    lines_modstamp = models.DateTimeField(
        null=True, blank=True, help_text="Newest Salesforce SystemModstamp among those lines: line changes up to it are in NetSuite."
    )
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_type", "salesforce_id"], name="link_unique_salesforce_record"),
        ]
        indexes = [models.Index(fields=["record_type", "netsuite_internal_id"], name="link_netsuite_record")]

    def __str__(self):
        return f"{self.record_type} {self.salesforce_id} ↔ {self.netsuite_internal_id or '?'}"


class Heartbeat(models.Model):
    """The last time a periodic piece of the hub proved itself alive (the sweeper, sent by beat and run by a worker)."""

    name = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"


class CircuitBreaker(models.Model):
    """One remote system's health as the hub's workers see it. After a run of whole-request faults the breaker opens:
    no worker sends to that system until the cool-down passes, then one batch probes it. A success closes it."""

    system = models.CharField(max_length=16, choices=System.choices, unique=True)
    consecutive_faults = models.PositiveIntegerField(default=0)
    open_until = models.DateTimeField(null=True, blank=True, help_text="No request is sent before then (one probe after).")
    opened_at = models.DateTimeField(null=True, blank=True, help_text="When this spell of faults opened the breaker.")
    probing_until = models.DateTimeField(null=True, blank=True, help_text="A worker is probing the system; its verdict is due by then.")
    last_fault_code = models.CharField(max_length=100, blank=True)
    last_fault_message = models.TextField(blank=True)
    last_fault_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.get_system_display()} breaker"

    def is_open(self, now) -> bool:
        return self.open_until is not None and self.open_until > now



class HourlyOutcome(models.Model):
    """A job's tries that finished in one closed hour, succeeded or failed: the dashboard's chart and its "moved in
    24 h" read these instead of millions of attempts. A closed hour's counts never change (a try finishes once), so
    each is counted once, by the sweeper or the first dashboard that misses it (syncs.services.outcomes_rollup)."""

    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hour", "job"], name="hourly_outcome_hour_job")]

    def __str__(self):
        return f"{self.job_id} {self.hour:%Y-%m-%d %H}:00 {self.succeeded}/{self.failed}"


class AlertKind(models.TextChoices):
    FAILURES = "failures", "New failures waiting for a person (a digest per job)"
    STALE = "stale", "A job gone stale, or the beat silent"
    CREDENTIALS = "credentials", "A remote system refusing the hub's credentials"
    RECONCILIATION = "reconciliation", "Salesforce and NetSuite disagreeing (reconciliation)"


class AlertSubscription(models.Model):
    """What one person is told by email. Nobody is subscribed until they choose (their own page in the console)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hub_alerts")
    failures = models.BooleanField(default=False, help_text=AlertKind.FAILURES.label)
    stale = models.BooleanField(default=False, help_text=AlertKind.STALE.label)
    credentials = models.BooleanField(default=False, help_text=AlertKind.CREDENTIALS.label)
    reconciliation = models.BooleanField(default=False, help_text=AlertKind.RECONCILIATION.label)

    def __str__(self):
        return f"alerts for {self.user}"

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, kind, False))


class AlertSent(models.Model):
    """One alert sent: what about (`subject`: a job, a system), when, and how far it covered (`last_attempt_id`, for
    a digest). The next alert of the same kind and subject is decided from the latest of these."""

    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    subject = models.CharField(max_length=120)
    sent_at = models.DateTimeField()
    last_attempt_id = models.BigIntegerField(null=True, blank=True)
    text = models.TextField()

    class Meta:
        indexes = [models.Index(fields=["kind", "subject", "-sent_at"], name="alert_kind_subject_sent")]


class ApiUsage(models.Model):
    """A remote system's request allocation as the hub last saw it (Salesforce's daily API requests), for /metrics."""

    system = models.CharField(max_length=16, choices=System.choices, unique=True)
    used = models.PositiveBigIntegerField()
    allocation = models.PositiveBigIntegerField()
    seen_at = models.DateTimeField()


# --- money as NetSuite books it -----------------------------------------------------------------------------------

class MoneyTransaction(models.Model):
    """The hub's copy of one NetSuite money transaction as last read (a payment, deposit, deposit application,
    credit memo, refund; or an invoice, for the sales order it was billed from). A remittance's effective amount
    depends on other transactions (a refund of a payment, read in a later sweep), so the pull keeps what it read
    here and computes the remittances from it. `parts` is what the hub last planned for Salesforce (key →
    application, amount, status), to say what changed and to zero a part that is gone."""

    record_type = models.CharField(max_length=32)
    internal_id = models.CharField(max_length=32)
    tran_id = models.CharField(max_length=64, blank=True)
    record = models.JSONField(null=True, blank=True, help_text="The transaction as last read (null: only referenced).")
    content_hash = models.CharField(max_length=64, blank=True)
    created_from = models.CharField(max_length=32, blank=True, help_text="An invoice's sales order (internal id).")
    refunds = models.JSONField(default=dict, blank=True, help_text="Refund internal id → amount refunded of this one.")
    parts = models.JSONField(default=dict, blank=True, help_text="Remittance key → what the hub last planned for it.")
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Deleted in NetSuite (getDeleted / deletedrecord).")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record_type", "internal_id"], name="money_transaction_unique")]

    def __str__(self):
        return f"{self.record_type} {self.internal_id}"


class FinanceReviewKind(models.TextChoices):
    UNAPPLIED_CASH = "unapplied_cash", "Unapplied cash"
    REVERSAL = "reversal", "Money reversed (void, refund, credit memo, delete)"
    DEFUNDED = "defunded_application", "Application defunded or deleted after its order"
    RECONCILIATION = "reconciliation_difference", "Reconciliation difference"


class FinanceReview(models.Model):
    """One thing finance has to look at, filed by the hub once per cause (`cause` is unique): the same void seen
    by a second run, or the same difference found by tomorrow's reconciliation, files nothing new."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    kind = models.CharField(max_length=32, choices=FinanceReviewKind.choices)
    cause = models.CharField(max_length=200, unique=True, help_text="What filed it; one item per cause.")
    summary = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    application_id = models.CharField(max_length=18, blank=True, help_text="The Salesforce application (Opportunity).")
    application_name = models.CharField(max_length=120, blank=True)
    salesforce_record_id = models.CharField(max_length=18, blank=True, help_text="e.g. the Remittance__c.")
    netsuite_record_type = models.CharField(max_length=32, blank=True)
    netsuite_internal_id = models.CharField(max_length=32, blank=True)
    netsuite_number = models.CharField(max_length=64, blank=True)
    amount_before = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    amount_after = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("resolve_financereview", "Can resolve finance review items")]
        indexes = [models.Index(fields=["status", "kind", "-created_at"], name="review_status_kind")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.summary[:60]}"


class ReconciliationRun(models.Model):
    """One reconciliation of amounts (sales orders against fees, commissions, remittances against NetSuite's money)."""

    trigger = models.CharField(max_length=16, default="schedule")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, default="running", help_text="running, agreed, differences, failed")
    applications_checked = models.PositiveIntegerField(default=0)
    remittances_checked = models.PositiveIntegerField(default=0)
    differences_found = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        permissions = [("run_reconciliation", "Can run the reconciliation of amounts")]

    def __str__(self):
        return f"reconciliation at {self.started_at:%Y-%m-%d %H:%M:%S}"


class ReconciliationDifference(models.Model):
    """One amount on which Salesforce and NetSuite disagree, naming the records on both sides."""

    class Check(models.TextChoices):
        FEES = "fees", "Sales order total ≠ fee lines"
        COMMISSION = "commission", "Commission order ≠ funded amount × commission %"
        MISSING_REMITTANCE = "missing_remittance", "Money in NetSuite missing in Salesforce"
        ORPHAN_REMITTANCE = "orphan_remittance", "Remittance with no money in NetSuite"
        REMITTANCE_AMOUNT = "remittance_amount", "Remittance amount ≠ NetSuite's"

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="differences")
    kind = models.CharField(max_length=32, choices=Check.choices)
    application_id = models.CharField(max_length=18, blank=True)
    application_name = models.CharField(max_length=120, blank=True)
    salesforce_record_id = models.CharField(max_length=18, blank=True)
    remittance_key = models.CharField(max_length=32, blank=True, help_text="Remittance__c.NetSuite_Payment_Id__c")
    netsuite_record_type = models.CharField(max_length=32, blank=True)
    netsuite_internal_id = models.CharField(max_length=32, blank=True)
    netsuite_number = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=16, blank=True)
    salesforce_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    netsuite_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    description = models.TextField()

    class Meta:
        ordering = ["run", "kind", "id"]

    def __str__(self):
        return self.description[:80]


class OutboundNotification(models.Model):
    """One notification of a Salesforce Outbound Message: the record it names and when that record changed. Kept once
    per notification id (Salesforce delivers at least once); the record itself is read again from Salesforce."""

    notification_id = models.CharField(max_length=18, unique=True)
    organization_id = models.CharField(max_length=18)
    action_id = models.CharField(max_length=18, help_text="The outbound message (Flow action) that sent it.")
    object_type = models.CharField(max_length=64, help_text="Salesforce object, e.g. Opportunity")
    salesforce_id = models.CharField(max_length=18)
    changed_at = models.DateTimeField(
        null=True, blank=True, help_text="The record's LastModifiedDate (or SystemModstamp) as the message sent it."
    )
    received_at = models.DateTimeField(db_index=True)
    stale = models.BooleanField(
        default=False, help_text="Older than a change of the same record the hub already heard of: nothing to do."
    )
    fields = models.JSONField(default=dict, blank=True, help_text="The fields the message carried (not trusted; shown only).")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["object_type", "salesforce_id", "-changed_at"], name="notification_record")]

    def __str__(self):
        return f"{self.object_type} {self.salesforce_id} ({self.notification_id})"


class NotifiedChange(models.Model):
    """A record a push job is to send because Salesforce said it changed; a run restricted to these takes them
    (`run`, `taken_at`) once their attempts are committed. Until then they wait here, whatever the broker loses."""

    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="notified_changes")
    notification = models.ForeignKey(OutboundNotification, on_delete=models.CASCADE, related_name="changes")
    object_type = models.CharField(max_length=64)
    salesforce_id = models.CharField(max_length=18)
    requested_at = models.DateTimeField()
    run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    taken_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["job", "requested_at"], name="notified_change_open",
                                condition=Q(taken_at__isnull=True))]

    def __str__(self):
        return f"{self.job_id} {self.object_type} {self.salesforce_id}"
