from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from simple_history.admin import SimpleHistoryAdmin

from .models import FieldMapping, MasterRule, ValueMapping
from .services import mapping_check, mapping_history_baseline, value_choices, value_mapping_check
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


class ValueMappingForm(forms.ModelForm):
    class Meta:
        model = ValueMapping
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        category = self.initial.get("category") or self.instance.category
        # Offering a picklist's values asks Salesforce: the form does, the list (a form per row) does not.
        for name, values in value_choices(category).items() if category and self.offers_choices else ():
            if name in self.fields:
                # A datalist, not a select: the values offered are a help, and the check on save is the rule.
                self.fields[name].widget.attrs["list"] = f"{name}-choices"
                self.fields[name].help_text = "Known values: " + ", ".join(values)
                self.fields[name].widget.choices_offered = values

    offers_choices = True
    # A save from the form checks even an unchanged mapping (the item it names may have gone from NetSuite since);
    # a save of the list checks only the rows that changed.
    checks_unchanged = True

    def clean(self):
        cleaned_data = super().clean()
        if self.errors or not (self.checks_unchanged or self.has_changed()):
            return cleaned_data
        category = cleaned_data.get("category", self.instance.category)
        check = value_mapping_check(category=category,
                                    source_value=cleaned_data.get("source_value", self.instance.source_value),
                                    target_value=cleaned_data.get("target_value", self.instance.target_value))
        for name, message in check.problems.items():
            if name in self.fields:
                self.add_error(name, message)
            else:
                raise ValidationError(message)
        if check.unreachable:
            raise ValidationError([message + UNREACHABLE_HINT for message in check.unreachable])
        return cleaned_data


class ValueMappingListForm(ValueMappingForm):
    checks_unchanged = False
    offers_choices = False


@admin.register(ValueMapping)
class ValueMappingAdmin(HistoryBaselineMixin, SimpleHistoryAdmin):
    form = ValueMappingForm
    list_display = ("category", "source_value", "target_value", "description")
    list_filter = ("category",)
    list_editable = ("target_value",)
    search_fields = ("source_value", "target_value", "description")
    change_form_template = "admin/mappings/valuemapping/change_form.html"

    def get_changelist_form(self, request, **kwargs):
        # An edit in the list is checked like one in the form.
        return super().get_changelist_form(request, form=ValueMappingListForm, **kwargs)


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
