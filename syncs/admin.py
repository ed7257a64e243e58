from django.contrib import admin

from .models import RecordLink, SyncAttempt, SyncJob, SyncRun


@admin.register(SyncJob)
class SyncJobAdmin(admin.ModelAdmin):
    list_display = ("name", "title", "direction", "enabled", "batch_size", "stage", "last_outcome", "last_run_finished_at")
    list_filter = ("direction", "enabled", "last_outcome", "record_type")
    search_fields = ("name", "title")
    readonly_fields = ("name", "direction", "source_system", "source_record_type", "target_system", "target_record_type",
                       "record_type", "last_run_started_at", "last_run_finished_at", "last_outcome", "updated_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ("job", "started_at", "finished_at", "outcome", "trigger", "records_read", "records_written", "records_failed", "records_skipped")
    list_filter = ("outcome", "trigger", "dry_run", "job")
    search_fields = ("job__name", "message")
    date_hierarchy = "started_at"
    list_select_related = ("job",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SyncAttempt)
class SyncAttemptAdmin(admin.ModelAdmin):
    list_display = ("created_at", "job", "record_type", "record_name", "salesforce_id", "netsuite_internal_id", "operation",
                    "attempt_number", "status", "error_kind", "remote_code")
    list_filter = ("status", "error_kind", "job", "record_type", "remote_code")
    search_fields = ("=salesforce_id", "=netsuite_internal_id", "=netsuite_external_id", "record_name")
    date_hierarchy = "created_at"
    list_select_related = ("job",)
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RecordLink)
class RecordLinkAdmin(admin.ModelAdmin):
    list_display = ("record_type", "salesforce_id", "netsuite_record_type", "netsuite_internal_id", "netsuite_external_id", "last_synced_at")
    list_filter = ("record_type", "netsuite_record_type")
    search_fields = ("=salesforce_id", "=netsuite_internal_id", "=netsuite_external_id")
    date_hierarchy = "last_synced_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False
