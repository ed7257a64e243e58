"""Issue #19's default mappings for installs that already have mappings (a new install gets them from the catalog):
the deal's terms as custom body fields of the sales order, the fee type as a custom column field of its lines, and
subsidiary and currency by value mapping. Rows are added only where the job has no mapping to that target yet, so
ops' edits are kept; frozen here as shipped."""
from django.db import migrations

ROWS = {
    "push_accounts": [
        ("BillingCountry", "subsidiary", "netsuite_ref", "subsidiary", False, "United States"),
        ("CurrencyIsoCode", "currency", "netsuite_ref", "currency", False, "USD"),
        ("Id", "custentity_sf_account_id", "none", "", False, ""),
    ],
    "push_sales_orders": [
        ("CurrencyIsoCode", "currency", "netsuite_ref", "currency", False, "USD"),
        ("Id", "custbody_sf_application_id", "none", "", False, ""),
        ("Payback_Amount__c", "custbody_payback_amount", "decimal", "2", False, ""),
        ("Factor_Rate__c", "custbody_factor_rate", "decimal", "4", False, ""),
        ("Holdback_Percent__c", "custbody_holdback_percent", "decimal", "2", False, ""),
        ("Funded_Date__c", "custbody_funded_date", "date", "", False, ""),
    ],
    "push_sales_order_lines": [
        ("ProductCode", "custcol_fee_type", "value_map", "fee_type", False, ""),
    ],
}


def add_defaults(apps, schema_editor):
    SyncJob = apps.get_model("syncs", "SyncJob")
    FieldMapping = apps.get_model("mappings", "FieldMapping")
    for job_name, rows in ROWS.items():
        job = SyncJob.objects.filter(name=job_name).first()
        if job is None or not FieldMapping.objects.filter(job=job).exists():
            continue   # a job without mappings gets the catalog's whole set from jobs_apply
        last = max(FieldMapping.objects.filter(job=job).values_list("order", flat=True), default=0)
        for step, (source, target, transform, argument, required, default) in enumerate(rows, start=1):
            FieldMapping.objects.get_or_create(job=job, target_field=target, defaults={
                "source_field": source, "transform": transform, "transform_argument": argument,
                "required": required, "default": default, "order": last + step * 10})


class Migration(migrations.Migration):
    dependencies = [("mappings", "0006_custom_fields_subsidiary_currency"), ("syncs", "0014_attempt_idempotency_key")]
    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
