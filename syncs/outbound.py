"""Salesforce Outbound Messages: Salesforce says which records changed, within seconds, and the hub pushes them.

Reference: https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_om_outboundmessaging_notifications.htm
(at least once, possibly more than once and out of order, retried for 24 hours until acknowledged), the message's
WSDL (https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html) and
"Important Security Considerations" (sforce_api_om_outboundmessaging_security.htm: check the organization id).

A message is refused unless it comes with the hub's token and the org's id. Each notification is recorded once by its
id; one older than a change of the same record the hub already heard of is kept as stale and asks for nothing. For
the rest, each push job the object concerns gets a NotifiedChange, and after the commit (only then is the message
acknowledged) a run of that job restricted to its notified changes is enqueued. The run reads the records again from
Salesforce: what the message carried is never written anywhere. The beat's schedule stays the safety net.

Change Data Capture over the Pub/Sub API would be a second source of the same NotifiedChange rows (docs/production.md).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone as dt_timezone

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from xml.etree.ElementTree import ParseError

from .attempts import PARENT_WAIT_CODES, attempts_retry
from .clients.errors import RemoteError
from .engine import job_idle
from .jobs.registry import job_specs
from .models import (AttemptStatus, NotifiedChange, OutboundNotification, RecordLink, RunOutcome, SALESFORCE_ID,
                     SyncAttempt, SyncJob, SyncRun, salesforce_id_18)

logger = logging.getLogger(__name__)
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# The record's own change time, in the order the hub prefers it when the message carries both.
CHANGE_FIELDS = ("LastModifiedDate", "SystemModstamp")
# A run that finds the job busy, or records held for a parent on its way, asks again after 0.5 s, 0.75 s, 1.1 s …
# (half as long again each time, at most 30 s): about two minutes in all, then the sweeper's minute takes over.
FOLLOW_UP_TRIES = 14


class MessageRefused(Exception):
    """Not a message the hub takes: answered with a SOAP fault and no Ack (Salesforce keeps it and tries again)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@dataclass
class Notification:
    notification_id: str
    object_type: str
    salesforce_id: str
    changed_at: datetime | None
    fields: dict = field(default_factory=dict)


@dataclass
class OutboundMessage:
    organization_id: str
    action_id: str
    notifications: list[Notification]


# --- the message ----------------------------------------------------------------------------------------------------

def outbound_message_parse(body: bytes) -> OutboundMessage:
    """Read a `notifications` envelope. A DTD, an entity or an external reference is refused before anything is read
    (an XML bomb, an external entity): Salesforce never sends one."""
    try:
        root = ElementTree.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as refused:
        raise MessageRefused(400, f"The message declares what the hub never reads ({type(refused).__name__}).") from None
    except ParseError as error:
        raise MessageRefused(400, f"The message is not XML: {error}") from None
    message = root.find(f"{{{SOAP_NS}}}Body/{{{OUTBOUND_NS}}}notifications")
    if root.tag != f"{{{SOAP_NS}}}Envelope" or message is None:
        raise MessageRefused(400, "Not a SOAP envelope with a notifications body.")
    notifications = []
    for element in message.findall(f"{{{OUTBOUND_NS}}}Notification"):
        sobject = element.find(f"{{{OUTBOUND_NS}}}sObject")
        notification_id = (element.findtext(f"{{{OUTBOUND_NS}}}Id") or "").strip()
        if sobject is None or not SALESFORCE_ID.match(notification_id):
            raise MessageRefused(400, "A Notification without an Id or an sObject.")
        object_type = (sobject.get(f"{{{XSI_NS}}}type") or "").rpartition(":")[2]
        values = {child.tag.rpartition("}")[2]: (child.text or "") for child in sobject}
        record_id = values.get("Id", "").strip()
        if not object_type or not SALESFORCE_ID.match(record_id):
            raise MessageRefused(400, f"Notification {notification_id} names no record.")
        changed = next((values[name] for name in CHANGE_FIELDS if values.get(name)), "")
        notifications.append(Notification(notification_id=notification_id, object_type=object_type,
                                          salesforce_id=salesforce_id_18(record_id), changed_at=_datetime(changed),
                                          fields=values))
    return OutboundMessage(organization_id=(message.findtext(f"{{{OUTBOUND_NS}}}OrganizationId") or "").strip(),
                           action_id=(message.findtext(f"{{{OUTBOUND_NS}}}ActionId") or "").strip(),
                           notifications=notifications)


def _datetime(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt_timezone.utc)


def ack_envelope(acknowledged: bool = True) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body>'
            f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>{"true" if acknowledged else "false"}</Ack>'
            '</notificationsResponse></soapenv:Body></soapenv:Envelope>').encode()


def fault_envelope(reason: str) -> bytes:
    from xml.sax.saxutils import escape

    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body><soapenv:Fault>'
            f'<faultcode>soapenv:Client</faultcode><faultstring>{escape(reason)}</faultstring>'
            '</soapenv:Fault></soapenv:Body></soapenv:Envelope>').encode()


# --- the org --------------------------------------------------------------------------------------------------------

_learned_organization_id = ""


def organization_id() -> str:
    """The org the hub syncs, as an 18-character id: SALESFORCE_ORGANIZATION_ID (15 or 18 characters, as Setup's
    Company Information shows it), or else asked of Salesforce once per process (the Organization record)."""
    global _learned_organization_id
    configured = settings.SALESFORCE.get("ORGANIZATION_ID") or _learned_organization_id
    if not configured:
        from .clients.salesforce import salesforce_client

        # Reference: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_organization.htm
        records = salesforce_client().query_all("SELECT Id FROM Organization LIMIT 1")
        configured = _learned_organization_id = records[0]["Id"] if records else ""
    return _id_18(configured)


def _id_18(value: str) -> str:
    """15 and 18 character forms of one id compare equal; the 15 characters are case-sensitive, the suffix is not."""
    value = salesforce_id_18((value or "").strip())
    return value[:15] + value[15:].upper()


# --- receiving ------------------------------------------------------------------------------------------------------

def outbound_message_receive(*, body: bytes) -> OutboundMessage:
    """Check, record and act on one outbound message; returns it once everything is committed (then, and only then,
    may the caller acknowledge it). Raises MessageRefused, having written nothing."""
    message = outbound_message_parse(body)
    try:
        expected = organization_id()
    except RemoteError as error:
        raise MessageRefused(503, f"The hub cannot tell its org's id now ({error.code}); try again.") from None
    if not message.organization_id or _id_18(message.organization_id) != expected:
        raise MessageRefused(403, "The message comes from another organization.")
    now = timezone.now()
    with transaction.atomic():
        fresh = _notifications_record(message, now)
        jobs = _changes_request(fresh, now)
        for job_name in sorted(jobs):
            transaction.on_commit(lambda name=job_name: _enqueue(name, tries=0))
    logger.info("Outbound message %s: %s notifications, %s new, for %s", message.action_id,
                len(message.notifications), len(fresh), ", ".join(sorted(jobs)) or "no job")
    return message


def _notifications_record(message: OutboundMessage, now) -> list[OutboundNotification]:
    """The notifications not seen before, recorded (stale ones marked so). Returns the new, live ones."""
    by_id = {n.notification_id: n for n in message.notifications}
    known = set(OutboundNotification.objects.filter(notification_id__in=list(by_id)).values_list("notification_id", flat=True))
    new = [n for n in by_id.values() if n.notification_id not in known]
    if not new:
        return []
    newest = {(row["object_type"], row["salesforce_id"]): row["newest"] for row in OutboundNotification.objects.filter(
        salesforce_id__in={n.salesforce_id for n in new}, stale=False).values("object_type", "salesforce_id")
        .annotate(newest=Max("changed_at"))}
    rows = []
    for n in new:
        heard = newest.get((n.object_type, n.salesforce_id))
        # Out of order: a newer change of this record was heard of (and asked for) already.
        stale = bool(n.changed_at and heard and n.changed_at < heard)
        rows.append(OutboundNotification(
            notification_id=n.notification_id, organization_id=_id_18(message.organization_id),
            action_id=message.action_id[:18], object_type=n.object_type[:64], salesforce_id=n.salesforce_id,
            changed_at=n.changed_at, received_at=now, stale=stale, fields={k: v[:255] for k, v in n.fields.items()}))
    # A duplicate delivered at the same moment by another request is ignored by the unique notification id.
    OutboundNotification.objects.bulk_create(rows, ignore_conflicts=True)
    return list(OutboundNotification.objects.filter(notification_id__in=[r.notification_id for r in rows], stale=False,
                                                    received_at=now))


def _changes_request(notifications: list[OutboundNotification], now) -> set[str]:
    """A NotifiedChange for each enabled push job each notification concerns; returns the jobs' names."""
    if not notifications:
        return set()
    enabled = dict(SyncJob.objects.filter(enabled=True).values_list("name", "pk"))
    concerned = {}
    for spec in job_specs():
        for object_type in getattr(spec, "notified_by", ()):
            if spec.name in enabled:
                concerned.setdefault(object_type, []).append(spec.name)
    changes = [NotifiedChange(job_id=enabled[name], notification=n, object_type=n.object_type,
                              salesforce_id=n.salesforce_id, requested_at=now)
               for n in notifications for name in concerned.get(n.object_type, [])]
    NotifiedChange.objects.bulk_create(changes)
    return {name for n in notifications for name in concerned.get(n.object_type, [])}


def _enqueue(job_name: str, *, tries: int, countdown: float = 0) -> None:
    from .tasks import push_notified_changes

    push_notified_changes.apply_async(args=[job_name], kwargs={"tries": tries}, countdown=countdown)


# --- the restricted run ---------------------------------------------------------------------------------------------

def notified_changes_push(*, job_name: str, tries: int = 0) -> SyncRun | None:
    """Run the job restricted to what was notified (and the tries of it that are due), if anything waits. A job
    another run holds is asked again shortly: the notified changes wait in the database meanwhile, and the running
    run takes them too once its sweep is done. Records held back for a parent still on its way are seen through the
    same way, so that a contact notified with its account lands seconds after it, not at the next sweep."""
    from .services import sync_run

    job = SyncJob.objects.get(name=job_name)
    now = timezone.now()
    _hasten_children_of_linked_parents(job, now)
    waiting = NotifiedChange.objects.filter(job=job, taken_at__isnull=True).exists()
    due = SyncAttempt.objects.filter(job=job, status=AttemptStatus.PENDING, superseded=False,
                                     next_attempt_at__lte=now).exists()
    run = None
    if (waiting or due) and not SyncJob.objects.filter(job_idle(now), pk=job.pk).exists():
        return _follow_up(job_name, tries, None)   # no run row for each knock on a busy job's door
    if waiting or due:
        run = sync_run(job_name=job_name, trigger=SyncRun.Trigger.OUTBOUND)
        if run.outcome == RunOutcome.SKIPPED and job.enabled:
            return _follow_up(job_name, tries, run)
    if _held_for_parents(job).exists():
        return _follow_up(job_name, tries, run)
    return run


def _held_for_parents(job: SyncJob):
    """This job's records that wait for their parent: a try due later, or one that failed for want of it."""
    return SyncAttempt.objects.filter(
        Q(status=AttemptStatus.PENDING) | Q(status=AttemptStatus.FAILED, remote_code__in=PARENT_WAIT_CODES,
                                            resolved_at__isnull=True),
        job=job, superseded=False).exclude(waiting_on="")


def _follow_up(job_name: str, tries: int, run: SyncRun | None) -> SyncRun | None:
    if tries < FOLLOW_UP_TRIES:
        _enqueue(job_name, tries=tries + 1, countdown=min(0.5 * 1.5 ** tries, 30))
    # Past that, the sweeper (every minute) and the schedule take over.
    return run


def _hasten_children_of_linked_parents(job: SyncJob, now) -> int:
    """This job's records waiting for a parent that is now in NetSuite go at once: a try due later is due now, and
    one that failed for want of its parent (the two were notified together and the child went first) gets its new
    try now rather than at the next sweep."""
    held = _held_for_parents(job)
    parents = set(held.values_list("waiting_on", flat=True))
    if not parents:
        return 0
    linked = RecordLink.objects.filter(salesforce_id__in=parents).exclude(netsuite_internal_id="").values("salesforce_id")
    ready = held.filter(waiting_on__in=linked)
    hastened = ready.filter(status=AttemptStatus.PENDING, next_attempt_at__gt=now).update(next_attempt_at=now)
    failed = list(ready.filter(status=AttemptStatus.FAILED).values_list("pk", flat=True))
    return hastened + (len(attempts_retry(attempt_ids=failed)) if failed else 0)


def notified_jobs_overdue(now) -> list[str]:
    """Jobs whose notified changes have waited over a minute (a lost task): for the sweeper."""
    return sorted(set(NotifiedChange.objects.filter(taken_at__isnull=True, requested_at__lt=now - timedelta(minutes=1))
                      .values_list("job__name", flat=True)))
