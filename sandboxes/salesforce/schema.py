"""The org's objects and fields, as describe reports them and as validation enforces them.

The API names here are a contract with the hub's mappings: renaming one is a breaking change for the hub.
"""
import re
from dataclasses import dataclass, field as dc_field

# Field types, as describe names them.
ID, STRING, TEXTAREA, PICKLIST, EMAIL, PHONE, URL = "id", "string", "textarea", "picklist", "email", "phone", "url"
REFERENCE, BOOLEAN, DATE, DATETIME = "reference", "boolean", "date", "datetime"
DOUBLE, CURRENCY, PERCENT = "double", "currency", "percent"

TEXT_TYPES = {ID, STRING, TEXTAREA, PICKLIST, EMAIL, PHONE, URL, REFERENCE}
NUMBER_TYPES = {DOUBLE, CURRENCY, PERCENT}

SOAP_TYPES = {
    ID: "tns:ID", REFERENCE: "tns:ID", BOOLEAN: "xsd:boolean", DATE: "xsd:date", DATETIME: "xsd:dateTime",
    DOUBLE: "xsd:double", CURRENCY: "xsd:double", PERCENT: "xsd:double",
}


@dataclass
class Field:
    name: str
    type: str
    label: str = ""
    length: int = 0
    required: bool = False          # required on create (nillable=False and not defaulted)
    createable: bool = True
    updateable: bool = True
    external_id: bool = False
    unique: bool = False
    reference_to: str | None = None
    relationship_name: str | None = None
    picklist: tuple = ()
    restricted: bool = False
    auto_number: bool = False
    precision: int = 0
    scale: int = 0
    cascade_delete: bool = False    # deleting the parent deletes this child (master-detail)
    indexed: bool = False
    system: bool = False

    @property
    def nillable(self) -> bool:
        return not self.required and self.type != BOOLEAN and not self.system

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES

    @property
    def groupable(self) -> bool:
        # Numbers, date-times and text areas cannot be grouped by (describe's `groupable`).
        return self.type not in NUMBER_TYPES and self.type not in (DATETIME, TEXTAREA)


@dataclass
class ChildRelationship:
    name: str
    child: str
    field: str
    cascade_delete: bool


@dataclass
class SObject:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    custom: bool
    fields: list
    child_relationships: list = dc_field(default_factory=list)
    writable: bool = True       # False: the integration user can read it but not create, update or delete it

    def __post_init__(self):
        self.by_lower = {f.name.lower(): f for f in self.fields}
        self.relationships = {f.relationship_name.lower(): f for f in self.fields if f.relationship_name}

    def field(self, name: str) -> Field | None:
        return self.by_lower.get(name.lower())

    def relationship(self, name: str) -> Field | None:
        return self.relationships.get(name.lower())

    def child_relationship(self, name: str) -> ChildRelationship | None:
        for rel in self.child_relationships:
            if rel.name.lower() == name.lower():
                return rel
        return None


# Labels the platform gives standard fields that their API names do not spell out.
STANDARD_LABELS = {"StageName": "Stage", "IsDeleted": "Deleted", "IsClosed": "Closed", "IsWon": "Won",
                   "IsActive": "Active", "IsStandard": "Is Standard Price Book", "UnitPrice": "Sales Price",
                   "TotalPrice": "Total Price", "ListPrice": "List Price"}


def _label(name: str) -> str:
    """The label validation messages quote, e.g. 'Account ID: id value of incorrect type'."""
    if name.endswith("__c"):
        return name[:-3].replace("_", " ")
    if name in STANDARD_LABELS:
        return STANDARD_LABELS[name]
    if name.endswith("Id") and len(name) > 2:
        return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name[:-2]) + " ID"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name)


def string(name, length, **kw):
    return Field(name, STRING, length=length, **kw)


def text_area(name, length=32000, **kw):
    return Field(name, TEXTAREA, length=length, **kw)


def picklist(name, values, restricted=False, **kw):
    return Field(name, PICKLIST, length=255, picklist=tuple(values), restricted=restricted, **kw)


def reference(name, to, relationship, **kw):
    return Field(name, REFERENCE, length=18, reference_to=to, relationship_name=relationship, indexed=True, **kw)


def currency(name, **kw):
    return Field(name, CURRENCY, precision=18, scale=2, **kw)


def percent(name, **kw):
    return Field(name, PERCENT, precision=5, scale=2, **kw)


def double(name, **kw):
    return Field(name, DOUBLE, precision=18, scale=4, **kw)


def system_fields() -> list:
    read_only = dict(createable=False, updateable=False, system=True)
    return [
        Field("Id", ID, length=18, indexed=True, **read_only),
        Field("IsDeleted", BOOLEAN, **read_only),
        Field("CreatedDate", DATETIME, **read_only),
        Field("CreatedById", REFERENCE, length=18, reference_to="User", **read_only),
        Field("LastModifiedDate", DATETIME, indexed=True, **read_only),
        Field("LastModifiedById", REFERENCE, length=18, reference_to="User", **read_only),
        Field("SystemModstamp", DATETIME, indexed=True, **read_only),
    ]


OPPORTUNITY_STAGES = ("Application Received", "Underwriting", "Approved", "Contract Signed", "Funded", "Declined")
CLOSED_STAGES = {"Funded": True, "Declined": False}    # stage -> IsWon
ACCOUNT_TYPES = ("Merchant", "Broker", "Prospect", "Other")
INDUSTRIES = ("Retail", "Restaurants", "Construction", "Healthcare", "Transportation", "Manufacturing",
              "Hospitality", "Professional Services", "Other")
REMITTANCE_METHODS = ("ACH", "Wire", "Check", "Card", "Other")
REMITTANCE_TYPES = ("Payment", "Deposit", "Credit Memo", "Refund")
FEE_PRODUCTS = (
    ("FEE-ORIG", "Origination Fee"),
    ("FEE-UW", "Underwriting Fee"),
    ("FEE-ACH", "ACH Program Fee"),
    ("FEE-WIRE", "Wire Fee"),
)

_read_only = dict(createable=False, updateable=False)

# The org is multi-currency: every object with currency fields has CurrencyIsoCode, a picklist of the org's active
# currencies, set to the user's default currency when a record is created without one (Salesforce Help, "Considerations
# for Enabling Multiple Currencies"; Object Reference: "CurrencyIsoCode — Available only for organizations with the
# multicurrency feature enabled").
CURRENCY_CODES = ("USD", "EUR", "GBP", "CAD")
CORPORATE_CURRENCY = "USD"


def currency_iso_code():
    return picklist("CurrencyIsoCode", CURRENCY_CODES, restricted=True, label="Currency ISO Code")

OBJECTS = [
    SObject("Account", "Account", "Accounts", "001", False, system_fields() + [
        string("Name", 255, required=True, indexed=True, label="Account Name"),
        picklist("Type", ACCOUNT_TYPES, indexed=True, label="Account Type"),
        Field("Phone", PHONE, length=40),
        Field("Website", URL, length=255),
        picklist("Industry", INDUSTRIES),
        text_area("BillingStreet", 255),
        string("BillingCity", 40),
        string("BillingState", 80),
        string("BillingPostalCode", 20),
        string("BillingCountry", 80),
        text_area("Description", 32000),
        # A non-unique External ID (ids carried over from an older CRM): upserting by it can match several records.
        string("Legacy_Id__c", 40, external_id=True),
        currency_iso_code(),
    ]),
    SObject("Contact", "Contact", "Contacts", "003", False, system_fields() + [
        picklist("Salutation", ("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")),
        string("FirstName", 40),
        string("LastName", 80, required=True, indexed=True),
        reference("AccountId", "Account", "Account", cascade_delete=True),
        Field("Email", EMAIL, length=80, indexed=True),
        Field("Phone", PHONE, length=40),
        Field("MobilePhone", PHONE, length=40),
        string("Title", 128),
        string("MailingCity", 40),
        string("MailingCountry", 80),
    ]),
    SObject("Opportunity", "Application", "Applications", "006", False, system_fields() + [
        string("Name", 120, required=True, indexed=True, label="Application Name"),
        reference("AccountId", "Account", "Account", cascade_delete=True),
        picklist("StageName", OPPORTUNITY_STAGES, restricted=True, required=True, indexed=True),
        Field("CloseDate", DATE, required=True),
        currency("Amount"),
        Field("IsClosed", BOOLEAN, **_read_only),
        Field("IsWon", BOOLEAN, **_read_only),
        reference("Pricebook2Id", "Pricebook2", "Pricebook2"),
        currency("Payback_Amount__c"),
        double("Factor_Rate__c"),
        percent("Holdback_Percent__c"),
        reference("Broker__c", "Account", "Broker__r"),
        percent("Commission_Percent__c"),
        Field("Funded_Date__c", DATE),
        string("NetSuite_Sales_Order_Id__c", 20, indexed=True),
        string("NetSuite_Sales_Order_Number__c", 40),
        string("NetSuite_Sales_Order_Status__c", 60),
        currency("NetSuite_Sales_Order_Total__c"),
        string("NetSuite_Commission_PO_Id__c", 20, indexed=True),
        string("NetSuite_Commission_PO_Number__c", 40),
        string("NetSuite_Commission_PO_Status__c", 60),
        currency("NetSuite_Commission_PO_Amount__c"),
        currency("Total_Remitted__c"),
        currency("Remittance_Balance__c"),
        currency("Total_Credited__c"),
        currency_iso_code(),
    ]),
    SObject("Product2", "Product", "Products", "01t", False, system_fields() + [
        string("Name", 255, required=True),
        string("ProductCode", 255, indexed=True),
        picklist("Family", ("Fee", "Funding", "Other")),
        Field("IsActive", BOOLEAN),
        text_area("Description", 4000),
    ]),
    SObject("Pricebook2", "Price Book", "Price Books", "01s", False, system_fields() + [
        string("Name", 255, required=True),
        Field("IsStandard", BOOLEAN, **_read_only),
        Field("IsActive", BOOLEAN),
    ]),
    SObject("PricebookEntry", "Price Book Entry", "Price Book Entries", "01u", False, system_fields() + [
        reference("Pricebook2Id", "Pricebook2", "Pricebook2", required=True, updateable=False),
        reference("Product2Id", "Product2", "Product2", required=True, updateable=False),
        string("Name", 255, **_read_only),
        string("ProductCode", 255, indexed=True, **_read_only),
        currency("UnitPrice", required=True),
        Field("IsActive", BOOLEAN),
    ]),
    SObject("OpportunityLineItem", "Opportunity Product", "Opportunity Product", "00k", False, system_fields() + [
        reference("OpportunityId", "Opportunity", "Opportunity", required=True, updateable=False,
                  cascade_delete=True),
        reference("PricebookEntryId", "PricebookEntry", "PricebookEntry", required=True, updateable=False),
        reference("Product2Id", "Product2", "Product2", **_read_only),
        string("ProductCode", 255, **_read_only),
        string("Name", 376, **_read_only),
        double("Quantity", required=True),
        currency("UnitPrice"),
        currency("TotalPrice"),
        currency("ListPrice", **_read_only),
        string("Description", 255),
    ]),
    SObject("Remittance__c", "Remittance", "Remittances", "a01", True, system_fields() + [
        string("Name", 80, auto_number=True, indexed=True, **_read_only),
        reference("Application__c", "Opportunity", "Application__r"),
        reference("Account__c", "Account", "Account__r"),
        currency("Amount__c"),
        Field("Payment_Date__c", DATE),
        picklist("Method__c", REMITTANCE_METHODS),
        string("Status__c", 40),
        string("NetSuite_Payment_Id__c", 20, external_id=True, unique=True, indexed=True),
        string("NetSuite_Payment_Number__c", 40),
        # What NetSuite booked (a payment, a deposit, a credit memo, a refund of a credit memo), what it first booked
        # (a void or a refund brings Amount__c down, never this), and the transaction's currency.
        picklist("Type__c", REMITTANCE_TYPES),
        currency("Original_Amount__c"),
        string("Currency__c", 16),
        currency_iso_code(),
    ]),
]

# The org's only user: the integration user every session runs as (see users.py). Its profile cannot manage users.
OBJECTS.append(SObject("User", "User", "Users", "005", False, system_fields() + [
    string("Username", 80, unique=True, indexed=True, **_read_only),
    string("Name", 121, label="Full Name", **_read_only),
    string("FirstName", 40, **_read_only),
    string("LastName", 80, **_read_only),
    Field("Email", EMAIL, length=128, **_read_only),
    string("Alias", 8, **_read_only),
    Field("IsActive", BOOLEAN, **_read_only),
    picklist("TimeZoneSidKey", ("America/New_York", "America/Los_Angeles", "Europe/London", "GMT"),
             label="Time Zone", **_read_only),
    picklist("LocaleSidKey", ("en_US", "en_GB"), label="Locale", **_read_only),
    picklist("LanguageLocaleKey", ("en_US",), label="Language", **_read_only),
    picklist("EmailEncodingKey", ("UTF-8", "ISO-8859-1"), label="Email Encoding", **_read_only),
    picklist("UserType", ("Standard",), **_read_only),
    Field("ProfileId", REFERENCE, length=18, reference_to="Profile", label="Profile ID", **_read_only),
], writable=False))

# The org itself, one read-only record whose Id is the organizationId the logins report. Clients read it after
# logging in (the Salesforce CLI selects Name, InstanceName, IsSandbox, TrialExpirationDate, NamespacePrefix and
# OrganizationType). Reference: https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_organization.htm
OBJECTS.append(SObject("Organization", "Organization", "Organizations", "00D", False, system_fields() + [
    string("Name", 80, label="Name", **_read_only),
    string("InstanceName", 5, label="Instance Name", **_read_only),
    Field("IsSandbox", BOOLEAN, label="Is Sandbox", **_read_only),
    Field("TrialExpirationDate", DATETIME, label="Trial Expiration Date", **_read_only),
    string("NamespacePrefix", 15, label="Namespace Prefix", **_read_only),
    picklist("OrganizationType", ("Team Edition", "Professional Edition", "Enterprise Edition",
                                  "Developer Edition", "Personal Edition", "Unlimited Edition",
                                  "Contact Manager Edition", "Base Edition"), label="Edition", **_read_only),
    picklist("TimeZoneSidKey", ("America/New_York", "America/Los_Angeles", "Europe/London", "GMT"),
             label="Default Time Zone", **_read_only),
    picklist("LanguageLocaleKey", ("en_US",), label="Language", **_read_only),
    picklist("DefaultLocaleSidKey", ("en_US", "en_GB"), label="Default Locale", **_read_only),
    string("Country", 80, **_read_only),
], writable=False))

REMITTANCE_NAME_FORMAT = "R-{:06d}"

BY_NAME = {obj.name: obj for obj in OBJECTS}
BY_LOWER = {obj.name.lower(): obj for obj in OBJECTS}
BY_PREFIX = {obj.key_prefix: obj for obj in OBJECTS}
USER_PREFIX = "005"
ORG_PREFIX = "00D"


# Child relationship names are fixed by the platform (standard objects) or chosen by the org (custom lookups).
CHILD_RELATIONSHIP_NAMES = {
    ("Account", "Contact", "AccountId"): "Contacts",
    ("Account", "Opportunity", "AccountId"): "Opportunities",
    ("Account", "Opportunity", "Broker__c"): "Brokered_Applications__r",
    ("Account", "Remittance__c", "Account__c"): "Remittances__r",
    ("Opportunity", "OpportunityLineItem", "OpportunityId"): "OpportunityLineItems",
    ("Opportunity", "Remittance__c", "Application__c"): "Remittances__r",
    ("Product2", "PricebookEntry", "Product2Id"): "PricebookEntries",
    ("Product2", "OpportunityLineItem", "Product2Id"): "OpportunityLineItems",
    ("Pricebook2", "PricebookEntry", "Pricebook2Id"): "PricebookEntries",
    ("Pricebook2", "Opportunity", "Pricebook2Id"): "Opportunities",
    ("PricebookEntry", "OpportunityLineItem", "PricebookEntryId"): "OpportunityLineItems",
}


def _link_children():
    for obj in OBJECTS:
        for f in obj.fields:
            if not f.label:
                f.label = _label(f.name)
            if f.type != REFERENCE or not f.relationship_name or f.reference_to not in BY_NAME:
                continue
            name = CHILD_RELATIONSHIP_NAMES[(f.reference_to, obj.name, f.name)]
            BY_NAME[f.reference_to].child_relationships.append(
                ChildRelationship(name, obj.name, f.name, f.cascade_delete))


_link_children()


def lookup(name: str) -> SObject | None:
    return BY_LOWER.get(name.lower())
