"""Finance's review queue: what the hub files for a person in finance to look at, once per cause.

The remittance pull files money that came back (a void, a refund, a credit memo, a delete) and unapplied cash; the
order pushes file an application that lost its funded stage, or was deleted, after its order was in NetSuite; the
reconciliation of amounts files each difference. `cause` is unique: the same void seen by a second run, or the same
difference found again tomorrow, files nothing new.
"""
from __future__ import annotations

from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import money
from .models import FinanceReview, FinanceReviewKind, SyncAttempt, SyncRun


def review_file(*, kind: str, cause: str, summary: str, **fields) -> tuple[FinanceReview, bool]:
    """The open or settled item of this cause, or a new one; (item, created)."""
    cause = cause[:200]
    existing = FinanceReview.objects.filter(cause=cause).first()
    if existing is not None:
        return existing, False
    for name in ("amount_before", "amount_after"):
        if fields.get(name) is not None:
            fields[name] = Decimal(str(round(float(fields[name]), 2)))
    try:
        with transaction.atomic():
            return FinanceReview.objects.create(kind=kind, cause=cause, summary=summary, **fields), True
    except IntegrityError:   # filed meanwhile by another worker
        return FinanceReview.objects.get(cause=cause), False


def review_resolve(*, review_ids: list[int], user, note: str) -> int:
    """Finance settles items, saying how; returns how many were open."""
    now = timezone.now()
    resolved = 0
    with transaction.atomic():
        for review in FinanceReview.objects.select_for_update().filter(pk__in=review_ids, status=FinanceReview.Status.OPEN):
            review.status, review.resolved_at, review.resolved_by = FinanceReview.Status.RESOLVED, now, user
            stamp = f"[{now:%Y-%m-%d %H:%M} {user.get_username()}] {note}".strip()
            review.note = f"{review.note}\n{stamp}" if review.note else stamp
            review.save(update_fields=["status", "resolved_at", "resolved_by", "note"])
            resolved += 1
    return resolved


# --- the remittance pull's items ------------------------------------------------------------------------------------

def reversal_note(change: money.PartChange, record: dict) -> dict:
    """What to file for money that came back, once the totals are known (kept on the remittance's attempt)."""
    part = change.part
    return {"kind": FinanceReviewKind.REVERSAL, "key": part.key, "source_type": part.source_type,
            "source_id": part.source_id, "number": part.number, "application_id": part.application_id,
            "customer": str((record.get("customer") or {}).get("name") or part.customer_id),
            "before": change.before, "after": change.after, "verb": change.verb, "status": part.status,
            "currency": part.currency,
            "cause": f"reversal:{part.key}:{part.status}:{change.after:.2f}"}


def unapplied_note(part: money.RemittancePart, record: dict) -> dict:
    return {"kind": FinanceReviewKind.UNAPPLIED_CASH, "key": part.key, "source_type": part.source_type,
            "source_id": part.source_id, "number": part.number, "application_id": "",
            "customer": str((record.get("customer") or {}).get("name") or part.customer_id),
            "before": None, "after": part.amount, "currency": part.currency,
            "total": money.money(record.get("total")),
            "cause": f"unapplied:{part.key}:{part.amount:.2f}"}


def reviews_file_from_run(*, run: SyncRun, totals: dict[str, dict]) -> list[FinanceReview]:
    """The items a remittance run's changes call for, with the application totals the run left."""
    notes = (SyncAttempt.objects.filter(run=run, request_payload__has_key="review")
             .values_list("request_payload__review", "salesforce_id", "netsuite_internal_id"))
    filed = []
    for note, salesforce_id, key in notes:
        if not note:
            continue
        if not salesforce_id:
            salesforce_id = (SyncAttempt.objects.filter(job=run.job, netsuite_internal_id=key).exclude(salesforce_id="")
                             .values_list("salesforce_id", flat=True).first() or "")
        application = totals.get(note.get("application_id") or "")
        summary = _summary(note, application)
        review, created = review_file(
            kind=note["kind"], cause=note["cause"], summary=summary, application_id=note.get("application_id") or "",
            application_name=(application or {}).get("name", "")[:120], salesforce_record_id=salesforce_id or "",
            netsuite_record_type=note["source_type"], netsuite_internal_id=note["source_id"],
            netsuite_number=note.get("number") or "", amount_before=note.get("before"), amount_after=note.get("after"),
            currency=note.get("currency") or "")
        if created:
            filed.append(review)
    return filed


def _amount(value) -> str:
    return f"{float(value or 0):,.2f}"


def _summary(note: dict, application: dict | None) -> str:
    noun = money.NOUNS.get(note["source_type"], note["source_type"])
    label = f"{noun} {note.get('number') or note['source_id']}"
    if note["kind"] == FinanceReviewKind.UNAPPLIED_CASH:
        return (f"{label}: {_amount(note['after'])} {note.get('currency') or ''} unapplied in NetSuite, recorded on "
                f"the account of {note['customer']} only (remittance {note['key']}); apply it to an invoice in "
                "NetSuite.").replace("  ", " ")
    delta = note["before"] - note["after"]
    where = application["name"] if application else note.get("application_id") or f"the account of {note['customer']}"
    if note["source_type"] == money.CREDIT_MEMO:
        head = f"{label} {note['verb']}: credited on {where} {_amount(note['before'])} → {_amount(note['after'])}"
        if application and application.get("balance") is not None:
            return f"{head}; balance now {_amount(application['balance'])}."
        return head + "."
    head = f"{label} {note['verb']}: remitted on {where} down {_amount(delta)}"
    if application:
        return f"{head} to {_amount(application['remitted'])} (remittance {note['key']}: {_amount(note['before'])} → {_amount(note['after'])})."
    return f"{head} (remittance {note['key']}: {_amount(note['before'])} → {_amount(note['after'])})."


# --- the order pushes' items ----------------------------------------------------------------------------------------

ORDER_NOUNS = {"SalesOrder": "sales order", "PurchaseOrder": "commission purchase order"}


def defunded_file(*, application: dict, record_type: str, link) -> tuple[FinanceReview, bool]:
    """An application that lost its funded stage, or was deleted, after its order was in NetSuite."""
    deleted = bool(application.get("IsDeleted"))
    what = "was deleted in Salesforce" if deleted else f"left the funded stage for {application.get('StageName')}"
    order = ORDER_NOUNS.get(record_type, record_type)
    summary = (f"Application {application.get('Name') or application['Id']} {what} after its {order} "
               f"(NetSuite {link.netsuite_internal_id}) was in NetSuite. The hub does not push the change: NetSuite's "
               f"accounting owns the order now. Close or credit the {order} in NetSuite, or fund the application again.")
    return review_file(kind=FinanceReviewKind.DEFUNDED,
                       cause=f"defunded:{record_type}:{application['Id']}:{'deleted' if deleted else application.get('StageName')}",
                       summary=summary, application_id=application["Id"],
                       application_name=str(application.get("Name") or "")[:120],
                       netsuite_record_type=link.netsuite_record_type, netsuite_internal_id=link.netsuite_internal_id)
