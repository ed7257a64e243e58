"""The nine jobs of the case study, as seeded rows. Cadence: pushes every 15 minutes, order pulls hourly,
remittances daily (docs/domain.md)."""

PUSH_EVERY_MINUTES = 15
ORDER_PULL_EVERY_MINUTES = 60
REMITTANCE_PULL_EVERY_MINUTES = 24 * 60

JOBS = [
    {
        "name": "push_accounts",
        "title": "Accounts → Customers / Vendors",
        "description": "Salesforce Accounts changed since the watermark become NetSuite Customers (merchants) or Vendors (brokers).",
        "direction": "push", "source_system": "salesforce", "source_record_type": "Account",
        "target_system": "netsuite", "target_record_type": "customer", "record_type": "Account",
        "stage": 1, "batch_size": 100, "every_minutes": PUSH_EVERY_MINUTES,
    },
    {
        "name": "push_contacts",
        "title": "Contacts → Contacts",
        "description": "Salesforce Contacts become NetSuite Contacts attached to their customer.",
        "direction": "push", "source_system": "salesforce", "source_record_type": "Contact",
        "target_system": "netsuite", "target_record_type": "contact", "record_type": "Contact",
        "stage": 2, "batch_size": 100, "every_minutes": PUSH_EVERY_MINUTES,
    },
    {
        "name": "push_sales_orders",
        "title": "Funded applications → Sales Orders",
        "description": "An Application that reached Funded becomes one Sales Order for its customer.",
        "direction": "push", "source_system": "salesforce", "source_record_type": "Opportunity",
        "target_system": "netsuite", "target_record_type": "salesOrder", "record_type": "SalesOrder",
        "stage": 3, "batch_size": 100, "every_minutes": PUSH_EVERY_MINUTES,
    },
    {
        "name": "push_sales_order_lines",
        "title": "Fee line items → Sales Order lines",
        "description": "The funded application's fee line items become its Sales Order's lines, kept in step.",
        "direction": "push", "source_system": "salesforce", "source_record_type": "OpportunityLineItem",
        "target_system": "netsuite", "target_record_type": "salesOrderItem", "record_type": "SalesOrder",
        "stage": 4, "batch_size": 100, "every_minutes": PUSH_EVERY_MINUTES,
    },
    {
        "name": "push_purchase_orders",
        "title": "Broker commissions → Purchase Orders",
        "description": "A funded application with a broker becomes a Purchase Order telling accounting to pay the commission.",
        "direction": "push", "source_system": "salesforce", "source_record_type": "Opportunity",
        "target_system": "netsuite", "target_record_type": "purchaseOrder", "record_type": "PurchaseOrder",
        "stage": 3, "batch_size": 100, "every_minutes": PUSH_EVERY_MINUTES,
    },
    {
        "name": "push_purchase_order_lines",
        "title": "Commission lines → Purchase Order lines",
        "description": "The commission line (funded amount × commission %) of the broker's Purchase Order, kept in step.",
        "direction": "push", "source_system": "salesforce", "source_record_type": "Opportunity",
        "target_system": "netsuite", "target_record_type": "purchaseOrderItem", "record_type": "PurchaseOrder",
        "stage": 4, "batch_size": 100, "every_minutes": PUSH_EVERY_MINUTES,
    },
    {
        "name": "pull_sales_orders",
        "title": "Sales Orders → Applications",
        "description": "NetSuite Sales Orders changed since the watermark: number, status and total onto the Application.",
        "direction": "pull", "source_system": "netsuite", "source_record_type": "salesOrder",
        "target_system": "salesforce", "target_record_type": "Opportunity", "record_type": "Application",
        "stage": 5, "batch_size": 200, "every_minutes": ORDER_PULL_EVERY_MINUTES,
    },
    {
        "name": "pull_purchase_orders",
        "title": "Purchase Orders → Applications",
        "description": "Commission Purchase Orders: their status and amount onto the Application.",
        "direction": "pull", "source_system": "netsuite", "source_record_type": "purchaseOrder",
        "target_system": "salesforce", "target_record_type": "Opportunity", "record_type": "Application",
        "stage": 5, "batch_size": 200, "every_minutes": ORDER_PULL_EVERY_MINUTES,
    },
    {
        "name": "pull_remittances",
        "title": "Customer Payments → Remittances",
        "description": "NetSuite Customer Payments by last-modified date become Remittance__c records on the Application.",
        "direction": "pull", "source_system": "netsuite", "source_record_type": "customerPayment",
        "target_system": "salesforce", "target_record_type": "Remittance__c", "record_type": "Remittance",
        "stage": 6, "batch_size": 200, "every_minutes": REMITTANCE_PULL_EVERY_MINUTES,
    },
]

JOB_NAMES = [job["name"] for job in JOBS]
