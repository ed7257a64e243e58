"""The demo's business story, told to the two sandboxes while the hub runs.

Every few seconds something happens that a finance company's day is made of: applications arrive, move through
underwriting, some are funded (with fees, and a broker's commission on some), fees change after funding, merchants
remit payments in NetSuite (each funded order billed into an invoice, the ACH remittances applied to it), and now
and then the money comes back or arrives otherwise: an ACH return (the payment voided), a deposit taken for an order
before it is billed, a remittance nobody could match (a payment left unapplied, later refunded), a payment entered by
mistake and deleted; and someone types a record the hub cannot map, so the console has a failure to show. It talks
to the sandboxes over HTTP like any user would (NetSuite's voids, refunds and deletes through the sandbox's
/_sandbox/ controls, as a clerk would in the UI); it never touches the hub.

    python -m demo.story --salesforce https://127.0.0.1:8101 --ca-cert var/sandboxes/salesforce/tls/ca.pem \
        --netsuite http://127.0.0.1:8102 --every 15
"""
import argparse
import datetime as dt
import json
import random
import signal
import sys
import time
import urllib.error
import urllib.request

import requests
from simple_salesforce import Salesforce

STAGES = ["Application Received", "Underwriting", "Approved", "Contract Signed", "Funded"]
FEES = {"FEE-ORIG": 495.0, "FEE-UW": 395.0, "FEE-ACH": 99.0, "FEE-WIRE": 25.0}
MERCHANT_WORDS = ["Sunrise", "Harbor", "Maple", "Pioneer", "Golden", "Cedar", "Liberty", "Coastal", "Müller", "O'Neil"]
MERCHANT_KINDS = ["Bakery", "Auto Repair", "Dental", "Pizzeria", "Salon", "Hardware", "Café", "Trucking"]


class Story:
    def __init__(self, sf: Salesforce, netsuite_url: str, rng: random.Random, log):
        self.sf, self.netsuite_url, self.rng, self.log = sf, netsuite_url.rstrip("/"), rng, log
        self.entries = {e["ProductCode"]: e["Id"] for e in sf.query_all(
            "SELECT Id, ProductCode FROM PricebookEntry WHERE IsActive = true")["records"]}
        self.pricebook = sf.query("SELECT Id FROM Pricebook2 WHERE IsStandard = true LIMIT 1")["records"][0]["Id"]
        self.tick = 0
        self.recent_payments: list[str] = []
        self.unapplied: list[str] = []

    def step(self) -> None:
        self.tick += 1
        self.new_application()
        self.advance_applications()
        if self.tick % 3 == 0:
            self.change_a_fee()
        if self.tick % 2 == 0:
            self.remit_payments()
        if self.tick % 4 == 3:
            self.money_comes_back()
        if self.tick % 12 == 1:
            self.enter_a_bad_record()

    def new_application(self) -> None:
        merchants = self.sf.query_all("SELECT Id, Name FROM Account WHERE Type = 'Merchant' ORDER BY CreatedDate DESC LIMIT 50")["records"]
        if not merchants or self.rng.random() < 0.3:
            name = f"{self.rng.choice(MERCHANT_WORDS)} {self.rng.choice(MERCHANT_KINDS)} {self.rng.randrange(100, 999)}"
            account = self.sf.Account.create({"Name": name, "Type": "Merchant", "Phone": f"+1 555 {self.rng.randrange(1000000, 9999999)}"})
            self.sf.Contact.create({"AccountId": account["id"], "FirstName": self.rng.choice(["Ana", "Björn", "Zoë", "Sam"]),
                                    "LastName": self.rng.choice(["O'Brien", "Núñez", "Smith", "Kowalski"]),
                                    "Email": f"owner{self.rng.randrange(10**6)}@example.com"})
            merchants = [{"Id": account["id"], "Name": name}]
            self.log(f"new merchant {name}")
        merchant = self.rng.choice(merchants)
        amount = float(self.rng.choice([15000, 25000, 40000, 60000, 100000]))
        self.sf.Opportunity.create({
            "Name": f"{merchant['Name'][:80]} – funding {dt.date.today():%b %d}", "AccountId": merchant["Id"],
            "StageName": "Application Received", "CloseDate": (dt.date.today() + dt.timedelta(days=3)).isoformat(),
            "Amount": amount, "Pricebook2Id": self.pricebook,
        })
        self.log(f"application from {merchant['Name']} for {amount:,.0f}")

    def advance_applications(self) -> None:
        open_apps = self.sf.query_all(
            "SELECT Id, Name, StageName, Amount FROM Opportunity WHERE StageName IN "
            "('Application Received', 'Underwriting', 'Approved', 'Contract Signed') ORDER BY CreatedDate LIMIT 20")["records"]
        brokers = [b["Id"] for b in self.sf.query_all("SELECT Id FROM Account WHERE Type = 'Broker' LIMIT 20")["records"]]
        for app in self.rng.sample(open_apps, min(3, len(open_apps))):
            if app["StageName"] == "Underwriting" and self.rng.random() < 0.2:
                self.sf.Opportunity.update(app["Id"], {"StageName": "Declined"})
                self.log(f"declined {app['Name']}")
                continue
            stage = STAGES[STAGES.index(app["StageName"]) + 1]
            if stage == "Funded":
                self.fund(app, brokers)
            else:
                self.sf.Opportunity.update(app["Id"], {"StageName": stage})

    def fund(self, app: dict, brokers: list[str]) -> None:
        amount = app["Amount"] or 25000.0
        for code in self.rng.sample(sorted(FEES), 3):
            self.sf.OpportunityLineItem.create({"OpportunityId": app["Id"], "PricebookEntryId": self.entries[code],
                                                "Quantity": 1, "UnitPrice": FEES[code]})
        fields = {"StageName": "Funded", "Funded_Date__c": dt.date.today().isoformat(),
                  "Payback_Amount__c": round(amount * 1.35, 2), "Factor_Rate__c": 1.35, "Holdback_Percent__c": 10}
        if brokers and self.rng.random() < 0.5:
            fields.update({"Broker__c": self.rng.choice(brokers), "Commission_Percent__c": float(self.rng.choice([4, 6, 8]))})
        self.sf.Opportunity.update(app["Id"], fields)
        self.log(f"funded {app['Name']}" + (" (brokered)" if "Broker__c" in fields else ""))

    def change_a_fee(self) -> None:
        lines = self.sf.query_all("SELECT Id, UnitPrice, Opportunity.Name FROM OpportunityLineItem "
                                  "WHERE Opportunity.StageName = 'Funded' ORDER BY CreatedDate DESC LIMIT 20")["records"]
        if lines:
            line = self.rng.choice(lines)
            self.sf.OpportunityLineItem.update(line["Id"], {"UnitPrice": round(line["UnitPrice"] * 1.1, 2)})
            self.log(f"fee changed on {line['Opportunity']['Name']}")

    def remit_payments(self) -> None:
        body = json.dumps({"days": 1, "per_day": self.rng.randrange(2, 6), "seed": self.rng.randrange(10**6), "backdate": False}).encode()
        request = urllib.request.Request(self.netsuite_url + "/_sandbox/pay", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.loads(response.read())
        paid = answer["payments"]
        self.recent_payments = ([str(p["internalId"]) for p in answer.get("created", [])] + self.recent_payments)[:20]
        if paid:
            self.log(f"{paid} payments remitted in NetSuite")

    def netsuite_control(self, path: str, payload: dict) -> dict | None:
        request = urllib.request.Request(self.netsuite_url + path, data=json.dumps(payload).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            # NetSuite refused (nothing to bill, already voided, another record depends on it): a clerk moves on.
            self.log(f"NetSuite refused {path.rsplit('/', 1)[1]}: {error.read().decode(errors='replace')[:120]}")
            return None

    def money_comes_back(self) -> None:
        """One of the money events of a funder's week, in NetSuite."""
        event = self.rng.choices(["ach_return", "deposit", "unapplied", "refund", "mistake"], [4, 2, 2, 1, 1])[0]
        if event == "ach_return" and self.recent_payments:
            payment = self.recent_payments.pop(self.rng.randrange(len(self.recent_payments)))
            if self.netsuite_control("/_sandbox/void", {"type": "customerPayment", "internalId": payment}):
                self.log(f"ACH return: payment {payment} voided in NetSuite")
        elif event == "deposit":
            deposit = self.netsuite_control("/_sandbox/deposit", {})
            if deposit:
                self.log(f"deposit of {deposit['total']:,.2f} taken for sales order {deposit['salesOrder']}")
        elif event == "unapplied" or (event == "refund" and not self.unapplied):
            payment = self.netsuite_control("/_sandbox/unapplied", {"amount": float(self.rng.choice([50, 120, 300]))})
            if payment:
                self.unapplied.append(payment["internalId"])
                self.log(f"a remittance of {payment['total']:,.2f} nobody could match, left unapplied")
        elif event == "refund":
            payment = self.unapplied.pop(0)
            refund = self.netsuite_control("/_sandbox/refund", {"type": "customerPayment", "internalId": payment})
            if refund:
                self.log(f"unapplied payment {payment} refunded ({refund['total']:,.2f})")
        elif event == "mistake":
            payment = self.netsuite_control("/_sandbox/unapplied", {"amount": 10.0})
            if payment and self.netsuite_control("/_sandbox/delete", {"type": "customerPayment",
                                                                       "internalId": payment["internalId"]}):
                self.log(f"payment {payment['internalId']} entered by mistake, deleted")

    def enter_a_bad_record(self) -> None:
        # "Partner" has no value mapping for Account.Type: the hub fails this record alone and says why.
        name = f"Typo Partners {self.rng.randrange(1000)}"
        self.sf.Account.create({"Name": name, "Type": "Partner"})
        self.log(f"a record the hub cannot map: account {name} of type Partner")


def connect(url: str, ca_cert: str, username: str, password: str, token: str) -> Salesforce:
    session = requests.Session()
    session.verify, session.trust_env = ca_cert, False
    host = url.split("://", 1)[1].rstrip("/")
    # simple-salesforce logs in at https://{domain}.salesforce.com/…; the sandbox answers on any path ending so.
    return Salesforce(username=username, password=password, security_token=token, domain=f"{host}/login", session=session)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sandbox story", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--salesforce", default="https://127.0.0.1:8101")
    parser.add_argument("--ca-cert", default="var/sandboxes/salesforce/tls/ca.pem")
    parser.add_argument("--netsuite", default="http://127.0.0.1:8102")
    parser.add_argument("--username", default="integration@hub.sandbox")
    parser.add_argument("--password", default="sandbox-password")
    parser.add_argument("--security-token", default="SANDBOXTOKEN")
    parser.add_argument("--every", type=float, default=15, help="seconds between story steps")
    parser.add_argument("--steps", type=int, default=0, help="stop after this many steps (0: until stopped)")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"{dt.datetime.now():%H:%M:%S} story: {message}", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    story = Story(connect(args.salesforce, args.ca_cert, args.username, args.password, args.security_token),
                  args.netsuite, random.Random(args.seed), log)
    step = 0
    while not args.steps or step < args.steps:
        step += 1
        try:
            story.step()
        except Exception as exc:  # a hiccup of the demo must not end the demo
            log(f"step failed: {type(exc).__name__}: {exc}")
        time.sleep(args.every)
    return 0
