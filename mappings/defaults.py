"""Default value mappings and master-of-record rules, so the hub works out of the box against the sandboxes; each
job's default field mappings are declared with the job (syncs/catalog.py). Applied after every migrate, adding only
what is missing: ops edit them in the admin afterwards and their edits are kept.
"""

VALUE_MAPPINGS = [
    # Salesforce Account.Type → the NetSuite record an account becomes.
    ("account_type", "Broker", "vendor", "Brokers are paid commissions: NetSuite Vendors"),
    ("account_type", "Merchant", "customer", "Merchants are funded: NetSuite Customers"),
    ("account_type", "Prospect", "customer", "Prospects become Customers too (NetSuite lead/prospect status is not used)"),
    ("account_type", "Other", "customer", ""),
    # Salesforce fee product code → NetSuite service sale item (internal id).
    ("fee_item", "FEE-ORIG", "101", "Origination Fee"),
    ("fee_item", "FEE-UW", "102", "Underwriting Fee"),
    ("fee_item", "FEE-ACH", "103", "ACH Program Fee"),
    ("fee_item", "FEE-WIRE", "104", "Wire Fee"),
    # The commission line's NetSuite service purchase item.
    ("commission_item", "BROKER-COMMISSION", "201", "Broker Commission"),
    # Application stage → what the hub does with it (only Funded reaches NetSuite).
    ("application_stage", "Funded", "push", "Funded applications become Sales Orders"),
    ("application_stage", "Declined", "never", "Declined applications never reach NetSuite"),
    # Salesforce billing country → NetSuite subsidiary (internal id): a OneWorld account books each merchant in the
    # subsidiary of its country.
    ("subsidiary", "United States", "1", "Parent Company"),
    ("subsidiary", "Canada", "1", "Parent Company"),
    ("subsidiary", "Brazil", "1", "Parent Company"),
    ("subsidiary", "Japan", "1", "Parent Company"),
    ("subsidiary", "United Kingdom", "2", "Europe B.V."),
    ("subsidiary", "Switzerland", "2", "Europe B.V."),
    ("subsidiary", "Germany", "2", "Europe B.V."),
    ("subsidiary", "France", "2", "Europe B.V."),
    ("subsidiary", "Netherlands", "2", "Europe B.V."),
    # Salesforce CurrencyIsoCode → NetSuite currency (internal id).
    ("currency", "USD", "1", "US Dollar"),
    ("currency", "EUR", "2", "Euro"),
    ("currency", "GBP", "3", "British Pound"),
    ("currency", "CAD", "4", "Canadian Dollar"),
    # Fee product code → the Fee Type list value on the order line (custcol_fee_type).
    ("fee_type", "FEE-ORIG", "1", "Origination"),
    ("fee_type", "FEE-UW", "2", "Underwriting"),
    ("fee_type", "FEE-ACH", "3", "ACH Program"),
    ("fee_type", "FEE-WIRE", "4", "Wire"),
    # NetSuite payment method → Remittance__c.Method__c.
    ("payment_method", "ACH", "ACH", ""),
    ("payment_method", "Wire", "Wire", ""),
    ("payment_method", "Check", "Check", ""),
    ("payment_method", "Card", "Card", ""),
    ("payment_method", "Other", "Other", "Payments without a method, or with one not listed here"),
]

NETSUITE_OWNED_APPLICATION_FIELDS = [
    "NetSuite_Sales_Order_Id__c",
    "NetSuite_Sales_Order_Number__c",
    "NetSuite_Sales_Order_Status__c",
    "NetSuite_Sales_Order_Total__c",
    "NetSuite_Commission_PO_Id__c",
    "NetSuite_Commission_PO_Number__c",
    "NetSuite_Commission_PO_Status__c",
    "NetSuite_Commission_PO_Amount__c",
    "Total_Remitted__c",
    "Remittance_Balance__c",
    # Credit memos reduce what is owed without being money received: kept apart from Total_Remitted__c.
    "Total_Credited__c",
]

# (record type, master, read-only in, fields the other system owns, notes) — the case study's table.
MASTER_RULES = [
    ("Account", "salesforce", "netsuite", [], "Salesforce is master; NetSuite holds a read-only copy."),
    ("Contact", "salesforce", "netsuite", [], "Salesforce is master; NetSuite holds a read-only copy."),
    ("Application", "salesforce", "netsuite", NETSUITE_OWNED_APPLICATION_FIELDS,
     "Salesforce is master; the NetSuite order, commission and remittance fields are written back by the pulls."),
    ("SalesOrder", "salesforce", "netsuite", ["tranId", "status", "orderStatus", "total"],
     "Created from Salesforce at funding, then owned by NetSuite's accounting fields; read-only in NetSuite for users."),
    ("PurchaseOrder", "salesforce", "netsuite", ["tranId", "status", "approvalStatus", "total"],
     "Created from Salesforce at funding, then owned by NetSuite's accounting fields; read-only in NetSuite for users."),
    ("Remittance", "netsuite", "salesforce", [], "NetSuite is master; Salesforce holds a read-only copy."),
]
