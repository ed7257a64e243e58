from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import FieldMapping, MasterRule, ValueMapping


@admin.register(FieldMapping)
class FieldMappingAdmin(SimpleHistoryAdmin):
    list_display = ("job", "order", "source_field", "target_field", "transform", "transform_argument", "required", "default", "enabled")
    list_filter = ("job", "transform", "required", "enabled")
    search_fields = ("source_field", "target_field", "job__name")
    list_select_related = ("job",)


@admin.register(ValueMapping)
class ValueMappingAdmin(SimpleHistoryAdmin):
    list_display = ("category", "source_value", "target_value", "description")
    list_filter = ("category",)
    search_fields = ("source_value", "target_value", "description")


@admin.register(MasterRule)
class MasterRuleAdmin(SimpleHistoryAdmin):
    list_display = ("record_type", "master_system", "read_only_in", "fields_owned_by_other")
    list_filter = ("master_system", "read_only_in")
    search_fields = ("record_type", "notes")
