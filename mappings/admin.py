from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from simple_history.admin import SimpleHistoryAdmin

from .models import FieldMapping, MasterRule, ValueMapping
from .services import mapping_check, mapping_history_baseline
from .transforms import TRANSFORMS, MappingRow

UNREACHABLE_HINT = " Nothing was saved: try again when it answers."


def mapping_row(cleaned_data: dict) -> MappingRow:
    return MappingRow(cleaned_data.get("source_field") or "", cleaned_data.get("target_field") or "",
                      cleaned_data.get("transform") or "none", cleaned_data.get("transform_argument") or "")


def names_changed(form) -> bool:
    changed = set(form.changed_data)
    transform = TRANSFORMS.get(form.cleaned_data.get("transform") or "")
    argument_is_a_field = transform and transform.argument_is_field and {"transform", "transform_argument"} & changed
    return not form.instance.pk or bool({"source_field", "target_field"} & changed) or bool(argument_is_a_field)


class FieldMappingFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        checked = [form for form in self.forms
                   if form.cleaned_data and not form.cleaned_data.get("DELETE") and names_changed(form)]
        check = mapping_check(job=self.instance, rows=[mapping_row(form.cleaned_data) for form in checked])
        for problem in check.problems:
            checked[problem.row].add_error(problem.field, problem.message)
        if check.unreachable:
            raise ValidationError([message + UNREACHABLE_HINT for message in check.unreachable])


class FieldMappingForm(forms.ModelForm):
    class Meta:
        model = FieldMapping
        fields = "__all__"

    def clean(self):
        cleaned_data = super().clean()
        if self.errors or not names_changed(self) or not cleaned_data.get("job"):
            return cleaned_data
        check = mapping_check(job=cleaned_data["job"], rows=[mapping_row(cleaned_data)])
        for problem in check.problems:
            self.add_error(problem.field, problem.message)
        if check.unreachable:
            raise ValidationError([message + UNREACHABLE_HINT for message in check.unreachable])
        return cleaned_data


class HistoryBaselineMixin:
    def save_model(self, request, obj, form, change):
        if change:
            mapping_history_baseline(model=type(obj), ids=[obj.pk])
        super().save_model(request, obj, form, change)


class FieldMappingInline(admin.TabularInline):
    model = FieldMapping
    formset = FieldMappingFormSet
    fields = ("order", "source_field", "target_field", "transform", "transform_argument", "required", "default", "enabled")
    extra = 0
    classes = ["hub-mappings"]


@admin.register(FieldMapping)
class FieldMappingAdmin(HistoryBaselineMixin, SimpleHistoryAdmin):
    form = FieldMappingForm
    list_display = ("job", "order", "source_field", "target_field", "transform", "transform_argument", "required", "default", "enabled")
    list_filter = ("job", "transform", "required", "enabled")
    search_fields = ("source_field", "target_field", "job__name")
    list_select_related = ("job",)


@admin.register(ValueMapping)
class ValueMappingAdmin(HistoryBaselineMixin, SimpleHistoryAdmin):
    list_display = ("category", "source_value", "target_value", "description")
    list_filter = ("category",)
    list_editable = ("target_value",)
    search_fields = ("source_value", "target_value", "description")


@admin.register(MasterRule)
class MasterRuleAdmin(HistoryBaselineMixin, SimpleHistoryAdmin):
    list_display = ("record_type", "master_system", "read_only_in", "owned_by_other")
    list_display_links = ("record_type",)
    list_filter = ("master_system", "read_only_in")
    search_fields = ("record_type", "notes")

    @admin.display(description="fields the other system writes")
    def owned_by_other(self, rule):
        return ", ".join(rule.fields_owned_by_other) or "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
