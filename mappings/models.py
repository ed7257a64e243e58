"""How source fields become target fields, how coded values translate, and which system owns which record.

These rows, not code, decide what each job sends, so ops can change a mapping without a deploy. Every change is
kept in history (who, when, before and after)."""
from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from .categories import CATEGORY_CHOICES
from .transforms import TRANSFORM_CHOICES, TRANSFORMS


class System(models.TextChoices):
    SALESFORCE = "salesforce", "Salesforce"
    NETSUITE = "netsuite", "NetSuite"


class RecordType(models.TextChoices):
    """Business record types, as the master-of-record table in docs/domain.md names them."""

    ACCOUNT = "Account", "Account"
    CONTACT = "Contact", "Contact"
    APPLICATION = "Application", "Application"
    SALES_ORDER = "SalesOrder", "Sales Order"
    PURCHASE_ORDER = "PurchaseOrder", "Purchase Order"
    REMITTANCE = "Remittance", "Remittance"


class FieldMapping(models.Model):
    job = models.ForeignKey("syncs.SyncJob", on_delete=models.CASCADE, related_name="field_mappings")
    source_field = models.CharField(max_length=120, blank=True, help_text="Empty: the default value is sent.")
    target_field = models.CharField(max_length=120)
    transform = models.CharField(max_length=16, choices=TRANSFORM_CHOICES, default="none")
    transform_argument = models.CharField(max_length=120, blank=True)
    required = models.BooleanField(default=False, help_text="A record without a value here fails, naming the field.")
    default = models.CharField(max_length=255, blank=True, help_text="Used as the source value when the source is empty (then transformed like any value).")
    order = models.PositiveSmallIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["job", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["job", "target_field"], name="mapping_one_source_per_target")]

    def __str__(self):
        return f"{self.job.name}: {self.source_field or '(default)'} → {self.target_field}"

    def clean(self):
        transform = TRANSFORMS.get(self.transform)
        if transform and transform.argument and not self.transform_argument:
            raise ValidationError({"transform_argument": f"The {transform.label!r} transform needs an argument: {transform.argument}."})
        if transform and transform.argument_is_number and not self.transform_argument.isdigit():
            raise ValidationError({"transform_argument": f"Give {transform.argument}."})
        if not self.source_field and not self.default:
            raise ValidationError("A mapping needs a source field or a default value.")


class ValueMapping(models.Model):
    """A coded value on one side and its counterpart on the other, e.g. fee product code FEE-ORIG → NetSuite item 101."""

    category = models.SlugField(max_length=64, choices=CATEGORY_CHOICES,
                                help_text="The table a field mapping's value_map transform reads, by name.")
    source_value = models.CharField(max_length=255)
    target_value = models.CharField(max_length=255)
    description = models.CharField(max_length=255, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["category", "source_value"]
        constraints = [models.UniqueConstraint(fields=["category", "source_value"], name="value_mapping_unique_source")]

    def __str__(self):
        return f"{self.category}: {self.source_value} → {self.target_value}"


class MasterRule(models.Model):
    """Which system is master of a record type and where its copy is read-only. No job writes a field into the
    system that is master for it, except the fields the other system is named owner of (e.g. the NetSuite
    order number that the pulls write onto an Application)."""

    record_type = models.CharField(max_length=32, choices=RecordType.choices, unique=True)
    master_system = models.CharField(max_length=16, choices=System.choices)
    read_only_in = models.CharField(max_length=16, choices=System.choices)
    fields_owned_by_other = models.JSONField(
        default=list,
        blank=True,
        help_text="Fields in the master's system that the other system owns and may write, as a list of API names.",
    )
    notes = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.get_record_type_display()}: master {self.get_master_system_display()}"

    def clean(self):
        if self.master_system == self.read_only_in:
            raise ValidationError(
                f"{self.get_record_type_display()} can't be read-only in its own master system; "
                "one system is master and the other holds the read-only copy."
            )
        if not isinstance(self.fields_owned_by_other, list) or not all(isinstance(f, str) for f in self.fields_owned_by_other):
            raise ValidationError({"fields_owned_by_other": "Give a list of field API names."})

    def may_write(self, *, system: str, fields=()) -> bool:
        """Whether a job may write these fields of this record type into `system`."""
        if system != self.master_system:
            return True
        return all(field in self.fields_owned_by_other for field in fields) and bool(fields)
