"""The case study's nine jobs, declared once: what each moves, its cadence and the mappings a new install starts with.
Cadence: pushes every 15 minutes, order pulls hourly, remittances daily (docs/domain.md).

`jobs_apply()` (run after every migrate) gives each registered job its row and, the first time, its default
mappings; a job added here reaches existing installs on their next deploy.

Field mappings are (source field, target field, transform, argument, required, default). Salesforce names are API
names of the org (see sandboxes/salesforce); NetSuite names are SuiteTalk 2023_2 record fields, or a custom field's
script id (custbody_… on an order, custcol_… on its lines, custentity_… on a customer or vendor), which the account
must declare. Subsidiary and currency are references found by value mapping (netsuite_ref): the account's country
picks its subsidiary, CurrencyIsoCode (a multi-currency org's field) the currency.
"""
from .jobs.order_lines import PushPurchaseOrderLines, PushSalesOrderLines
from .jobs.pulls import PullPurchaseOrders, PullSalesOrders
from .jobs.remittances import PullRemittances
from .jobs.pushes import PushAccounts, PushContacts, PushPurchaseOrders, PushSalesOrders
from .jobs.registry import job_register

PUSH_EVERY_MINUTES = 15
ORDER_PULL_EVERY_MINUTES = 60
REMITTANCE_PULL_EVERY_MINUTES = 24 * 60

JOBS = [
    PushAccounts(
        "push_accounts",
        title="Accounts → Customers / Vendors",
        description="Salesforce Accounts changed since the watermark become NetSuite Customers (merchants) or Vendors (brokers).",
        source_record_type="Account", target_record_type="customer", record_type="Account",
        stage=1, batch_size=100, every_minutes=PUSH_EVERY_MINUTES,
        default_mappings=[
            ('Id', 'externalId', 'none', '', True, ''),
            ('Name', 'companyName', 'truncate', '83', True, ''),
            ('Phone', 'phone', 'strip', '', False, ''),
            ('Website', 'url', 'strip', '', False, ''),
            ('Description', 'comments', 'truncate', '999', False, ''),
            ('Type', 'recordType', 'value_map', 'account_type', False, 'Merchant'),
            ('BillingCountry', 'subsidiary', 'netsuite_ref', 'subsidiary', False, 'United States'),
            ('CurrencyIsoCode', 'currency', 'netsuite_ref', 'currency', False, 'USD'),
            ('Id', 'custentity_sf_account_id', 'none', '', False, ''),
        ],
    ),
    PushContacts(
        "push_contacts",
        title="Contacts → Contacts",
        description="Salesforce Contacts become NetSuite Contacts attached to their customer.",
        source_record_type="Contact", target_record_type="contact", record_type="Contact",
        stage=2, batch_size=100, every_minutes=PUSH_EVERY_MINUTES,
        default_mappings=[
            ('Id', 'externalId', 'none', '', True, ''),
            ('AccountId', 'company', 'record_ref', 'customer', True, ''),
            ('FirstName', 'firstName', 'truncate', '32', False, ''),
            ('LastName', 'lastName', 'truncate', '32', True, ''),
            ('Email', 'email', 'strip', '', False, ''),
            ('Phone', 'phone', 'strip', '', False, ''),
            ('Title', 'title', 'truncate', '99', False, ''),
        ],
    ),
    PushSalesOrders(
        "push_sales_orders",
        title="Funded applications → Sales Orders",
        description="An Application that reached Funded becomes one Sales Order for its customer.",
        source_record_type="Opportunity", target_record_type="salesOrder", record_type="SalesOrder",
        stage=3, batch_size=100, every_minutes=PUSH_EVERY_MINUTES,
        lines_job="push_sales_order_lines",
        default_mappings=[
            ('Id', 'externalId', 'none', '', True, ''),
            ('AccountId', 'entity', 'record_ref', 'customer', True, ''),
            ('Funded_Date__c', 'tranDate', 'datetime', '', True, ''),
            ('Name', 'memo', 'template', 'Application {value}', False, ''),
            ('CurrencyIsoCode', 'currency', 'netsuite_ref', 'currency', False, 'USD'),
            # The deal's terms, as the account's custom body fields.
            ('Id', 'custbody_sf_application_id', 'none', '', False, ''),
            ('Payback_Amount__c', 'custbody_payback_amount', 'decimal', '2', False, ''),
            ('Factor_Rate__c', 'custbody_factor_rate', 'decimal', '4', False, ''),
            ('Holdback_Percent__c', 'custbody_holdback_percent', 'decimal', '2', False, ''),
            ('Funded_Date__c', 'custbody_funded_date', 'date', '', False, ''),
        ],
    ),
    PushSalesOrderLines(
        "push_sales_order_lines",
        title="Fee line items → Sales Order lines",
        description="The funded application's fee line items become its Sales Order's lines, kept in step.",
        source_record_type="OpportunityLineItem", target_record_type="salesOrderItem", record_type="SalesOrder",
        stage=4, batch_size=100, every_minutes=PUSH_EVERY_MINUTES,
        lines_job="push_sales_order_lines",
        order_job="push_sales_orders",
        default_mappings=[
            ('ProductCode', 'item', 'value_map', 'fee_item', True, ''),
            ('Quantity', 'quantity', 'decimal', '2', True, '1'),
            ('UnitPrice', 'rate', 'string', '', True, ''),
            ('TotalPrice', 'amount', 'decimal', '2', True, ''),
            ('Description', 'description', 'truncate', '999', False, ''),
            ('ProductCode', 'custcol_fee_type', 'value_map', 'fee_type', False, ''),
        ],
    ),
    PushPurchaseOrders(
        "push_purchase_orders",
        title="Broker commissions → Purchase Orders",
        description="A funded application with a broker becomes a Purchase Order telling accounting to pay the commission.",
        source_record_type="Opportunity", target_record_type="purchaseOrder", record_type="PurchaseOrder",
        stage=3, batch_size=100, every_minutes=PUSH_EVERY_MINUTES,
        lines_job="push_purchase_order_lines",
        default_mappings=[
            ('Id', 'externalId', 'template', '{value}-COMMISSION', True, ''),
            ('Broker__c', 'entity', 'record_ref', 'vendor', True, ''),
            ('Funded_Date__c', 'tranDate', 'datetime', '', True, ''),
            ('Name', 'memo', 'template', 'Broker commission for application {value}', False, ''),
        ],
    ),
    PushPurchaseOrderLines(
        "push_purchase_order_lines",
        title="Commission lines → Purchase Order lines",
        description="The commission line (funded amount × commission %) of the broker's Purchase Order, kept in step.",
        source_record_type="Opportunity", target_record_type="purchaseOrderItem", record_type="PurchaseOrder",
        stage=4, batch_size=100, every_minutes=PUSH_EVERY_MINUTES,
        lines_job="push_purchase_order_lines",
        order_job="push_purchase_orders",
        default_mappings=[
            ('', 'item', 'value_map', 'commission_item', True, 'BROKER-COMMISSION'),
            ('', 'quantity', 'decimal', '2', True, '1'),
            ('Commission_Percent__c', 'amount', 'percent_of', 'Amount', True, ''),
            ('Commission_Percent__c', 'rate', 'percent_of', 'Amount', True, ''),
            ('Name', 'description', 'template', 'Commission on {value}', False, ''),
        ],
    ),
    PullSalesOrders(
        "pull_sales_orders",
        title="Sales Orders → Applications",
        description="NetSuite Sales Orders changed since the watermark: number, status and total onto the Application.",
        source_record_type="salesOrder", target_record_type="Opportunity", record_type="Application",
        stage=5, batch_size=200, every_minutes=ORDER_PULL_EVERY_MINUTES,
        default_mappings=[
            ('externalId', 'Id', 'none', '', True, ''),
            ('internalId', 'NetSuite_Sales_Order_Id__c', 'none', '', True, ''),
            ('tranId', 'NetSuite_Sales_Order_Number__c', 'none', '', False, ''),
            ('status', 'NetSuite_Sales_Order_Status__c', 'none', '', False, ''),
            ('total', 'NetSuite_Sales_Order_Total__c', 'decimal', '2', False, ''),
        ],
    ),
    PullPurchaseOrders(
        "pull_purchase_orders",
        title="Purchase Orders → Applications",
        description="Commission Purchase Orders: their status and amount onto the Application.",
        source_record_type="purchaseOrder", target_record_type="Opportunity", record_type="Application",
        stage=5, batch_size=200, every_minutes=ORDER_PULL_EVERY_MINUTES,
        default_mappings=[
            ('externalId', 'Id', 'remove_suffix', '-COMMISSION', True, ''),
            ('internalId', 'NetSuite_Commission_PO_Id__c', 'none', '', True, ''),
            ('tranId', 'NetSuite_Commission_PO_Number__c', 'none', '', False, ''),
            ('status', 'NetSuite_Commission_PO_Status__c', 'none', '', False, ''),
            ('total', 'NetSuite_Commission_PO_Amount__c', 'decimal', '2', False, ''),
        ],
    ),
    PullRemittances(
        "pull_remittances",
        title="Customer Payments, Deposits, Credits and Refunds → Remittances",
        description="NetSuite's money by last-modified date (payments applied to invoices, deposits for orders, credit "
                    "memos, refunds, voids and deletes) becomes Remittance__c records on the Application it pays, "
                    "or on the Account when it pays none; the Application's totals follow.",
        source_record_type="customerPayment", target_record_type="Remittance__c", record_type="Remittance",
        stage=6, batch_size=200, every_minutes=REMITTANCE_PULL_EVERY_MINUTES,
        default_mappings=[
            ('internalId', 'NetSuite_Payment_Id__c', 'none', '', True, ''),
            ('tranId', 'NetSuite_Payment_Number__c', 'none', '', False, ''),
            ('payment', 'Amount__c', 'decimal', '2', True, ''),
            ('tranDate', 'Payment_Date__c', 'date', '', True, ''),
            ('paymentMethod.name', 'Method__c', 'value_map', 'payment_method', False, 'Other'),
            ('status', 'Status__c', 'none', '', False, ''),
            ('currency.name', 'Currency__c', 'none', '', False, ''),
        ],
    ),
]

JOB_NAMES = [job.name for job in JOBS]

for _spec in JOBS:
    job_register(_spec)
