import csv

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator

from mappings.admin import FieldMappingInline
from mappings.services import mapping_history_baseline

from . import console, selectors
from .models import (SALESFORCE_ID, AttemptStatus, OutboundNotification, RecordLink, SyncAttempt, SyncJob, SyncRun,
                     salesforce_id_18)

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    @cached_property
    def count(self):
        return self.object_list.order_by()[:COUNT_CAP + 1].count()


class NeedsPersonFilter(admin.SimpleListFilter):
    title = "attention"
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("waiting", "Waiting for a person"), ("mine", "Waiting, assigned to me"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(selectors.NEEDS_PERSON)
        if self.value() == "mine":
            return queryset.filter(selectors.NEEDS_PERSON, assigned_to=request.user)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class RemoteCodeFilter(admin.SimpleListFilter):
    title = "error code"
    parameter_name = "remote_code"

    def lookups(self, request, model_admin):
        return [(code, code) for code in selectors.error_codes(limit=60)]

    def queryset(self, request, queryset):
        return queryset.filter(remote_code=self.value()) if self.value() else queryset


class CsvExportMixin:
    """An "Export as CSV" of the changelist as filtered and searched, streamed, up to CSV_EXPORT_CAP rows."""

    csv_fields: tuple = ()

    def csv_export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = changelist.get_queryset(request).select_related(*self.list_select_related)[:CSV_EXPORT_CAP]
        writer = csv.writer(_Echo())
        header = [field.replace("__", " ") for field in self.csv_fields]

        def lines():
            yield writer.writerow(header)
            for row in rows.iterator(chunk_size=2000):
                yield writer.writerow([_csv_value(row, field) for field in self.csv_fields])

        name = f"{self.model._meta.model_name}s-{timezone.now():%Y%m%d-%H%M}.csv"
        return StreamingHttpResponse(lines(), content_type="text/csv",
                                     headers={"Content-Disposition": f'attachment; filename="{name}"'})

    def changelist_view(self, request, extra_context=None):
        query = request.GET.copy()
        query.pop("p", None)
        extra_context = {**(extra_context or {}), "csv_query": query.urlencode()}
        return super().changelist_view(request, extra_context)


CSV_EXPORT_CAP = 100_000


class ReadOnlyAdminMixin:
    """What the hub records and people only read: no add, change or delete in the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SalesforceIdSearchMixin:
    """A 15-character Salesforce id typed in the search box finds the record stored under its 18-character id."""

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if SALESFORCE_ID.match(term):
            term = salesforce_id_18(term)
        return super().get_search_results(request, queryset, term)


class _Echo:
    def write(self, value):
        return value


def _csv_value(row, field: str):
    value = row
    for part in field.split("__"):
        value = getattr(value, part, None) if value is not None else None
    if hasattr(value, "isoformat"):
        return timezone.localtime(value).isoformat() if getattr(value, "tzinfo", None) else value.isoformat()
    return "" if value is None else value


STATUS_COLOURS = {"succeeded": "#1e7e34", "failed": "#b02a37", "dead": "#6f1d1b", "pending": "#996b00", "running": "#0b5394",
                  "retrying": "#c05a00"}


def status_badge(status: str, label: str):
    return format_html('<span class="hub-badge" style="background:{}">{}</span>', STATUS_COLOURS.get(status, "#666"), label)


@admin.register(SyncJob)
class SyncJobAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "direction", "enabled", "batch_size", "stage", "last_outcome", "last_run_finished_at", "watermark_timestamp")
    list_filter = ("direction", "enabled", "last_outcome", "record_type")
    search_fields = ("name", "title")
    readonly_fields = ("name", "direction", "source_system", "source_record_type", "target_system", "target_record_type",
                       "record_type", "watermark_timestamp", "watermark_record_id", "paused_reason",
                       "last_run_started_at", "last_run_finished_at", "last_outcome", "updated_at")
    fieldsets = [
        (None, {"fields": ["name", "title", "description", "enabled", "batch_size", "retry_for_minutes", "stage"]}),
        ("What it moves", {"fields": [("source_system", "source_record_type"), ("target_system", "target_record_type"),
                                      "direction", "record_type"]}),
        ("Watermark and last run", {"fields": [("watermark_timestamp", "watermark_record_id"), "paused_reason",
                                               ("last_run_started_at", "last_run_finished_at"), "last_outcome", "updated_at"]}),
    ]
    inlines = [FieldMappingInline]
    change_form_template = "admin/syncs/syncjob/change_form.html"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:object_id>/run-now/", wrap(lambda r, object_id: console.run_now_view(self, r, object_id)), name="syncs_syncjob_run_now"),
            path("<int:object_id>/watermark/", wrap(lambda r, object_id: console.watermark_view(self, r, object_id)), name="syncs_syncjob_watermark"),
            path("<int:object_id>/preview/", wrap(lambda r, object_id: console.preview_view(self, r, object_id)), name="syncs_syncjob_preview"),
            path("<int:object_id>/mapping-history/", wrap(lambda r, object_id: console.mapping_history_view(self, r, object_id)),
                 name="syncs_syncjob_mapping_history"),
            path("mapping-history/", wrap(lambda r: console.mapping_history_view(self, r)), name="syncs_mapping_history"),
            path("my-alerts/", wrap(lambda r: console.my_alerts_view(self, r)), name="syncs_alerts_mine"),
            *super().get_urls(),
        ]

    def save_formset(self, request, form, formset, change):
        changed = [f.instance.pk for f in formset.initial_forms if f.has_changed() or f in formset.deleted_forms]
        mapping_history_baseline(model=formset.model, ids=changed)
        super().save_formset(request, form, formset, change)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "can_operate": request.user.has_perm("syncs.change_syncjob"),
                         "can_preview": request.user.has_perm("mappings.change_fieldmapping")}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(SyncRun)
class SyncRunAdmin(CsvExportMixin, admin.ModelAdmin):
    list_display = ("job", "started_at", "duration", "outcome_badge", "trigger_label", "records_read", "records_written", "records_failed", "records_skipped")
    csv_fields = ("id", "job__name", "trigger", "dry_run", "started_at", "finished_at", "outcome", "records_read",
                  "records_written", "records_failed", "records_skipped", "message")
    change_list_template = "admin/syncs/export_change_list.html"
    fieldsets = [
        (None, {"fields": [("job", "trigger", "dry_run"), ("started_at", "finished_at", "duration"), "outcome", "message"]}),
        ("Records", {"fields": [("records_read", "records_written", "records_skipped"), "records_failed", "attempts_of_run"]}),
        ("Watermark", {"fields": [("watermark_before_timestamp", "watermark_before_record_id"),
                                  ("watermark_after_timestamp", "watermark_after_record_id")]}),
    ]

    @admin.display(description="duration")
    def duration(self, run):
        if not run.finished_at:
            return "running" if run.outcome == "running" else "—"
        seconds = (run.finished_at - run.started_at).total_seconds()
        return f"{seconds:.1f} s" if seconds < 90 else f"{int(seconds // 60)} min {int(seconds % 60):02d} s"

    @admin.display(description="triggered by", ordering="trigger")
    def trigger_label(self, run):
        return run.get_trigger_display()

    @admin.display(description="attempts")
    def attempts_of_run(self, run):
        base = reverse("admin:syncs_syncattempt_changelist")
        return format_html('<a href="{}?run__id__exact={}" id="run-attempts">All tries of this run</a> · '
                           '<a href="{}?run__id__exact={}&amp;attention=waiting" id="run-failed">{} failed, waiting for a person</a>',
                           base, run.pk, base, run.pk, run.records_failed)

    def get_urls(self):
        return [path("export/", self.admin_site.admin_view(self.csv_export_view), name="syncs_syncrun_export"),
                *super().get_urls()]
    list_filter = ("outcome", "trigger", "dry_run", "job", ("started_at", admin.DateFieldListFilter))
    search_fields = ("job__name", "message")
    list_select_related = ("job",)
    show_full_result_count = False
    paginator = CappedCountPaginator

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="outcome", ordering="outcome")
    def outcome_badge(self, run):
        colour = {"partial": "failed", "failed": "dead", "retrying": "retrying", "not_implemented": "pending", "skipped": "pending",
                  "paused": "pending"}
        return status_badge(colour.get(run.outcome, run.outcome), run.get_outcome_display())

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields] + ["duration", "attempts_of_run"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SyncAttempt)
class SyncAttemptAdmin(CsvExportMixin, admin.ModelAdmin):
    list_display = ("when", "job", "record", "try_number", "triggered", "status_badge", "remote_code", "message", "assignee")
    list_filter = (NeedsPersonFilter, "job", "status", "trigger", "error_kind", RemoteCodeFilter, "record_type",
                   ("created_at", admin.DateFieldListFilter))
    csv_fields = ("id", "created_at", "job__name", "record_type", "record_name", "salesforce_id", "netsuite_internal_id",
                  "netsuite_external_id", "operation", "attempt_number", "status", "error_kind", "remote_code",
                  "remote_message", "superseded", "resolved_at", "resolved_by__username", "assigned_to__username",
                  "finished_at", "duration_ms", "run_id", "trigger")
    change_list_template = "admin/syncs/export_change_list.html"
    search_fields = ("record_name",)
    search_help_text = "A Salesforce id, a NetSuite internal or external id, or the beginning of a name."
    list_select_related = ("job", "assigned_to")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    actions = ["retry_selected", "resolve_selected", "assign_to_me"]
    change_form_template = "admin/syncs/syncattempt/change_form.html"
    fieldsets = [
        (None, {"fields": [("job", "run", "trigger"), ("record_type", "record_name"), ("salesforce_id", "netsuite_internal_id", "netsuite_external_id"),
                           ("operation", "attempt_number", "status"), ("superseded", "verify_before_write", "waiting_on")]}),
        ("Error", {"fields": [("error_kind", "remote_code"), "remote_message"]}),
        ("Resolution", {"fields": [("resolved_at", "resolved_by"), "assigned_to", "resolution_note"]}),
        ("Timing", {"fields": [("created_at", "started_at", "finished_at", "duration_ms"), ("next_attempt_at", "lease_expires_at")]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.status not in (AttemptStatus.PENDING, AttemptStatus.RUNNING):
            # A finished try has no next attempt of its own and holds no lease: those fields would only mislead.
            timing = ("Timing", {"fields": [("created_at", "started_at", "finished_at", "duration_ms")]})
            fieldsets = [timing if name == "Timing" else (name, options) for name, options in fieldsets]
        return fieldsets

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("syncs.change_syncattempt") or request.user.has_perm("syncs.retry_commission_attempt")

    def has_resolve_permission(self, request):
        return request.user.has_perm("syncs.change_syncattempt")

    @admin.display(description="status", ordering="status")
    def status_badge(self, attempt):
        badge = status_badge(attempt.status, attempt.get_status_display())
        if attempt.resolved_at:
            return format_html('{} <span class="hub-quiet">resolved</span>', badge)
        if attempt.superseded:
            return format_html('{} <span class="hub-quiet">replaced</span>', badge)
        return badge

    @admin.display(description="when", ordering="created_at")
    def when(self, attempt):
        return format_html('<span class="nowrap">{}</span>', date_format(timezone.localtime(attempt.created_at), "Y-m-d H:i T"))

    @admin.display(description="record", ordering="record_name")
    def record(self, attempt):
        ids = " · ".join(filter(None, [attempt.salesforce_id, attempt.netsuite_internal_id and f"NS {attempt.netsuite_internal_id}"]))
        return format_html('{}<div class="hub-quiet">{}</div>', attempt.record_name or "—", ids)

    @admin.display(description="triggered by", ordering="trigger")
    def triggered(self, attempt):
        return attempt.get_trigger_display() or "—"

    @admin.display(description="try", ordering="attempt_number")
    def try_number(self, attempt):
        return f"#{attempt.attempt_number}"

    @admin.display(description="message")
    def message(self, attempt):
        return Truncator(attempt.remote_message).chars(160)

    @admin.display(description="assigned", ordering="assigned_to")
    def assignee(self, attempt):
        return attempt.assigned_to.get_username() if attempt.assigned_to_id else ""

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        exact = Q(netsuite_external_id=term)
        if SALESFORCE_ID.match(term):
            # A 15-character id (as a Salesforce page's address shows it) finds the record stored by its 18.
            full = salesforce_id_18(term)
            exact |= Q(salesforce_id=full) | Q(netsuite_external_id=full)
        if term.isdigit():
            exact |= Q(netsuite_internal_id=term)
        return queryset.filter(exact | Q(record_name__istartswith=term)), False

    @admin.action(description="Retry selected records", permissions=["retry"])
    def retry_selected(self, request, queryset):
        console.retry_attempts(request, list(queryset.values_list("id", flat=True)[:1000]))

    def has_assign_permission(self, request):
        return self.has_retry_permission(request)

    @admin.action(description="Assign selected to me", permissions=["assign"])
    def assign_to_me(self, request, queryset):
        count = console.assign_attempts(request, list(queryset.values_list("id", flat=True)[:1000]), request.user)
        self.message_user(request, f"{count} attempt(s) assigned to you; see them under “Waiting, assigned to me”.", messages.SUCCESS)

    @admin.action(description="Mark selected as resolved…", permissions=["resolve"])
    def resolve_selected(self, request, queryset):
        ids = list(queryset.filter(selectors.NEEDS_PERSON).values_list("id", flat=True)[:1000])
        if "apply" in request.POST:
            form = console.ResolveForm(request.POST)
            if form.is_valid():
                resolved = console.resolve_attempts(request, ids, form.cleaned_data["note"])
                self.message_user(request, f"{resolved} attempt(s) marked resolved.", messages.SUCCESS)
                return None
        else:
            form = console.ResolveForm()
        return TemplateResponse(request, "admin/syncs/syncattempt/resolve.html", {
            **self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "ids": ids,
            "attempts": SyncAttempt.objects.filter(id__in=ids).select_related("job")[:50],
            "title": "Mark attempts resolved", "action": "resolve_selected",
        })

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("commissions/", wrap(lambda r: console.commission_queue_view(self, r)), name="syncs_syncattempt_commissions"),
            path("<int:object_id>/retry/", wrap(self.retry_one_view), name="syncs_syncattempt_retry"),
            path("<int:object_id>/resolve/", wrap(self.resolve_one_view), name="syncs_syncattempt_resolve"),
            path("<int:object_id>/assign/", wrap(self.assign_one_view), name="syncs_syncattempt_assign"),
            path("export/", wrap(self.csv_export_view), name="syncs_syncattempt_export"),
            *super().get_urls(),
        ]

    def retry_one_view(self, request, object_id):
        attempt = get_object_or_404(SyncAttempt, pk=object_id)
        allowed = request.user.has_perm("syncs.change_syncattempt") or (
            request.user.has_perm("syncs.retry_commission_attempt") and attempt.job.name in selectors.commission_job_names())
        if request.method != "POST" or not allowed:
            return redirect(reverse("admin:syncs_syncattempt_change", args=[attempt.pk]))
        console.retry_attempts(request, [attempt.pk])
        newest = SyncAttempt.objects.filter(job=attempt.job, salesforce_id=attempt.salesforce_id,
                                            netsuite_internal_id=attempt.netsuite_internal_id).order_by("-id").first()
        return redirect(reverse("admin:syncs_syncattempt_change", args=[newest.pk]))

    def resolve_one_view(self, request, object_id):
        attempt = get_object_or_404(SyncAttempt, pk=object_id)
        if request.method == "POST" and self.has_resolve_permission(request):
            form = console.ResolveForm(request.POST)
            if form.is_valid() and console.resolve_attempts(request, [attempt.pk], form.cleaned_data["note"]):
                self.message_user(request, "Marked resolved.", messages.SUCCESS)
            else:
                self.message_user(request, "Only a failed or dead attempt that no later try replaced can be resolved, with a reason.", messages.ERROR)
        return redirect(reverse("admin:syncs_syncattempt_change", args=[attempt.pk]))

    def assign_one_view(self, request, object_id):
        attempt = get_object_or_404(SyncAttempt, pk=object_id)
        if request.method == "POST" and self.has_assign_permission(request):
            form = console.AssignForm(request.POST)
            if form.is_valid():
                assignee = form.cleaned_data["assignee"]
                console.assign_attempts(request, [attempt.pk], assignee)
                self.message_user(request, f"Assigned to {assignee.get_username()}." if assignee else "Assigned to nobody.", messages.SUCCESS)
        return redirect(reverse("admin:syncs_syncattempt_change", args=[attempt.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        attempt = get_object_or_404(SyncAttempt.objects.select_related("job", "run", "resolved_by", "assigned_to"), pk=object_id)
        story = selectors.record_story(attempt=attempt)
        user = request.user
        waiting = attempt.status in (AttemptStatus.FAILED, AttemptStatus.DEAD) and not attempt.superseded and attempt.resolved_at is None
        extra_context = {
            **(extra_context or {}),
            "attempt": attempt, "story": story,
            "request_json": console.pretty_json(attempt.request_payload),
            "response_json": console.pretty_json(attempt.response_payload),
            "waiting": waiting,
            "can_retry": waiting and (user.has_perm("syncs.change_syncattempt") or (
                user.has_perm("syncs.retry_commission_attempt") and attempt.job.name in selectors.commission_job_names())),
            "can_resolve": waiting and self.has_resolve_permission(request),
            "can_fix_mapping": user.has_perm("mappings.change_fieldmapping"),
            "value_mapping_fix": selectors.value_mapping_fix(attempt=attempt) if waiting or attempt.remote_code else None,
            "resolve_form": console.ResolveForm(),
            "can_assign": self.has_assign_permission(request),
            "assign_form": console.AssignForm(initial={"assignee": attempt.assigned_to_id}),
        }
        return super().change_view(request, object_id, form_url, extra_context)


# The engine's own bookkeeping (ids, content hashes): an edit by hand would make the hub skip or duplicate a record.
@admin.register(RecordLink)
class RecordLinkAdmin(ReadOnlyAdminMixin, SalesforceIdSearchMixin, admin.ModelAdmin):
    list_display = ("record_type", "salesforce_id", "netsuite_record_type", "netsuite_internal_id", "netsuite_external_id", "last_synced_at")
    list_filter = ("record_type", "netsuite_record_type")
    search_fields = ("=salesforce_id", "=netsuite_internal_id", "=netsuite_external_id")
    search_help_text = "A Salesforce id (15 or 18 characters), a NetSuite internal or external id."
    show_full_result_count = False
    paginator = CappedCountPaginator


@admin.register(OutboundNotification)
class OutboundNotificationAdmin(ReadOnlyAdminMixin, SalesforceIdSearchMixin, admin.ModelAdmin):
    list_display = ("received_at", "object_type", "salesforce_id", "changed_at", "stale", "notification_id", "jobs")
    list_filter = ("object_type", "stale", ("received_at", admin.DateFieldListFilter))
    search_fields = ("=salesforce_id", "=notification_id")
    show_full_result_count = False
    paginator = CappedCountPaginator

    @admin.display(description="pushed by")
    def jobs(self, notification):
        return ", ".join(f"{change.job.name} ({'taken' if change.taken_at else 'waiting'})"
                         for change in notification.changes.all()) or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("changes__job")


from . import admin_money  # noqa: E402,F401  (finance's review queue and the reconciliation of amounts)
