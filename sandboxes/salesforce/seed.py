"""A deterministic org of any size, with the values that break integrations.

The same plan and random seed give the same names, amounts, stages and relationships every time (ids too, on an
empty org). Timestamps are offsets back from the moment of seeding, so a fresh seed always looks recently active.
"""
import datetime as dt
import random
from dataclasses import dataclass

from . import schema
from .records import USER_ID
from .store import Store, now_stamp

# Values that have broken real integrations: quoting, escaping, encodings, limits, duplicates.
AWKWARD_ACCOUNT_NAMES = [
    "O'Brien & Sons",
    "Café Zürich GmbH",
    "株式会社サンプル商事",
    "\"Quoted\" Holdings, Inc.",
    "100% Organic_Foods LLC",
    "Back\\Slash Trading",
    "Ünïcødé Ëmporium — Ltd",
    "Acme Corp",
    "Acme Corp",
    "Acme Corp",
    "Smith & Wesson's <Deli>",
    "Tab\tand Newline Co",
]
COMPANY_WORDS = ["Summit", "Harbor", "Maple", "Pioneer", "Blue Ridge", "Golden", "Lakeside", "Redwood", "Silver",
                 "Keystone", "Evergreen", "Granite", "Sunrise", "Northwind", "Riverbend", "Cedar", "Liberty",
                 "Prairie", "Coastal", "Metro", "Żabka", "São Paulo", "Øresund", "Île-de-France", "Müller"]
COMPANY_KINDS = ["Bakery", "Auto Repair", "Dental", "Pizzeria", "Construction", "Logistics", "Salon", "Hardware",
                 "Florist", "Fitness", "Plumbing", "Café", "Diner", "Pharmacy", "Boutique", "Trucking"]
COMPANY_SUFFIXES = ["LLC", "Inc.", "Co.", "Ltd", "Group", "& Co", "GmbH", "S.A.", ""]
BROKER_NAMES = ["Capital Bridge Partners", "FastFund Brokers", "Main Street Funding Advisors", "Velocity ISO",
                "Keystone Merchant Brokers", "D'Angelo Finance & Co"]
FIRST_NAMES = ["James", "Mary", "José", "Zoë", "Łukasz", "Siobhán", "Ahmed", "Mei", "Renée", "John", "Priya",
               "Björn", "Chloé", "D'Arcy", "Ana-María", "王", "Olúwaseun", "Grace", "Noah", "Fatima"]
LAST_NAMES = ["Smith", "O'Brien", "Núñez", "Müller", "García", "Nguyen", "Kowalski", "O'Connor", "Johnson",
              "van der Berg", "Østergård", "李", "Patel", "Brown", "Dupont-Lefèvre", "MacDonald", "Smith"]
CITIES = [("New York", "United States"), ("Zürich", "Switzerland"), ("Montréal", "Canada"), ("Chicago",
          "United States"), ("London", "United Kingdom"), ("東京", "Japan"), ("Austin", "United States"),
          ("Miami", "United States"), ("São Paulo", "Brazil"), ("Denver", "United States")]
TITLES = ["Owner", "CFO", "Office Manager", "President", "Bookkeeper", None]
STAGE_WEIGHTS = [("Application Received", 15), ("Underwriting", 15), ("Approved", 10), ("Contract Signed", 10),
                 ("Funded", 35), ("Declined", 15)]
FEE_PRICES = {"FEE-ORIG": 495.0, "FEE-UW": 395.0, "FEE-ACH": 99.0, "FEE-WIRE": 25.0}


@dataclass
class SeedPlan:
    accounts: int = 200
    contacts_per_account: int = 2
    applications: int | None = None     # default: one per merchant account
    broker_share: float = 0.1
    remittances_per_funded: int = 2
    random_seed: int = 42
    history_days: int = 25              # inside getUpdated's 30-day window


class Seeder:
    def __init__(self, store: Store, plan: SeedPlan):
        self.store = store
        self.plan = plan
        self.random = random.Random(plan.random_seed)
        self.now = dt.datetime.now(dt.timezone.utc)
        self.rows = {obj.name: [] for obj in schema.OBJECTS}

    def stamps(self) -> dict:
        history = dt.timedelta(days=self.plan.history_days)
        created = self.now - history + dt.timedelta(seconds=self.random.uniform(0, history.total_seconds() * 0.8))
        modified = created + (self.now - created) * self.random.random() * 0.5
        return {"IsDeleted": False, "CreatedDate": now_stamp(created), "CreatedById": USER_ID,
                "LastModifiedDate": now_stamp(modified), "LastModifiedById": USER_ID,
                "SystemModstamp": now_stamp(modified)}

    def add(self, conn, obj_name: str, values_list: list) -> list:
        obj = schema.BY_NAME[obj_name]
        new_ids = self.store.new_ids(conn, obj, len(values_list))
        for record_id, values in zip(new_ids, values_list):
            row = {f.name: (False if f.type == schema.BOOLEAN else None) for f in obj.fields}
            row.update(self.stamps())
            row.update(values)
            if "CurrencyIsoCode" in row and not row["CurrencyIsoCode"]:
                row["CurrencyIsoCode"] = schema.CORPORATE_CURRENCY
            row["Id"] = record_id
            self.rows[obj_name].append(row)
        return new_ids

    # -- the data set -----------------------------------------------------------------------------------------------
    def account_names(self, count: int) -> list:
        names = list(AWKWARD_ACCOUNT_NAMES)
        # One name at the field's maximum length, the edge a truncating client gets wrong.
        names.append(("Maximum Length Name Holdings " * 10)[:255])
        while len(names) < count:
            word, kind, suffix = (self.random.choice(COMPANY_WORDS), self.random.choice(COMPANY_KINDS),
                                  self.random.choice(COMPANY_SUFFIXES))
            names.append(f"{word} {kind} {suffix}".strip())
        return names[:count]

    def seed(self, conn) -> dict:
        plan = self.plan
        pricebook = self.ensure_catalogue(conn)
        brokers = max(1, int(plan.accounts * plan.broker_share)) if plan.accounts >= 2 else 0
        merchants = plan.accounts - brokers
        accounts = []
        for index, name in enumerate(self.account_names(merchants)):
            city, country = self.random.choice(CITIES)
            accounts.append({
                "Name": name,
                "Type": self.random.choices(["Merchant", "Prospect", "Other", None], [80, 10, 5, 5])[0],
                "Phone": None if index % 7 == 3 else f"+1 (555) {self.random.randint(100, 999)}-"
                                                     f"{self.random.randint(1000, 9999)}",
                "Website": None if index % 3 else f"https://www.example{index}.com",
                "Industry": self.random.choice(schema.INDUSTRIES),
                "BillingStreet": f"{self.random.randint(1, 9999)} Main St\nSuite {self.random.randint(1, 400)}",
                "BillingCity": city, "BillingCountry": country,
                "BillingPostalCode": f"{self.random.randint(10000, 99999)}",
                "Description": None if index % 5 else "Seasonal business; remits daily by ACH.",
                "Legacy_Id__c": f"LEG-{index % max(1, merchants - 3):06d}",
            })
        merchant_ids = self.add(conn, "Account", accounts)
        broker_rows = [{"Name": BROKER_NAMES[i % len(BROKER_NAMES)] + ("" if i < len(BROKER_NAMES) else f" {i}"),
                        "Type": "Broker", "Industry": "Professional Services"} for i in range(brokers)]
        broker_ids = self.add(conn, "Account", broker_rows)
        self.seed_contacts(conn, merchant_ids + broker_ids)
        merchant_ids = [i for i, a in zip(merchant_ids, accounts) if a["Type"] in ("Merchant", None)] or merchant_ids
        application_count = plan.applications if plan.applications is not None else len(merchant_ids)
        self.seed_applications(conn, application_count, merchant_ids, broker_ids, pricebook, accounts)
        return self.flush(conn)

    def ensure_catalogue(self, conn) -> dict:
        """The standard price book and the fee products, once per org."""
        existing = self.store.find(schema.BY_NAME["Pricebook2"], "IsStandard", 1, conn=conn)
        entries_obj = schema.BY_NAME["PricebookEntry"]
        if existing:
            entries = self.store.find(entries_obj, "Pricebook2Id", existing[0]["Id"], conn=conn, limit=-1)
            return {"id": existing[0]["Id"], "entries": {e["ProductCode"]: e for e in entries}}
        pricebook_id = self.add(conn, "Pricebook2", [{"Name": "Standard Price Book", "IsStandard": True,
                                                       "IsActive": True}])[0]
        product_ids = self.add(conn, "Product2", [{"Name": name, "ProductCode": code, "Family": "Fee",
                                                    "IsActive": True} for code, name in schema.FEE_PRODUCTS])
        entries = {}
        entry_rows = []
        for (code, name), product_id in zip(schema.FEE_PRODUCTS, product_ids):
            entry_rows.append({"Pricebook2Id": pricebook_id, "Product2Id": product_id, "Name": name,
                               "ProductCode": code, "UnitPrice": FEE_PRICES[code], "IsActive": True})
        for row, entry_id in zip(entry_rows, self.add(conn, "PricebookEntry", entry_rows)):
            entries[row["ProductCode"]] = dict(row, Id=entry_id)
        return {"id": pricebook_id, "entries": entries}

    def seed_contacts(self, conn, account_ids: list):
        contacts = []
        for index, account_id in enumerate(account_ids):
            for n in range(self.plan.contacts_per_account):
                first, last = self.random.choice(FIRST_NAMES), self.random.choice(LAST_NAMES)
                if index == 0 and n == 0:
                    last = ("Longlastname" * 7)[:80]
                email = None if self.random.random() < 0.15 else (
                    f"{first}.{last}.{index}.{n}".lower().encode("ascii", "ignore").decode()
                    .replace(" ", "").replace("'", "") + "@example.com")
                city, country = self.random.choice(CITIES)
                contacts.append({
                    "Salutation": self.random.choice(["Mr.", "Ms.", "Dr.", None]), "FirstName": first,
                    "LastName": last, "AccountId": account_id, "Email": email if email and email[0] != "." else None,
                    "Phone": None if n else f"555-{self.random.randint(1000, 9999)}",
                    "Title": self.random.choice(TITLES), "MailingCity": city, "MailingCountry": country,
                })
        self.add(conn, "Contact", contacts)

    def fee_line(self, application_id: str, application: dict, pricebook: dict, code: str) -> dict:
        """One fee line item of an application: the price book's price, sometimes raised."""
        entry = pricebook["entries"][code]
        price = round(entry["UnitPrice"] * self.random.choice([1, 1, 1.5, 2]), 2)
        return {"OpportunityId": application_id, "PricebookEntryId": entry["Id"], "Product2Id": entry["Product2Id"],
                "ProductCode": code, "Name": f"{application['Name']} {entry['Name']}"[:376], "Quantity": 1.0,
                "UnitPrice": price, "TotalPrice": price, "ListPrice": entry["UnitPrice"]}

    def seed_applications(self, conn, count, merchant_ids, broker_ids, pricebook, accounts):
        if not merchant_ids or not count:
            return
        names = {row["Id"]: row["Name"] for row in self.rows["Account"]}
        stages = [s for s, _ in STAGE_WEIGHTS]
        weights = [w for _, w in STAGE_WEIGHTS]
        applications = []
        for index in range(count):
            account_id = merchant_ids[index % len(merchant_ids)]
            # Every stage appears even in a tiny org; after that the mix follows the weights.
            stage = stages[index] if index < len(stages) else self.random.choices(stages, weights)[0]
            amount = float(self.random.randrange(5000, 500001, 500))
            factor = round(self.random.uniform(1.15, 1.49), 2)
            close = self.now.date() + dt.timedelta(days=self.random.randint(-120, 60))
            brokered = broker_ids and self.random.random() < 0.4
            applications.append({
                "Name": f"{names[account_id][:100]} - MCA {index + 1}"[:120],
                "AccountId": account_id, "StageName": stage, "CloseDate": close.isoformat(),
                "Amount": amount, "Factor_Rate__c": factor, "Payback_Amount__c": round(amount * factor, 2),
                "Holdback_Percent__c": float(self.random.choice([5, 8, 10, 12, 15, 20])),
                "Broker__c": self.random.choice(broker_ids) if brokered else None,
                "Commission_Percent__c": float(self.random.choice([2, 4, 6, 8, 10])) if brokered else None,
                "Funded_Date__c": (close - dt.timedelta(days=1)).isoformat() if stage == "Funded" else None,
                "IsClosed": stage in schema.CLOSED_STAGES, "IsWon": schema.CLOSED_STAGES.get(stage, False),
                "Pricebook2Id": pricebook["id"] if stage == "Funded" else None,
            })
        application_ids = self.add(conn, "Opportunity", applications)
        line_items, remittances = [], []
        for application_id, application in zip(application_ids, applications):
            if application["StageName"] != "Funded":
                continue
            codes = ["FEE-ORIG", "FEE-UW"] + self.random.sample(["FEE-ACH", "FEE-WIRE"], self.random.randint(0, 2))
            line_items += [self.fee_line(application_id, application, pricebook, code) for code in codes]
            daily = round(application["Payback_Amount__c"] / 120, 2)
            for n in range(self.plan.remittances_per_funded):
                remittances.append({
                    "Application__c": application_id, "Account__c": application["AccountId"], "Amount__c": daily,
                    "Payment_Date__c": (self.now.date() - dt.timedelta(days=n + 1)).isoformat(),
                    "Method__c": self.random.choice(schema.REMITTANCE_METHODS[:3]), "Status__c": "Deposited",
                })
        self.add(conn, "OpportunityLineItem", line_items)
        if remittances:
            first = self.store.next_counter(conn, "autonumber:a01", len(remittances))
            for offset, remittance in enumerate(remittances):
                number = first + offset
                remittance["Name"] = schema.REMITTANCE_NAME_FORMAT.format(number)
                remittance["NetSuite_Payment_Id__c"] = str(700000 + number)
                remittance["NetSuite_Payment_Number__c"] = f"PYMT{number:07d}"
            self.add(conn, "Remittance__c", remittances)

    def flush(self, conn) -> dict:
        counts = {}
        for obj in schema.OBJECTS:
            rows = self.rows[obj.name]
            self.store.insert_many(conn, obj, rows)
            counts[obj.name] = len(rows)
        return counts


def seed_org(store: Store, plan: SeedPlan) -> dict:
    with store.transaction() as conn:
        counts = Seeder(store, plan).seed(conn)
    store.conn().execute("PRAGMA optimize")
    return counts
