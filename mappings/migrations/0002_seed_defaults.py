"""The default mappings and master rules as they were first shipped, frozen here (later defaults reach installs
through syncs.jobs.apply.jobs_apply after each migrate)."""
from django.db import migrations

FIELD_MAPPINGS = {'push_accounts': [('Id', 'externalId', 'none', '', True, ''),
                   ('Name', 'companyName', 'truncate', '83', True, ''),
                   ('Phone', 'phone', 'strip', '', False, ''),
                   ('Website', 'url', 'strip', '', False, ''),
                   ('Description', 'comments', 'truncate', '999', False, ''),
                   ('Type', 'recordType', 'value_map', 'account_type', False, 'Merchant')],
 'push_contacts': [('Id', 'externalId', 'none', '', True, ''),
                   ('AccountId', 'company', 'record_ref', 'customer', True, ''),
                   ('FirstName', 'firstName', 'truncate', '32', False, ''),
                   ('LastName', 'lastName', 'truncate', '32', True, ''),
                   ('Email', 'email', 'strip', '', False, ''),
                   ('Phone', 'phone', 'strip', '', False, ''),
                   ('Title', 'title', 'truncate', '99', False, '')],
 'push_sales_orders': [('Id', 'externalId', 'none', '', True, ''),
                       ('AccountId', 'entity', 'record_ref', 'customer', True, ''),
                       ('Funded_Date__c', 'tranDate', 'datetime', '', True, ''),
                       ('Name', 'memo', 'template', 'Application {value}', False, '')],
 'push_sales_order_lines': [('ProductCode', 'item', 'value_map', 'fee_item', True, ''),
                            ('Quantity', 'quantity', 'decimal', '2', True, '1'),
                            ('UnitPrice', 'rate', 'string', '', True, ''),
                            ('TotalPrice', 'amount', 'decimal', '2', True, ''),
                            ('Description', 'description', 'truncate', '999', False, '')],
 'push_purchase_orders': [('Id', 'externalId', 'template', '{value}-COMMISSION', True, ''),
                          ('Broker__c', 'entity', 'record_ref', 'vendor', True, ''),
                          ('Funded_Date__c', 'tranDate', 'datetime', '', True, ''),
                          ('Name', 'memo', 'template', 'Broker commission for application {value}', False, '')],
 'push_purchase_order_lines': [('', 'item', 'value_map', 'commission_item', True, 'BROKER-COMMISSION'),
                               ('', 'quantity', 'decimal', '2', True, '1'),
                               ('Commission_Percent__c', 'amount', 'percent_of', 'Amount', True, ''),
                               ('Commission_Percent__c', 'rate', 'percent_of', 'Amount', True, ''),
                               ('Name', 'description', 'template', 'Commission on {value}', False, '')],
 'pull_sales_orders': [('externalId', 'Id', 'none', '', True, ''),
                       ('internalId', 'NetSuite_Sales_Order_Id__c', 'none', '', True, ''),
                       ('tranId', 'NetSuite_Sales_Order_Number__c', 'none', '', False, ''),
                       ('status', 'NetSuite_Sales_Order_Status__c', 'none', '', False, ''),
                       ('total', 'NetSuite_Sales_Order_Total__c', 'decimal', '2', False, '')],
 'pull_purchase_orders': [('externalId', 'Id', 'remove_suffix', '-COMMISSION', True, ''),
                          ('internalId', 'NetSuite_Commission_PO_Id__c', 'none', '', True, ''),
                          ('tranId', 'NetSuite_Commission_PO_Number__c', 'none', '', False, ''),
                          ('status', 'NetSuite_Commission_PO_Status__c', 'none', '', False, ''),
                          ('total', 'NetSuite_Commission_PO_Amount__c', 'decimal', '2', False, '')],
 'pull_remittances': [('internalId', 'NetSuite_Payment_Id__c', 'none', '', True, ''),
                      ('tranId', 'NetSuite_Payment_Number__c', 'none', '', False, ''),
                      ('payment', 'Amount__c', 'decimal', '2', True, ''),
                      ('tranDate', 'Payment_Date__c', 'date', '', True, ''),
                      ('paymentMethod.name', 'Method__c', 'value_map', 'payment_method', False, 'Other'),
                      ('status', 'Status__c', 'none', '', False, '')]}

VALUE_MAPPINGS = [('account_type', 'Broker', 'vendor', 'Brokers are paid commissions: NetSuite Vendors'),
 ('account_type', 'Merchant', 'customer', 'Merchants are funded: NetSuite Customers'),
 ('account_type',
  'Prospect',
  'customer',
  'Prospects become Customers too (NetSuite lead/prospect status is not used)'),
 ('account_type', 'Other', 'customer', ''),
 ('fee_item', 'FEE-ORIG', '101', 'Origination Fee'),
 ('fee_item', 'FEE-UW', '102', 'Underwriting Fee'),
 ('fee_item', 'FEE-ACH', '103', 'ACH Program Fee'),
 ('fee_item', 'FEE-WIRE', '104', 'Wire Fee'),
 ('commission_item', 'BROKER-COMMISSION', '201', 'Broker Commission'),
 ('application_stage', 'Funded', 'push', 'Funded applications become Sales Orders'),
 ('application_stage', 'Declined', 'never', 'Declined applications never reach NetSuite'),
 ('payment_method', 'ACH', 'ACH', ''),
 ('payment_method', 'Wire', 'Wire', ''),
 ('payment_method', 'Check', 'Check', ''),
 ('payment_method', 'Card', 'Card', ''),
 ('payment_method', 'Other', 'Other', 'Payments without a method, or with one not listed here')]

MASTER_RULES = [('Account', 'salesforce', 'netsuite', [], 'Salesforce is master; NetSuite holds a read-only copy.'),
 ('Contact', 'salesforce', 'netsuite', [], 'Salesforce is master; NetSuite holds a read-only copy.'),
 ('Application',
  'salesforce',
  'netsuite',
  ['NetSuite_Sales_Order_Id__c',
   'NetSuite_Sales_Order_Number__c',
   'NetSuite_Sales_Order_Status__c',
   'NetSuite_Sales_Order_Total__c',
   'NetSuite_Commission_PO_Id__c',
   'NetSuite_Commission_PO_Number__c',
   'NetSuite_Commission_PO_Status__c',
   'NetSuite_Commission_PO_Amount__c',
   'Total_Remitted__c',
   'Remittance_Balance__c'],
  'Salesforce is master; the NetSuite order, commission and remittance fields are written back by the pulls.'),
 ('SalesOrder',
  'salesforce',
  'netsuite',
  ['tranId', 'status', 'orderStatus', 'total'],
  "Created from Salesforce at funding, then owned by NetSuite's accounting fields; read-only in NetSuite for users."),
 ('PurchaseOrder',
  'salesforce',
  'netsuite',
  ['tranId', 'status', 'approvalStatus', 'total'],
  "Created from Salesforce at funding, then owned by NetSuite's accounting fields; read-only in NetSuite for users."),
 ('Remittance', 'netsuite', 'salesforce', [], 'NetSuite is master; Salesforce holds a read-only copy.')]


def seed_defaults(apps, schema_editor):
    SyncJob = apps.get_model("syncs", "SyncJob")
    FieldMapping = apps.get_model("mappings", "FieldMapping")
    ValueMapping = apps.get_model("mappings", "ValueMapping")
    MasterRule = apps.get_model("mappings", "MasterRule")
    for job_name, rows in FIELD_MAPPINGS.items():
        job = SyncJob.objects.get(name=job_name)
        for order, (source, target, transform, argument, required, default) in enumerate(rows, start=1):
            FieldMapping.objects.get_or_create(
                job=job,
                target_field=target,
                defaults={
                    "source_field": source, "transform": transform, "transform_argument": argument,
                    "required": required, "default": default, "order": order * 10,
                },
            )
    for category, source, target, description in VALUE_MAPPINGS:
        ValueMapping.objects.get_or_create(
            category=category, source_value=source, defaults={"target_value": target, "description": description}
        )
    for record_type, master, read_only_in, owned_by_other, notes in MASTER_RULES:
        MasterRule.objects.get_or_create(
            record_type=record_type,
            defaults={"master_system": master, "read_only_in": read_only_in,
                      "fields_owned_by_other": owned_by_other, "notes": notes},
        )


class Migration(migrations.Migration):
    dependencies = [("mappings", "0001_initial"), ("syncs", "0002_seed_jobs")]
    operations = [migrations.RunPython(seed_defaults, migrations.RunPython.noop)]
