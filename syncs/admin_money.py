from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html_join

from . import finance
from .admin import CappedCountPaginator, CsvExportMixin, ReadOnlyAdminMixin, status_badge
from .models import FinanceReview, ReconciliationDifference, ReconciliationRun


def record_links(salesforce_ids=(), netsuite_ids=()):
    """Links to what the hub holds of the records named: their tries (the record's whole story) and links."""
    attempts = reverse("admin:syncs_syncattempt_changelist")
    links = reverse("admin:syncs_recordlink_changelist")
    items = [(attempts, record_id, f"tries of {record_id}") for record_id in salesforce_ids if record_id]
    items += [(attempts, record_id, f"tries of NetSuite {record_id}") for record_id in netsuite_ids if record_id]
    items += [(links, record_id, f"link of {record_id}") for record_id in salesforce_ids if record_id]
    return format_html_join(" · ", '<a href="{}?q={}">{}</a>', items) or "—"


class FinanceReviewForm(forms.ModelForm):
    resolution = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text="What was done. Saving with a note resolves the item.")

    class Meta:
        model = FinanceReview
        fields = []


@admin.register(FinanceReview)
class FinanceReviewAdmin(CsvExportMixin, admin.ModelAdmin):
    form = FinanceReviewForm
    list_display = ("created_at", "kind", "status_badge", "summary", "application_name", "netsuite_number",
                    "amount_before", "amount_after", "currency")
    list_filter = ("status", "kind", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=application_id", "=salesforce_record_id", "=netsuite_internal_id", "=netsuite_number", "summary")
    search_help_text = "A Salesforce id, a NetSuite internal id or number, or words of the summary."
    csv_fields = ("id", "created_at", "kind", "status", "summary", "application_id", "application_name",
                  "salesforce_record_id", "netsuite_record_type", "netsuite_internal_id", "netsuite_number",
                  "amount_before", "amount_after", "currency", "resolved_at", "resolved_by__username", "note")
    change_list_template = "admin/syncs/export_change_list.html"
    list_select_related = ("resolved_by",)
    paginator = CappedCountPaginator
    actions = ["resolve_selected"]
    fields = ("kind", "status", "summary", ("application_id", "application_name"), "salesforce_record_id",
              ("netsuite_record_type", "netsuite_internal_id", "netsuite_number"), ("amount_before", "amount_after", "currency"),
              "records", "created_at", ("resolved_at", "resolved_by"), "note", "resolution")

    @admin.display(description="status", ordering="status")
    def status_badge(self, review):
        return status_badge("failed" if review.status == "open" else "succeeded", review.get_status_display())

    @admin.display(description="records")
    def records(self, review):
        return record_links([review.application_id, review.salesforce_record_id], [review.netsuite_internal_id])

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + ["records"]

    def get_fields(self, request, obj=None):
        fields = list(self.fields)
        if obj is None or obj.status != FinanceReview.Status.OPEN or not self.has_resolve_permission(request):
            fields.remove("resolution")
        return fields

    def has_resolve_permission(self, request):
        return request.user.has_perm("syncs.resolve_financereview")

    def has_change_permission(self, request, obj=None):
        return self.has_resolve_permission(request) or (obj is None and self.has_view_permission(request))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        note = (form.cleaned_data.get("resolution") or "").strip()
        if note:
            with transaction.atomic():
                finance.review_resolve(review_ids=[obj.pk], user=request.user, note=note)
                self.log_change(request, obj, f"Resolved: {note}")

    def save_related(self, request, form, formsets, change):
        pass

    @admin.action(description="Mark selected as resolved", permissions=["resolve"])
    def resolve_selected(self, request, queryset):
        resolved = finance.review_resolve(review_ids=list(queryset.values_list("pk", flat=True)), user=request.user,
                                          note="Resolved from the list.")
        messages.success(request, f"{resolved} item{'s' if resolved != 1 else ''} resolved.")

    def get_urls(self):
        return [path("export/", self.admin_site.admin_view(self.csv_export_view), name="syncs_financereview_export"),
                *super().get_urls()]


class DifferenceInline(admin.TabularInline):
    model = ReconciliationDifference
    fields = ("kind", "description", "application_name", "remittance_key", "netsuite_number", "currency",
              "salesforce_amount", "netsuite_amount", "records")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    @admin.display(description="records")
    def records(self, difference):
        return record_links([difference.application_id, difference.salesforce_record_id], [difference.netsuite_internal_id])

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("started_at", "trigger", "outcome_badge", "applications_checked", "remittances_checked",
                    "differences_found", "message")
    list_filter = ("outcome", "trigger")
    change_list_template = "admin/syncs/reconciliationrun/change_list.html"
    inlines = [DifferenceInline]
    paginator = CappedCountPaginator

    @admin.display(description="outcome", ordering="outcome")
    def outcome_badge(self, run):
        colour = {"agreed": "succeeded", "differences": "failed", "failed": "dead", "running": "running"}
        return status_badge(colour.get(run.outcome, "pending"), run.outcome)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_run": request.user.has_perm("syncs.run_reconciliation")}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [path("run/", self.admin_site.admin_view(self.run_view), name="syncs_reconciliationrun_run"),
                *super().get_urls()]

    def run_view(self, request):
        if not request.user.has_perm("syncs.run_reconciliation"):
            raise PermissionDenied
        if request.method == "POST":
            from .tasks import reconcile_amounts

            transaction.on_commit(lambda: reconcile_amounts.delay(trigger="manual"))
            messages.success(request, "The reconciliation of amounts was handed to the workers; its run appears here "
                                      f"when it finishes (asked at {timezone.localtime():%H:%M:%S}).")
            return redirect(reverse("admin:syncs_reconciliationrun_changelist"))
        return TemplateResponse(request, "admin/syncs/reconciliationrun/run.html", {
            **self.admin_site.each_context(request), "opts": ReconciliationRun._meta,
            "title": "Reconcile the amounts now?"})


@admin.register(ReconciliationDifference)
class ReconciliationDifferenceAdmin(ReadOnlyAdminMixin, CsvExportMixin, admin.ModelAdmin):
    list_display = ("run", "kind", "description", "application_name", "remittance_key", "netsuite_number", "currency",
                    "salesforce_amount", "netsuite_amount")
    list_filter = ("kind", "currency")
    search_fields = ("=application_id", "=remittance_key", "=netsuite_internal_id", "=netsuite_number", "=run__id")
    csv_fields = ("run__id", "run__started_at", "kind", "description", "application_id", "application_name",
                  "salesforce_record_id", "remittance_key", "netsuite_record_type", "netsuite_internal_id",
                  "netsuite_number", "currency", "salesforce_amount", "netsuite_amount")
    change_list_template = "admin/syncs/export_change_list.html"
    list_select_related = ("run",)
    paginator = CappedCountPaginator

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields] + ["records"]

    @admin.display(description="records")
    def records(self, difference):
        return record_links([difference.application_id, difference.salesforce_record_id], [difference.netsuite_internal_id])


    def get_urls(self):
        return [path("export/", self.admin_site.admin_view(self.csv_export_view),
                     name="syncs_reconciliationdifference_export"), *super().get_urls()]
