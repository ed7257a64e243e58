"""Telling people what needs them, so a failed commission order does not wait until someone happens to look.

Four kinds (AlertKind): a digest of a job's new failures waiting for a person (at most one per job per
HUB_ALERT_DIGEST_MINUTES), a job gone stale or the sweeper's heartbeat silent, a remote system refusing the hub's
credentials, and reconciliation differences. Each goes by email to the people who chose that kind
(AlertSubscription) and, when HUB_ALERT_WEBHOOK_URL is set, to a Slack-compatible incoming webhook. A condition that
lasts is told again every HUB_ALERT_REPEAT_MINUTES, not every check.

Run by the beat every few minutes (syncs.tasks.send_alerts). The beat cannot tell of its own silence: `manage.py sync
alerts` from cron, or a monitor on /healthz, covers a hub whose beat is gone.
"""
import logging
from datetime import timedelta

import requests
from django.conf import settings
from django.core.mail import send_mass_mail
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from .models import AlertKind, AlertSent, AlertSubscription, CircuitBreaker, RunOutcome, SyncAttempt, SyncJob, SyncRun
from .selectors import BEAT_STALE_AFTER, NEEDS_PERSON, beat_last_tick, stale_jobs

logger = logging.getLogger(__name__)

# Codes with which Salesforce or NetSuite refuse the hub's login or token: a person must renew a secret, a key or a
# permission; retrying changes nothing.
CREDENTIAL_CODES = {"invalid_grant", "invalid_client", "invalid_client_id", "invalid_login", "invalid_session_id",
                    "invalid_login_attempt", "invalid_login_credentials", "invalid_auth", "insufficient_permission",
                    "no_credentials", "invalid_private_key", "invalidsignature", "invalid_token", "expired_token"}


def alerts_send(*, now=None) -> list[AlertSent]:
    """Check every kind and send what is due. Returns the alerts sent."""
    now = now or timezone.now()
    sent = []
    for job in SyncJob.objects.order_by("stage", "id"):
        sent += _send_if(_failure_digest(job, now), now)
    sent += _send_if(_staleness(now), now)
    sent += _send_if(_credential_refusals(now), now)
    return sent


def alert_reconciliation(*, findings, now=None) -> list[AlertSent]:
    """Tell of the differences a reconciliation found (nothing when both systems agree)."""
    now = now or timezone.now()
    bad = [finding for finding in findings if not finding.ok]
    if not bad:
        return []
    lines = [f"Salesforce and NetSuite disagree on {len(bad)} check{'s' if len(bad) > 1 else ''}:"]
    for finding in bad:
        parts = [f"{label} {len(getattr(finding, label))}" for label in ("missing", "duplicated", "unexpected")
                 if getattr(finding, label)]
        lines.append(f"• {finding.check}: expected {finding.expected}, found {finding.found} ({', '.join(parts)})")
    return _send_if([(AlertKind.RECONCILIATION, "reconcile", None, "\n".join(lines))], now, repeat=False)


# --- what is due ------------------------------------------------------------------------------------------------------

def _failure_digest(job: SyncJob, now) -> list[tuple]:
    last = AlertSent.objects.filter(kind=AlertKind.FAILURES, subject=job.name).order_by("-sent_at").first()
    if last and now - last.sent_at < timedelta(minutes=settings.HUB_ALERT_DIGEST_MINUTES):
        return []   # the next digest gathers what failed meanwhile
    new = SyncAttempt.objects.filter(NEEDS_PERSON, job=job, id__gt=last.last_attempt_id if last and last.last_attempt_id else 0)
    groups = list(new.values("remote_code", "remote_message").annotate(n=Count("*")).order_by("-n")[:5])
    if not groups:
        return []
    count = new.count()
    newest = new.order_by("-id").values_list("id", flat=True).first()
    waiting = SyncAttempt.objects.filter(NEEDS_PERSON, job=job).count()
    lines = [f"{count} new failure{'s' if count > 1 else ''} of {job.title} wait for a person ({waiting} waiting in all)."]
    lines += [f"• {g['remote_code'] or '(no code)'}: {g['remote_message'][:200]} ({g['n']})" for g in groups]
    lines.append(_link(reverse("admin:syncs_syncattempt_changelist") + f"?attention=waiting&job__id__exact={job.pk}"))
    return [(AlertKind.FAILURES, job.name, newest, "\n".join(lines))]


def _staleness(now) -> list[tuple]:
    due = [(AlertKind.STALE, f"job:{stale.job.name}", None,
            f"{stale.job.title} has not finished a run since {timezone.localtime(stale.finished):%Y-%m-%d %H:%M %Z} "
            f"(it runs every {stale.interval}). Is a worker running it?\n"
            + _link(reverse("admin:syncs_syncjob_change", args=[stale.job.pk])))
           for stale in stale_jobs(now=now)]
    tick = beat_last_tick()
    if tick is None or now - tick > BEAT_STALE_AFTER:
        when = f"since {timezone.localtime(tick):%Y-%m-%d %H:%M %Z}" if tick else "ever"
        due.append((AlertKind.STALE, "beat", None, f"The sweeper has not run {when}: the beat or every worker is down, "
                                                   "so scheduled runs and retries wait.\n" + _link("/healthz")))
    return due


def _credential_refusals(now) -> list[tuple]:
    since = now - timedelta(minutes=settings.HUB_ALERT_REPEAT_MINUTES)
    refusals: dict[str, str] = {}
    for breaker in CircuitBreaker.objects.filter(last_fault_at__gte=since):
        if breaker.last_fault_code.lower() in CREDENTIAL_CODES:
            refusals[breaker.get_system_display()] = f"{breaker.last_fault_code}: {breaker.last_fault_message}"
    codes = {code for code in SyncAttempt.objects.filter(created_at__gte=since).exclude(remote_code="")
             .values_list("remote_code", flat=True).distinct()[:200] if code.lower() in CREDENTIAL_CODES}
    for attempt in SyncAttempt.objects.filter(created_at__gte=since, remote_code__in=codes).select_related("job").order_by("-id")[:50]:
        refusals.setdefault(attempt.job.get_target_system_display(), f"{attempt.remote_code}: {attempt.remote_message}")
    for run in SyncRun.objects.filter(finished_at__gte=since, outcome=RunOutcome.FAILED).select_related("job")[:200]:
        words = {word.strip(":.,()").lower() for word in run.message.split()}
        if words & CREDENTIAL_CODES:
            system = "Salesforce" if "Salesforce" in run.message else run.job.get_target_system_display()
            refusals.setdefault(system, run.message[:300])
    return [(AlertKind.CREDENTIALS, f"system:{system}", None,
             f"{system} refuses the hub's credentials: {detail}\nNothing reaches {system} until a person renews the "
             "secret, key or permission; retries change nothing.")
            for system, detail in sorted(refusals.items())]


# --- sending ----------------------------------------------------------------------------------------------------------

def _send_if(due: list[tuple], now, *, repeat: bool = True) -> list[AlertSent]:
    sent = []
    for kind, subject, last_attempt_id, text in due:
        if kind != AlertKind.FAILURES and repeat:
            latest = AlertSent.objects.filter(kind=kind, subject=subject).order_by("-sent_at").first()
            if latest and now - latest.sent_at < timedelta(minutes=settings.HUB_ALERT_REPEAT_MINUTES):
                continue   # told already; told again if it lasts
        if _deliver(kind, text):
            sent.append(AlertSent.objects.create(kind=kind, subject=subject, sent_at=now, last_attempt_id=last_attempt_id,
                                                 text=text))
    return sent


def _deliver(kind: str, text: str) -> bool:
    """Email to the people who chose this kind, and the webhook. True if it reached anyone (else it is tried again
    at the next check)."""
    delivered = False
    recipients = list(AlertSubscription.objects.filter(**{kind: True}, user__is_active=True).exclude(user__email="")
                      .values_list("user__email", flat=True))
    subject = f"[Integration Hub] {AlertKind(kind).label.split(' (')[0]}"
    if recipients:
        try:
            send_mass_mail([(subject, text, settings.DEFAULT_FROM_EMAIL, [email]) for email in recipients])
            delivered = True
        except OSError:
            logger.exception("Alert email failed")
    if settings.HUB_ALERT_WEBHOOK_URL:
        try:
            # Slack's incoming webhooks (and Mattermost's, Teams' workflows) take {"text": ...}.
            # Reference: https://api.slack.com/messaging/webhooks
            response = requests.post(settings.HUB_ALERT_WEBHOOK_URL, json={"text": f"*{subject}*\n{text}"}, timeout=10)
            response.raise_for_status()
            delivered = True
        except requests.RequestException:
            logger.exception("Alert webhook failed")
    return delivered


def _link(path: str) -> str:
    return (settings.HUB_BASE_URL.rstrip("/") + path) if settings.HUB_BASE_URL else path
