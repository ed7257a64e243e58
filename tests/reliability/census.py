"""What the two systems hold, asked through their own APIs (Salesforce by SOQL, NetSuite by SuiteTalk searches and the
sandbox's record counts), and where they disagree: records lost, records duplicated, content that differs.

The hub's own tables say what it believes it did; this counts what is there, so a bug in the hub's bookkeeping
cannot hide behind that bookkeeping.
"""
from collections import Counter
from dataclasses import dataclass, field

import requests
import zeep
from zeep.transports import Transport

from sandboxes.netsuite.process import BINDING

CORE = "urn:core_2023_2.platform.webservices.netsuite.com"
COMMON = "urn:common_2023_2.platform.webservices.netsuite.com"
MESSAGES = "urn:messages_2023_2.platform.webservices.netsuite.com"
# The NetSuite field lengths the default mappings truncate to (syncs/catalog.py).
COMPANY_NAME_MAX, PERSON_NAME_MAX = 83, 32


@dataclass
class Census:
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    counts: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.duplicated or self.different)

    def summary(self) -> str:
        return f"{len(self.lost)} lost, {len(self.duplicated)} duplicated, {len(self.different)} different"


class NetSuiteReader:
    """Every record of a type, read back from the NetSuite sandbox with searches (as an accountant's saved search
    would), sublists included."""

    def __init__(self, sandbox):
        session = requests.Session()
        session.trust_env = False
        self.sandbox = sandbox
        self.client = zeep.Client(sandbox.wsdl, transport=Transport(session=session, timeout=60, operation_timeout=60))
        self.service = self.client.create_service(BINDING, sandbox.endpoint)

    def _type(self, namespace: str, name: str):
        return self.client.get_type(f"{{{namespace}}}{name}")

    def _headers(self) -> dict:
        preferences = self._type(MESSAGES, "SearchPreferences")(bodyFieldsOnly=False, returnSearchColumns=False, pageSize=1000)
        return {"tokenPassport": self.sandbox.token_passport(), "searchPreferences": preferences}

    def all(self, record_type: str) -> list:
        basics = {"customer": "CustomerSearchBasic", "vendor": "VendorSearchBasic", "contact": "ContactSearchBasic"}
        if record_type in basics:
            search = self._type(COMMON, basics[record_type])()
        else:
            search = self._type(COMMON, "TransactionSearchBasic")(
                type=self._type(CORE, "SearchEnumMultiSelectField")(operator="anyOf", searchValue=[f"_{record_type}"]))
        result = self.service.search(searchRecord=search, _soapheaders=self._headers()).body.searchResult
        records = _records_of(result)
        while result.pageIndex is not None and result.totalPages and result.pageIndex < result.totalPages:
            result = self.service.searchMoreWithId(searchId=result.searchId, pageIndex=result.pageIndex + 1,
                                                   _soapheaders=self._headers()).body.searchResult
            records += _records_of(result)
        return records


def _records_of(result) -> list:
    if not result.status.isSuccess:
        detail = (result.status.statusDetail or [None])[0]
        raise AssertionError(f"the NetSuite sandbox refused the census search: {detail}")
    return list(result.recordList.record) if result.recordList is not None and result.recordList.record else []


def _lines(record) -> list:
    return list(record.itemList.item) if record.itemList is not None and record.itemList.item else []


def _ref(value) -> str:
    return str(value.internalId) if value is not None and value.internalId is not None else ""


def _money(value) -> float | None:
    return None if value is None else round(float(value), 2)


def take_census(salesforce_sandbox, netsuite: NetSuiteReader, *, fee_items: dict[str, str], pulls: bool) -> Census:
    """Compare what Salesforce holds with what NetSuite holds. `fee_items`: Salesforce product code → NetSuite item
    internal id (the fee_item value mapping). `pulls`: also check the NetSuite ids written back onto applications."""
    sf = salesforce_sandbox.client()
    accounts = sf.query_all("SELECT Id, Name, Type FROM Account")["records"]
    contacts = sf.query_all("SELECT Id, AccountId, FirstName, LastName, Email FROM Contact")["records"]
    funded = sf.query_all(
        "SELECT Id, AccountId, Broker__c, Amount, Commission_Percent__c, NetSuite_Sales_Order_Id__c, "
        "NetSuite_Commission_PO_Id__c, (SELECT ProductCode, TotalPrice FROM OpportunityLineItems) "
        "FROM Opportunity WHERE StageName = 'Funded'")["records"]
    brokered = [app for app in funded if app["Broker__c"]]

    held = {record_type: netsuite.all(record_type)
            for record_type in ("customer", "vendor", "contact", "salesOrder", "purchaseOrder")}
    stats = netsuite.sandbox.stats()["records"]
    census = Census(counts={
        "salesforce": {"accounts": len(accounts), "contacts": len(contacts), "funded": len(funded), "brokered": len(brokered)},
        "netsuite": {name: stats.get(name, 0) for name in ("customer", "vendor", "contact", "salesOrder", "purchaseOrder")},
    })

    def twins(kinds: list[str], expected: dict[str, dict], label: str, target: str) -> dict[str, object]:
        """The one NetSuite twin of each expected Salesforce record, by external id; lost and duplicates noted."""
        found = [(kind, record) for kind in kinds for record in held[kind]]
        by_external_id: dict[str, list] = {}
        for kind, record in found:
            by_external_id.setdefault(str(record.externalId or ""), []).append((kind, record))
        for external_id, copies in sorted(by_external_id.items()):
            if len(copies) > 1:
                census.duplicated.append(f"{label} {external_id}: {len(copies)} NetSuite {target} records "
                                         f"({', '.join(f'{k} {r.internalId}' for k, r in copies)})")
            if external_id not in expected:
                census.duplicated.append(f"NetSuite {copies[0][0]} {copies[0][1].internalId} (external id "
                                         f"{external_id or 'none'}) stands for no Salesforce {label}")
        census.lost += [f"{label} {external_id} has no NetSuite {target}" for external_id in sorted(expected)
                        if external_id not in by_external_id]
        # The sandbox's own count, beside what the searches found.
        held_count = sum(stats.get(kind, 0) for kind in kinds)
        if held_count > len(expected):
            census.duplicated.append(f"NetSuite holds {held_count} {target} records for {len(expected)} Salesforce {label}s")
        elif held_count < len(expected) and not any(line.startswith(label) for line in census.lost):
            census.lost.append(f"NetSuite holds {held_count} {target} records for {len(expected)} Salesforce {label}s")
        return {external_id: copies[0] for external_id, copies in by_external_id.items()}

    account_twins = twins(["customer", "vendor"], {a["Id"]: a for a in accounts}, "Account", "customer/vendor")
    for account in accounts:
        twin = account_twins.get(account["Id"])
        if twin is None:
            continue
        kind, record = twin
        wanted_kind = "vendor" if account["Type"] == "Broker" else "customer"
        if kind != wanted_kind:
            census.different.append(f"Account {account['Id']} ({account['Type']}) is a NetSuite {kind}, not a {wanted_kind}")
        if record.companyName != (account["Name"] or "")[:COMPANY_NAME_MAX]:
            census.different.append(f"Account {account['Id']}: NetSuite companyName {record.companyName!r}, "
                                    f"Salesforce Name {account['Name']!r}")

    def account_id(salesforce_id) -> str:
        twin = account_twins.get(salesforce_id)
        return str(twin[1].internalId) if twin else ""

    contact_twins = twins(["contact"], {c["Id"]: c for c in contacts}, "Contact", "contact")
    for contact in contacts:
        twin = contact_twins.get(contact["Id"])
        if twin is None:
            continue
        record = twin[1]
        wanted = {"lastName": (contact["LastName"] or "")[:PERSON_NAME_MAX],
                  "firstName": (contact["FirstName"] or "")[:PERSON_NAME_MAX] or None,
                  "email": contact["Email"] or None, "company": account_id(contact["AccountId"])}
        held_values = {"lastName": record.lastName, "firstName": record.firstName or None, "email": record.email or None,
                       "company": _ref(record.company)}
        for name, value in wanted.items():
            if held_values[name] != value:
                census.different.append(f"Contact {contact['Id']}: NetSuite {name} {held_values[name]!r}, Salesforce "
                                        f"says {value!r}")

    order_twins = twins(["salesOrder"], {a["Id"]: a for a in funded}, "Funded application", "sales order")
    for app in funded:
        twin = order_twins.get(app["Id"])
        if twin is None:
            continue
        order = twin[1]
        if _ref(order.entity) != account_id(app["AccountId"]):
            census.different.append(f"Sales order of {app['Id']}: entity {_ref(order.entity)}, the account's customer "
                                    f"is {account_id(app['AccountId']) or 'missing'}")
        fees = (app["OpportunityLineItems"] or {}).get("records") or []
        wanted = Counter((fee_items.get(fee["ProductCode"], fee["ProductCode"]), _money(fee["TotalPrice"])) for fee in fees)
        lines = Counter((_ref(line.item), _money(line.amount)) for line in _lines(order))
        for (item, amount), count in (wanted - lines).items():
            census.lost.append(f"Sales order of {app['Id']}: {count} fee line(s) item {item} amount {amount} missing")
        for (item, amount), count in (lines - wanted).items():
            census.duplicated.append(f"Sales order of {app['Id']}: {count} line(s) item {item} amount {amount} that "
                                     "Salesforce does not have")
        if pulls and str(app["NetSuite_Sales_Order_Id__c"] or "") != str(order.internalId):
            census.lost.append(f"Application {app['Id']}: NetSuite_Sales_Order_Id__c is "
                               f"{app['NetSuite_Sales_Order_Id__c']!r}, its sales order is {order.internalId}")

    po_twins = twins(["purchaseOrder"], {f"{a['Id']}-COMMISSION": a for a in brokered}, "Brokered application",
                     "purchase order")
    for app in brokered:
        twin = po_twins.get(f"{app['Id']}-COMMISSION")
        if twin is None:
            continue
        po = twin[1]
        if _ref(po.entity) != account_id(app["Broker__c"]):
            census.different.append(f"Purchase order of {app['Id']}: entity {_ref(po.entity)}, the broker's vendor is "
                                    f"{account_id(app['Broker__c']) or 'missing'}")
        wanted = [_money(app["Amount"] * app["Commission_Percent__c"] / 100)]
        amounts = [_money(line.amount) for line in _lines(po)]
        if not amounts:
            census.lost.append(f"Purchase order of {app['Id']}: its commission line is missing")
        elif amounts != wanted:
            census.different.append(f"Purchase order of {app['Id']}: commission lines {amounts}, Salesforce says {wanted}")
        if pulls and str(app["NetSuite_Commission_PO_Id__c"] or "") != str(po.internalId):
            census.lost.append(f"Application {app['Id']}: NetSuite_Commission_PO_Id__c is "
                               f"{app['NetSuite_Commission_PO_Id__c']!r}, its purchase order is {po.internalId}")
    return census
