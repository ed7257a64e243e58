"""Do the two systems agree on the money? Beside the count reconciliation (reconcile.py), per application:
- the sales order's total in NetSuite against the fee lines in Salesforce;
- the commission purchase order's amount against funded amount × commission %;
- each remittance in Salesforce against the money NetSuite holds now (payments, deposits, voids, refunds, credit
  memos, deletes), by remittance key and in the transaction's currency.

It asks both systems, not the hub's books: NetSuite's money is read whole and turned into remittances by the same
rules the pull follows (syncs/money.py), with each order's application taken from the order's external id in
NetSuite. Each run and its differences are kept (ReconciliationRun, ReconciliationDifference), and finance gets a
review item for each difference (once per cause). Run nightly by beat, from the console and by `sync reconcile`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone

from mappings.models import ValueMapping

from . import finance, money
from .clients.errors import RemoteError
from .clients.netsuite import netsuite_client
from .clients.salesforce import salesforce_client, soql_format
from .models import SALESFORCE_ID, FinanceReviewKind, ReconciliationDifference, ReconciliationRun

logger = logging.getLogger(__name__)
Check = ReconciliationDifference.Check
IDS_PER_QUERY = 200
CENT = 0.005


class NetSuiteBooks:
    """money.Books over what was read of NetSuite just now."""

    def __init__(self):
        self.records: dict[tuple[str, str], dict] = {}
        self.invoices: dict[str, str] = {}
        self.applications: dict[str, str] = {}
        self.refunds: dict[tuple[str, str], dict[str, float]] = {}

    def add(self, record_type: str, record: dict) -> None:
        internal_id = str(record["internalId"])
        self.records[(record_type, internal_id)] = record
        if record_type == money.REFUND:
            for key, amount in money.refunded_lines(record).items():
                self.refunds.setdefault(key, {})[internal_id] = amount

    def transaction(self, record_type, internal_id):
        return self.records.get((record_type, internal_id))

    def deleted(self, record_type, internal_id):
        return False   # a deleted transaction is not read at all

    def refunds_of(self, record_type, internal_id):
        return self.refunds.get((record_type, internal_id), {})

    def invoice_order(self, invoice_id):
        return self.invoices.get(invoice_id, "")

    def order_application(self, order_id):
        return self.applications.get(order_id, "")


@dataclass
class Difference:
    kind: str
    description: str
    application_id: str = ""
    application_name: str = ""
    salesforce_record_id: str = ""
    remittance_key: str = ""
    netsuite_record_type: str = ""
    netsuite_internal_id: str = ""
    netsuite_number: str = ""
    currency: str = ""
    salesforce_amount: float | None = None
    netsuite_amount: float | None = None

    @property
    def cause(self) -> str:
        record = self.remittance_key or self.netsuite_internal_id or self.application_id
        return (f"reconciliation:{self.kind}:{record}:{_figure(self.salesforce_amount)}:{_figure(self.netsuite_amount)}")


def _figure(value) -> str:
    return "none" if value is None else f"{value:.2f}"


def _amount(value) -> str:
    return "nothing" if value is None else f"{value:,.2f}"


def amounts_reconcile(*, trigger: str = "manual", salesforce=None, netsuite=None) -> ReconciliationRun:
    """Reconcile the amounts now; the run, with its differences stored and filed for finance."""
    run = ReconciliationRun.objects.create(trigger=trigger, started_at=timezone.now())
    try:
        differences, checked = amount_differences(salesforce=salesforce or salesforce_client(),
                                                  netsuite=netsuite or netsuite_client())
    except RemoteError as error:
        run.outcome, run.finished_at = "failed", timezone.now()
        run.message = f"A system could not be read ({error.code}: {error.message}); nothing was compared."
        run.save()
        return run
    rows = ReconciliationDifference.objects.bulk_create([ReconciliationDifference(
        run=run, kind=d.kind, application_id=d.application_id, application_name=d.application_name[:120],
        salesforce_record_id=d.salesforce_record_id, remittance_key=d.remittance_key,
        netsuite_record_type=d.netsuite_record_type, netsuite_internal_id=d.netsuite_internal_id,
        netsuite_number=d.netsuite_number, currency=d.currency, description=d.description,
        salesforce_amount=None if d.salesforce_amount is None else round(d.salesforce_amount, 2),
        netsuite_amount=None if d.netsuite_amount is None else round(d.netsuite_amount, 2)) for d in differences])
    for difference in differences:
        finance.review_file(
            kind=FinanceReviewKind.RECONCILIATION, cause=difference.cause, summary=difference.description,
            application_id=difference.application_id, application_name=difference.application_name[:120],
            salesforce_record_id=difference.salesforce_record_id, netsuite_record_type=difference.netsuite_record_type,
            netsuite_internal_id=difference.netsuite_internal_id, netsuite_number=difference.netsuite_number,
            amount_before=difference.salesforce_amount, amount_after=difference.netsuite_amount,
            currency=difference.currency)
    run.applications_checked, run.remittances_checked = checked
    run.differences_found = len(rows)
    run.outcome = "differences" if rows else "agreed"
    run.finished_at = timezone.now()
    run.message = (f"{len(rows)} difference{'s' if len(rows) != 1 else ''} in {checked[0]} applications and "
                   f"{checked[1]} remittances." if rows else
                   f"Both systems agree on {checked[0]} applications and {checked[1]} remittances.")
    run.save()
    return run


def amount_differences(*, salesforce, netsuite) -> tuple[list[Difference], tuple[int, int]]:
    """Every difference, and how many applications and remittances were compared."""
    stages = sorted(ValueMapping.objects.filter(category="application_stage", target_value="push")
                    .values_list("source_value", flat=True)) or ["Funded"]
    applications = {a["Id"]: a for a in salesforce.query_all(soql_format(
        "SELECT Id, Name, Amount, Commission_Percent__c, Broker__c FROM Opportunity WHERE StageName IN {stages}",
        stages=stages))}
    fees: dict[str, float] = {}
    ids = sorted(applications)
    for start in range(0, len(ids), IDS_PER_QUERY):
        for line in salesforce.query_all(soql_format(
                "SELECT OpportunityId, TotalPrice FROM OpportunityLineItem WHERE OpportunityId IN {ids}",
                ids=ids[start:start + IDS_PER_QUERY])):
            fees[line["OpportunityId"]] = fees.get(line["OpportunityId"], 0.0) + float(line.get("TotalPrice") or 0)
    differences: list[Difference] = []
    orders = _all(netsuite, money.SALES_ORDER, body_fields_only=True)
    commissions = _all(netsuite, "purchaseOrder", body_fields_only=True)
    by_application = {str(o.get("externalId") or ""): o for o in orders}
    for app_id, application in sorted(applications.items()):
        name = application.get("Name") or app_id
        order = by_application.get(app_id)
        if order is not None and abs(money.money(order.get("total")) - money.money(fees.get(app_id))) >= CENT:
            differences.append(Difference(
                Check.FEES, f"Sales order {order.get('tranId')} of {name} totals {_amount(money.money(order.get('total')))} "
                f"in NetSuite; its fee lines in Salesforce total {_amount(money.money(fees.get(app_id)))}.",
                application_id=app_id, application_name=name, netsuite_record_type=money.SALES_ORDER,
                netsuite_internal_id=str(order["internalId"]), netsuite_number=str(order.get("tranId") or ""),
                currency=_currency(order), salesforce_amount=money.money(fees.get(app_id)),
                netsuite_amount=money.money(order.get("total"))))
    by_commission = {str(o.get("externalId") or ""): o for o in commissions}
    for app_id, application in sorted(applications.items()):
        commission = by_commission.get(f"{app_id}-COMMISSION")
        if commission is None or not application.get("Broker__c"):
            continue
        expected = money.money(float(application.get("Amount") or 0) * float(application.get("Commission_Percent__c") or 0) / 100)
        if abs(money.money(commission.get("total")) - expected) >= CENT:
            name = application.get("Name") or app_id
            differences.append(Difference(
                Check.COMMISSION, f"Commission order {commission.get('tranId')} of {name} is "
                f"{_amount(money.money(commission.get('total')))} in NetSuite; funded amount × commission % in "
                f"Salesforce is {_amount(expected)}.", application_id=app_id, application_name=name,
                netsuite_record_type="purchaseOrder", netsuite_internal_id=str(commission["internalId"]),
                netsuite_number=str(commission.get("tranId") or ""), currency=_currency(commission),
                salesforce_amount=expected, netsuite_amount=money.money(commission.get("total"))))

    books = NetSuiteBooks()
    books.applications = {str(o["internalId"]): str(o.get("externalId") or "") for o in orders
                          if SALESFORCE_ID.match(str(o.get("externalId") or ""))}
    for record_type in money.MONEY_TYPES:
        for record in _all(netsuite, record_type, body_fields_only=False):
            books.add(record_type, record)
    invoices = sorted(set().union(*[money.referenced_invoices(t, r) for (t, _), r in books.records.items()]) if books.records else set())
    for start in range(0, len(invoices), 1000):
        chunk = invoices[start:start + 1000]
        books.invoices.update({str(k): str(v) for k, v in netsuite.transactions_created_from(money.INVOICE, chunk).items()})
    expected = {}
    for record_type, internal_id in sorted(books.records):
        if record_type in money.REMITTANCE_SOURCES:
            for part in money.remittance_parts(books, record_type, internal_id):
                expected[part.key] = part
    remittances = {str(r["NetSuite_Payment_Id__c"]): r for r in salesforce.query_all(
        "SELECT Id, Name, Application__c, Amount__c, Type__c, Currency__c, Status__c, NetSuite_Payment_Id__c, "
        "NetSuite_Payment_Number__c FROM Remittance__c WHERE NetSuite_Payment_Id__c != null")
        if r.get("NetSuite_Payment_Id__c")}
    names = {app_id: a.get("Name") or app_id for app_id, a in applications.items()}
    for key in sorted(set(expected) | set(remittances)):
        part, remittance = expected.get(key), remittances.get(key)
        found = money.money(remittance.get("Amount__c")) if remittance else None
        booked = part.amount if part else None
        if part is None and (found or 0) == 0:
            continue   # a remittance zeroed for a transaction NetSuite no longer has (deleted): as it should be
        if remittance is None and (booked or 0) == 0:
            continue   # nothing to remit (a transaction voided before the hub first read it)
        if found is not None and booked is not None and abs(found - booked) < CENT:
            continue
        application_id = (part.application_id if part else "") or (remittance or {}).get("Application__c") or ""
        name = names.get(application_id, application_id)
        where = f" on {name}" if application_id else " on the Account"
        number = part.number if part else (remittance or {}).get("NetSuite_Payment_Number__c") or ""
        noun = money.NOUNS.get(part.source_type, "Transaction") if part else "Transaction"
        if remittance is None:
            kind = Check.MISSING_REMITTANCE
            text = (f"{noun} {number} ({_amount(booked)} {part.currency}){where} is in NetSuite but has no remittance "
                    f"{key} in Salesforce.")
        elif part is None:
            kind = Check.ORPHAN_REMITTANCE
            text = (f"Remittance {remittance.get('Name') or remittance['Id']} ({key}, {_amount(found)}){where} has no "
                    "money in NetSuite: no payment, deposit, credit memo or refund of that id.")
        else:
            kind = Check.REMITTANCE_AMOUNT
            text = (f"Remittance {remittance.get('Name') or remittance['Id']} ({key}){where} reads {_amount(found)} in "
                    f"Salesforce; NetSuite books {_amount(booked)} ({noun.lower()} {number}, {part.status or 'status unknown'}).")
        differences.append(Difference(
            kind, text, application_id=application_id, application_name=name, remittance_key=key,
            salesforce_record_id=(remittance or {}).get("Id", ""),
            netsuite_record_type=part.source_type if part else "", netsuite_internal_id=part.source_id if part else "",
            netsuite_number=number, currency=(part.currency if part else (remittance or {}).get("Currency__c") or ""),
            salesforce_amount=found, netsuite_amount=booked))
    return differences, (len(applications), len(set(expected) | set(remittances)))


def _all(netsuite, record_type: str, *, body_fields_only: bool) -> list[dict]:
    """Every transaction of a type, each once (a record changed while the pages are read may come twice)."""
    records = {}
    for page in netsuite.transaction_pages(transaction_type=record_type, modified_since=None,
                                           body_fields_only=body_fields_only):
        for record in page.records:
            records[str(record["internalId"])] = record
    return list(records.values())


def _currency(record: dict) -> str:
    return str((record.get("currency") or {}).get("name") or "")
