"""Do both systems agree? Counts every record on both sides and names what is missing or duplicated.

The hub's own tables say what it did; this asks the two systems what they hold, so a bug in the hub cannot hide
behind its own bookkeeping. Used by `manage.py sync reconcile` and by the end-to-end checks.
"""
from collections import Counter
from dataclasses import dataclass, field

from .clients.netsuite import NetSuiteClient, netsuite_client
from .clients.salesforce import salesforce_client


@dataclass
class Finding:
    check: str
    expected: int
    found: int
    missing: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicated or self.unexpected)


def reconcile(*, salesforce=None, netsuite=None, failed_ids: set[str] = frozenset()) -> list[Finding]:
    """Compare Salesforce and NetSuite. Records the hub reports as failed (`failed_ids`) are expected to be missing
    and are not counted against it."""
    salesforce = salesforce or salesforce_client()
    netsuite = netsuite or netsuite_client()
    accounts = salesforce.query_all("SELECT Id, Type FROM Account")
    contacts = salesforce.query_all("SELECT Id, AccountId FROM Contact")
    funded = salesforce.query_all("SELECT Id, Broker__c FROM Opportunity WHERE StageName = 'Funded'")
    remittances = salesforce.query_all("SELECT NetSuite_Payment_Id__c, Type__c FROM Remittance__c WHERE NetSuite_Payment_Id__c != null")
    brokers = {a["Id"] for a in accounts if a["Type"] == "Broker"}
    held = set(failed_ids)
    findings = [
        _compare("Accounts → Customers and Vendors", {a["Id"] for a in accounts} - held,
                 netsuite.external_ids("customer") + netsuite.external_ids("vendor")),
        _compare("Brokers → Vendors", brokers - held, netsuite.external_ids("vendor")),
        _compare("Contacts → Contacts", {c["Id"] for c in contacts if c["AccountId"] and c["AccountId"] not in held} - held,
                 netsuite.external_ids("contact")),
        _compare("Funded applications → Sales Orders", {a["Id"] for a in funded} - held, netsuite.external_ids("salesOrder")),
        _compare("Brokered applications → commission Purchase Orders",
                 {f"{a['Id']}-COMMISSION" for a in funded if a["Broker__c"] and a["Id"] not in held},
                 netsuite.external_ids("purchaseOrder")),
    ]
    payments = [str(p) for p in netsuite_payment_ids(netsuite)]
    # A payment split over applications has a remittance per part (<id>, <id>-<order>, <id>-U: syncs/money.py), so
    # each transaction is counted once by the id its keys begin with. Refunds of credit memos are left out: their
    # remittances are their own, and a refund of a payment has none.
    transactions = sorted({remittance_transaction(r["NetSuite_Payment_Id__c"]) for r in remittances
                           if r.get("Type__c") != "Refund"})
    findings.append(_compare("Customer Payments → Remittances", set(payments), transactions))
    return findings


def remittance_transaction(key: str) -> str:
    """The NetSuite transaction a remittance key stands for."""
    return str(key).split("-", 1)[0]


def netsuite_payment_ids(netsuite: NetSuiteClient) -> list[str]:
    """Every payment, deposit and credit memo: the transactions that have a remittance of their own."""
    # A transaction changed while the pages are read may come twice: each is counted once.
    ids = {str(record["internalId"]) for record_type in ("customerPayment", "customerDeposit", "creditMemo")
           for page in netsuite.transaction_pages(transaction_type=record_type, modified_since=None)
           for record in page.records}
    return sorted(ids)


def _compare(check: str, expected: set[str], found_list: list[str]) -> Finding:
    counts = Counter(found_list)
    found = set(counts) - {""}
    return Finding(check=check, expected=len(expected), found=len(found_list),
                   missing=sorted(expected - found), duplicated=sorted(k for k, n in counts.items() if n > 1 and k),
                   unexpected=sorted(found - expected))
