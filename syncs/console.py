"""The console's own pages inside the admin: the health dashboard, run now, watermark reset, mapping preview and
history, and finance's commission queue. Every change goes through a service (the same ones tasks and commands use)
and is recorded as a LogEntry."""
import json
from datetime import datetime, time, timedelta, timezone as dt_timezone

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from mappings.models import FieldMapping, MasterRule, ValueMapping
from mappings.services import BASELINE_REASON

from . import selectors, services
from .models import AlertSubscription, SyncAttempt, SyncJob, SyncRun
from .previews import mapping_preview
from .selectors import commission_job_names

CHART_WIDTH, CHART_HEIGHT, CHART_LEFT, CHART_BOTTOM = 1100, 190, 44, 22


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str) if value is not None else ""


def log_change(request, obj, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=request.user.pk, queryset=[obj], action_flag=CHANGE, change_message=message, single_object=True
    )


def humanize_lag(lag: timedelta | None) -> str:
    if lag is None:
        return "—"
    seconds = int(lag.total_seconds())
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    return f"{seconds // 86400} days"


def dashboard_context(request) -> dict:
    counts = selectors.waiting_counts()
    health = selectors.job_health_list(counts=counts)
    return {"health": [{"row": row, "lag": humanize_lag(row.lag)} for row in health],
            "chart": outcome_chart(selectors.outcomes_per_day()),
            "failure_groups": selectors.failure_groups(counts=counts),
            "waiting_total": sum(row.needs_person for row in health),
            "breakers": selectors.breaker_states(),
            "can_run": request.user.has_perm("syncs.change_syncjob"),
            "can_see_commissions": request.user.has_perm("syncs.retry_commission_attempt") or request.user.has_perm("syncs.view_syncattempt")}


def outcome_chart(days: list[selectors.DailyOutcomes]) -> dict:
    """One pair of bars a day (succeeded, failed) as SVG geometry; the template draws it. Failures are usually a
    sliver of the successes, so a day with any keeps a bar tall enough to see, and every bar carries its number."""
    plot_height = CHART_HEIGHT - CHART_BOTTOM - 24
    base = 18 + plot_height
    peak = max([max(day.succeeded, day.failed) for day in days] + [1])
    scale_top = _nice_ceiling(peak)
    slot = (CHART_WIDTH - CHART_LEFT - 10) / max(len(days), 1)
    bar = min(48.0, slot * 0.3)
    groups = []
    for index, day in enumerate(days):
        x = CHART_LEFT + index * slot + (slot - 2 * bar - 4) / 2
        bars = []
        for kind, count, offset in (("ok", day.succeeded, 0), ("bad", day.failed, bar + 4)):
            height = count / scale_top * plot_height
            if count:
                height = max(height, 4)
            bars.append({"kind": kind, "x": round(x + offset, 2), "y": round(base - height, 2), "width": round(bar, 2),
                         "height": round(height, 2), "count": count, "label_x": round(x + offset + bar / 2, 2),
                         "label_y": round(base - height - 4, 2)})
        groups.append({"bars": bars, "label": f"{day.day:%a %d %b}", "label_x": round(CHART_LEFT + index * slot + slot / 2, 2),
                       "title": f"{day.day:%a %d %b %Y}: {day.succeeded} succeeded, {day.failed} failed"})
    grid = [{"y": round(base - plot_height * f, 2), "label": int(scale_top * f)} for f in (0, 0.5, 1)]
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": CHART_LEFT, "right": CHART_WIDTH - 10,
            "bottom": base, "days": groups, "grid": grid,
            "succeeded": sum(d.succeeded for d in days), "failed": sum(d.failed for d in days)}


def _nice_ceiling(value: int) -> int:
    for candidate in (2, 4, 10, 20, 40, 100, 200, 400, 1000, 2000, 4000, 10000, 20000, 40000, 100000, 200000, 400000,
                      1000000, 2000000, 4000000, 10000000):
        if value <= candidate:
            return candidate
    return value


# --- jobs ---------------------------------------------------------------------------------------------------------


def run_now_view(model_admin, request, object_id):
    job = get_object_or_404(SyncJob, pk=object_id)
    if not request.user.has_perm("syncs.change_syncjob"):
        raise PermissionDenied
    if request.method == "POST":
        with transaction.atomic():
            services.sync_run_enqueue(job_name=job.name, trigger=SyncRun.Trigger.MANUAL)
            log_change(request, job, "Run now requested.")
        messages.success(request, f"A run of {job.title} was handed to the workers. Its result appears under Runs.")
        return redirect(reverse("admin:syncs_syncjob_change", args=[job.pk]))
    return TemplateResponse(request, "admin/syncs/syncjob/run_now.html", {
        **model_admin.admin_site.each_context(request), "opts": SyncJob._meta, "job": job, "title": f"Run {job.title} now?",
        "disabled": not job.enabled,
    })


class WatermarkResetForm(forms.Form):
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            help_text="The next run reads every change from the start of this day (UTC). Empty: everything.")
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def since_timestamp(self) -> datetime | None:
        day = self.cleaned_data["since"]
        return datetime.combine(day, time.min, tzinfo=dt_timezone.utc) if day else None


def watermark_view(model_admin, request, object_id):
    job = get_object_or_404(SyncJob, pk=object_id)
    if not request.user.has_perm("syncs.change_syncjob"):
        raise PermissionDenied
    form = WatermarkResetForm(request.POST or None)
    context = {**model_admin.admin_site.each_context(request), "opts": SyncJob._meta, "job": job, "form": form,
               "title": f"Reset the watermark of {job.title}"}
    if request.method == "POST" and form.is_valid():
        since = form.since_timestamp()
        if not form.cleaned_data["confirmed"]:
            context.update(confirming=True, since=since)
            return TemplateResponse(request, "admin/syncs/syncjob/watermark.html", context)
        try:
            with transaction.atomic():
                before, _ = services.watermark_reset(job_name=job.name, timestamp=since)
                log_change(request, job, f"Watermark reset from {before.isoformat() if before else 'none'} to "
                                         f"{since.isoformat() if since else 'none (read everything)'}.")
        except services.WatermarkBusy as busy:
            messages.error(request, str(busy))
            return redirect(reverse("admin:syncs_syncjob_change", args=[job.pk]))
        messages.success(request, f"The watermark of {job.title} is now {since:%Y-%m-%d %H:%M} UTC; the next run re-reads from there."
                         if since else f"The watermark of {job.title} is cleared; the next run re-reads everything.")
        return redirect(reverse("admin:syncs_syncjob_change", args=[job.pk]))
    return TemplateResponse(request, "admin/syncs/syncjob/watermark.html", context)


class PreviewForm(forms.Form):
    record_id = forms.CharField(required=False, max_length=18, label="Record id",
                                help_text="A Salesforce id (push jobs) or a NetSuite internal id (pull jobs). Empty: the most "
                                          "recently changed record that qualifies (push) or the next one the job would read (pull).")


def preview_view(model_admin, request, object_id):
    job = get_object_or_404(SyncJob, pk=object_id)
    if not request.user.has_perm("mappings.change_fieldmapping"):
        raise PermissionDenied
    form = PreviewForm(request.GET or None)
    preview = None
    if "record_id" in request.GET and form.is_valid():
        preview = mapping_preview(job_name=job.name, record_id=form.cleaned_data["record_id"])
    return TemplateResponse(request, "admin/syncs/syncjob/preview.html", {
        **model_admin.admin_site.each_context(request), "opts": SyncJob._meta, "job": job, "form": form, "preview": preview,
        "source_json": pretty_json(preview.source_record) if preview else "",
        "payload_json": pretty_json(preview.payload) if preview else "",
        "title": f"Dry-run preview: {job.title}",
    })


def mapping_history_view(model_admin, request, object_id=None):
    if not request.user.has_perm("mappings.view_fieldmapping"):
        raise PermissionDenied
    job = get_object_or_404(SyncJob, pk=object_id) if object_id else None
    histories = FieldMapping.history.select_related("history_user", "job")
    if job:
        histories = histories.filter(job=job)
    changes = _history_changes(histories[:200], "Field mapping")
    if not job:
        changes += _history_changes(ValueMapping.history.select_related("history_user")[:200], "Value mapping")
        changes += _history_changes(MasterRule.history.select_related("history_user")[:100], "Master rule")
        changes.sort(key=lambda change: change["when"], reverse=True)
    return TemplateResponse(request, "admin/syncs/mapping_history.html", {
        **model_admin.admin_site.each_context(request), "opts": SyncJob._meta, "job": job, "changes": changes,
        "title": f"Mapping history: {job.title}" if job else "Mapping history",
    })


def _history_changes(records, kind: str) -> list[dict]:
    changes = []
    for record in records:
        previous = record.prev_record
        model_fields = {f.name: f for f in record.instance_type._meta.fields}
        if record.history_type == "~" and previous is not None:
            delta = record.diff_against(previous)
            fields = [{"field": _label(model_fields, c.field), "before": c.old, "after": c.new} for c in delta.changes]
        elif record.history_type == "+":
            fields = [{"field": _label(model_fields, f.name), "before": "", "after": _shown(record, f)}
                      for f in model_fields.values() if f.name != "id"]
        else:
            fields = []
        # The baseline written just before a seeded row's first edit is its state as installed, not someone's creation.
        baseline = record.history_type == "+" and record.history_change_reason == BASELINE_REASON
        changes.append({"when": record.history_date, "who": None if baseline else record.history_user, "kind": kind,
                        "action": "as installed" if baseline else {"+": "created", "~": "changed", "-": "deleted"}[record.history_type],
                        "what": str(record.instance), "fields": fields})
    return changes


def _label(model_fields: dict, name: str) -> str:
    field = model_fields.get(name)
    return str(field.verbose_name) if field is not None else name.replace("_", " ")


def _shown(record, field) -> str:
    if field.is_relation:
        related = getattr(record, field.name, None)
        return str(related) if related is not None else ""
    return getattr(record, field.attname)


# --- finance ------------------------------------------------------------------------------------------------------


class CommissionNoteForm(forms.Form):
    attempt = forms.IntegerField(widget=forms.HiddenInput)
    note = forms.CharField(max_length=1000, widget=forms.TextInput(attrs={"placeholder": "Add a note…", "size": 28}))


def commission_queue_view(model_admin, request):
    user = request.user
    may_retry = user.has_perm("syncs.retry_commission_attempt")
    if not (may_retry or user.has_perm("syncs.view_syncattempt")):
        raise PermissionDenied
    if request.method == "POST":
        if not may_retry:
            raise PermissionDenied
        if "retry" in request.POST:
            ids = [int(i) for i in request.POST.getlist("attempt") if i.isdigit()]
            retry_attempts(request, selectors.commission_attempt_ids(attempt_ids=ids))
        elif "note" in request.POST:
            form = CommissionNoteForm(request.POST)
            if form.is_valid():
                attempt = get_object_or_404(SyncAttempt, pk=form.cleaned_data["attempt"], job__name__in=commission_job_names())
                with transaction.atomic():
                    services.attempt_note_add(attempt_id=attempt.pk, user=user, note=form.cleaned_data["note"])
                    log_change(request, attempt, f"Note added: {form.cleaned_data['note']}")
                messages.success(request, f"Note added to {attempt.record_name or attempt.salesforce_id}.")
        return redirect(reverse("admin:syncs_syncattempt_commissions"))
    return TemplateResponse(request, "admin/syncs/commission_queue.html", {
        **model_admin.admin_site.each_context(request), "opts": SyncAttempt._meta, "records": selectors.commission_queue(),
        "may_retry": may_retry, "title": "Commission records needing attention",
    })


def retry_attempts(request, attempt_ids: list[int]) -> int:
    """Retry from the queue or from the attempts list: only commission records unless the user may retry any."""
    attempts = SyncAttempt.objects.filter(id__in=attempt_ids)
    if not request.user.has_perm("syncs.change_syncattempt"):
        attempts = attempts.filter(job__name__in=commission_job_names())
    targets = {a.pk: a for a in attempts}
    with transaction.atomic():
        retried = services.attempts_retry_now(attempt_ids=list(targets))
        for new in retried:
            old = next((a for a in targets.values() if a.job_id == new.job_id and a.salesforce_id == new.salesforce_id
                        and a.netsuite_internal_id == new.netsuite_internal_id), None)
            if old is not None:
                log_change(request, old, f"Retried: try #{new.attempt_number} queued.")
    skipped = len(attempt_ids) - len(retried)
    if retried:
        messages.success(request, f"{len(retried)} record(s) queued for another try; the job runs as soon as a worker is free.")
    if skipped:
        messages.warning(request, f"{skipped} selected attempt(s) were not retried: only failed or dead attempts that no later "
                                  "try replaced can be retried" + ("" if request.user.has_perm("syncs.change_syncattempt")
                                                                   else ", and only commission records"))
    return len(retried)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=None, required=False, empty_label="nobody", label="Assigned to")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = get_user_model().objects.filter(is_active=True, is_staff=True).order_by("username")


def assign_attempts(request, attempt_ids: list[int], assignee) -> int:
    with transaction.atomic():
        count = services.attempts_assign(attempt_ids=attempt_ids, assignee=assignee)
        for attempt in SyncAttempt.objects.filter(id__in=attempt_ids):
            log_change(request, attempt, f"Assigned to {assignee.get_username() if assignee else 'nobody'}.")
    return count


class ResolveForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), max_length=2000,
                           label="Reason", help_text="Why no further try is needed, e.g. 'fixed by hand in NetSuite'.")


def resolve_attempts(request, attempt_ids: list[int], note: str) -> int:
    attempts = list(SyncAttempt.objects.filter(id__in=attempt_ids, resolved_at__isnull=True))
    with transaction.atomic():
        resolved = services.attempts_resolve(attempt_ids=attempt_ids, user=request.user, note=note)
        for attempt in SyncAttempt.objects.filter(id__in=[a.pk for a in attempts], resolved_by=request.user, resolved_at__isnull=False):
            log_change(request, attempt, f"Marked resolved: {note}")
    return resolved


# --- alerts -------------------------------------------------------------------------------------------------------


class AlertChoicesForm(forms.ModelForm):
    email = forms.EmailField(required=False, help_text="Where your alerts go.")

    class Meta:
        model = AlertSubscription
        fields = ["failures", "stale", "credentials", "reconciliation"]


def my_alerts_view(model_admin, request):
    if not request.user.has_perm("syncs.view_syncjob"):
        raise PermissionDenied
    subscription, _ = AlertSubscription.objects.get_or_create(user=request.user)
    form = AlertChoicesForm(request.POST or None, instance=subscription, initial={"email": request.user.email})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            services.alert_choices_save(user=request.user, email=form.cleaned_data["email"],
                                        kinds={kind: form.cleaned_data[kind] for kind in AlertChoicesForm.Meta.fields})
        messages.success(request, "Your alert choices are saved.")
        return redirect(reverse("admin:syncs_alerts_mine"))
    return TemplateResponse(request, "admin/syncs/my_alerts.html", {
        **model_admin.admin_site.each_context(request), "opts": SyncJob._meta, "form": form,
        "webhook": bool(settings.HUB_ALERT_WEBHOOK_URL), "title": "My alerts",
    })
