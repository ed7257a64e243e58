"""The account's subsidiaries and currencies (a OneWorld account), and NetSuite's rules for them on entities and
transactions.

Kept as records of their own store families (`subsidiaries`, `currencies`) with fixed internal ids, so a value mapping can name them and a client can
read them (SOAP get/getList of a Subsidiary or Currency, REST record service, SuiteQL `subsidiary` and `currency`).

NetSuite's rules the sandbox applies (Oracle's Schema Browser, Customer/Vendor `subsidiary`: "After a transaction has
posted for the vendor, you are not able to change the subsidiary"; "The default primary currency for the vendor is
the base currency of the primary subsidiary"; Help Center "Assigning Additional Subsidiaries to a Customer",
section_161895998055.html: a transaction's subsidiary defaults to the customer's primary one):
- an entity's subsidiary must exist (INVALID_KEY_OR_REF) and is fixed once the entity has transactions
  (SUBSIDIARY_CHANGE_NOT_ALLOWED);
- an entity's primary currency defaults to its subsidiary's base currency; the currencies it may trade in are its
  primary currency, its subsidiary's base currency and those of its currency list (`currencyList`);
- a transaction's subsidiary and currency default to its entity's; a subsidiary other than the entity's is refused
  (SUBSIDIARY_MISMATCH), and so is a currency the entity may not use (MISMATCHED_CURRENCY).
The codes are those of the 2023_2 XSD's StatusDetailCodeType. Oracle documents no message text for them that could be
found; the messages here are the sandbox's own wording, naming the record and the values.
"""
from __future__ import annotations

from .envelope import ACCOUNTING_NS
from .store import Store, StoredRecord

# internal id → (ISO code, symbol)
CURRENCIES = {"1": ("USD", "$"), "2": ("EUR", "€"), "3": ("GBP", "£"), "4": ("CAD", "CA$")}
# internal id → (name, base currency id, parent subsidiary id)
SUBSIDIARIES = {"1": ("Parent Company", "1", None), "2": ("Europe B.V.", "2", "1")}
PARENT = "1"

# (record type, XSD type, label) of the list records, for records.KINDS.
LIST_KINDS = [
    ("subsidiary", f"{{{ACCOUNTING_NS}}}Subsidiary", "subsidiaries", "Subsidiary"),
    ("currency", f"{{{ACCOUNTING_NS}}}Currency", "currencies", "Currency"),
]


class ChartError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def seed_chart(store: Store) -> None:
    """The subsidiaries and currencies, with fixed ids; existing ones are left as they are."""
    stamp = 1_704_067_200_000
    with store.write() as connection:
        for internal_id, (code, symbol) in CURRENCIES.items():
            if Store.get(connection, "currencies", int(internal_id)) is None:
                body = {"internalId": internal_id, "name": code, "symbol": symbol, "displaySymbol": symbol,
                        "isBaseCurrency": "true" if internal_id in {s[1] for s in SUBSIDIARIES.values()} else "false",
                        "isInactive": "false", "exchangeRate": "1.0" if code == "USD" else _RATES[code]}
                Store.save(connection, "currencies", StoredRecord(int(internal_id), "currency", None, stamp, stamp,
                                                                  None, None, body))
        for internal_id, (name, currency, parent) in SUBSIDIARIES.items():
            if Store.get(connection, "subsidiaries", int(internal_id)) is not None:
                continue
            body = {"internalId": internal_id, "name": name, "isInactive": "false",
                    "currency": {"internalId": currency, "name": CURRENCIES[currency][0]}}
            if parent:
                body["parent"] = {"internalId": parent, "name": SUBSIDIARIES[parent][0]}
            Store.save(connection, "subsidiaries", StoredRecord(int(internal_id), "subsidiary", None, stamp, stamp,
                                                                None, None, body))


_RATES = {"EUR": "1.08", "GBP": "1.27", "CAD": "0.73"}


def subsidiary_ref(internal_id: str) -> dict:
    return {"internalId": internal_id, "name": SUBSIDIARIES[internal_id][0]}


def currency_ref(internal_id: str) -> dict:
    return {"internalId": internal_id, "name": CURRENCIES[internal_id][0]}


def _key(ref) -> str:
    if not isinstance(ref, dict):
        return ""
    return str(ref.get("internalId") or ref.get("externalId") or "")


def known_subsidiary(ref) -> dict:
    key = _key(ref)
    if key not in SUBSIDIARIES:
        raise ChartError("INVALID_KEY_OR_REF", f"Invalid subsidiary reference key {key}.")
    return subsidiary_ref(key)


def known_currency(ref) -> dict:
    key = _key(ref)
    if key not in CURRENCIES:
        raise ChartError("INVALID_KEY_OR_REF", f"Invalid currency reference key {key}.")
    return currency_ref(key)


def entity_currencies(body: dict) -> list[str]:
    """The currencies an entity may trade in: its primary one, its subsidiary's base currency and its currency list."""
    found = []
    for ref in [body.get("currency"),
                {"internalId": SUBSIDIARIES.get(_key(body.get("subsidiary")), ("", "", None))[1]},
                *[line.get("currency") for line in _listed(body.get("currencyList"))]]:
        key = _key(ref)
        if key in CURRENCIES and key not in found:
            found.append(key)
    return found


def _listed(currency_list) -> list[dict]:
    # A customer's currency list holds `currency` lines, a vendor's `vendorCurrency` lines (listRel XSD).
    currency_list = currency_list or {}
    return currency_list.get("currency") or currency_list.get("vendorCurrency") or []


def entity_rules(body: dict, existing, has_transactions, *, list_key: str = "currency") -> None:
    """A customer's or vendor's subsidiary and currencies, checked and completed in `body`. `has_transactions()` says
    whether the entity already has transactions (asked only when its subsidiary changes)."""
    subsidiary = known_subsidiary(body["subsidiary"]) if body.get("subsidiary") is not None else subsidiary_ref(PARENT)
    if existing is not None:
        before = _key(existing.body.get("subsidiary")) or PARENT
        if before != subsidiary["internalId"] and has_transactions():
            raise ChartError("SUBSIDIARY_CHANGE_NOT_ALLOWED",
                             f"The subsidiary of {existing.body.get('entityId') or existing.internal_id} cannot be "
                             f"changed from {SUBSIDIARIES[before][0]} to {subsidiary['name']}: it has transactions.")
    body["subsidiary"] = subsidiary
    base = SUBSIDIARIES[subsidiary["internalId"]][1]
    body["currency"] = known_currency(body["currency"]) if body.get("currency") is not None else currency_ref(base)
    listed = _listed(body.get("currencyList"))
    for line in listed:
        line["currency"] = known_currency(line.get("currency"))
    keys = [_key(line["currency"]) for line in listed]
    for key in (body["currency"]["internalId"], base):
        if key not in keys:
            listed.append({"currency": currency_ref(key)})
            keys.append(key)
    body["currencyList"] = {list_key: listed}


def transaction_rules(body: dict, entity: StoredRecord | None, *, currency_kept: bool = True) -> None:
    """A transaction's subsidiary and currency, from its entity (customer or vendor) where it has one."""
    entity_body = entity.body if entity is not None else {}
    home = _key(entity_body.get("subsidiary")) or PARENT
    if body.get("subsidiary") is not None:
        subsidiary = known_subsidiary(body["subsidiary"])
        if entity is not None and subsidiary["internalId"] != home:
            raise ChartError("SUBSIDIARY_MISMATCH",
                             f"The subsidiary {subsidiary['name']} (internal id {subsidiary['internalId']}) is not "
                             f"the subsidiary of {entity_body.get('entityId') or entity.internal_id}, which is "
                             f"{SUBSIDIARIES[home][0]} (internal id {home}).")
    body["subsidiary"] = subsidiary_ref(home)
    if body.get("currency") is not None:
        currency = known_currency(body["currency"])
        allowed = entity_currencies(entity_body) if entity is not None else list(CURRENCIES)
        if entity is not None and currency["internalId"] not in allowed:
            names = ", ".join(CURRENCIES[key][0] for key in allowed)
            raise ChartError("MISMATCHED_CURRENCY",
                             f"The currency {currency['name']} is not one {entity_body.get('entityId') or entity.internal_id}"
                             f" may use (its currencies: {names}).")
        body["currency"] = currency
    else:
        primary = _key(entity_body.get("currency")) or SUBSIDIARIES[home][1]
        body["currency"] = currency_ref(primary)


# -- SuiteQL -------------------------------------------------------------------------------------------------------
# The Records Catalog's `subsidiary` and `currency` tables (lower-case columns, references as ids, booleans 'T'/'F').
SUITEQL_TABLES = {
    "subsidiary": ("SELECT internal_id AS id, json_extract(body, '$.name') AS name, CAST(json_extract(body, '$.currency.internalId') AS INTEGER) AS currency, "
                   "CAST(json_extract(body, '$.parent.internalId') AS INTEGER) AS parent, 'F' AS isinactive, "
                   "'F' AS iselimination FROM subsidiaries"),
    "currency": ("SELECT internal_id AS id, json_extract(body, '$.name') AS name, json_extract(body, '$.name') AS "
                 "symbol, json_extract(body, '$.displaySymbol') AS displaysymbol, "
                 "CAST(json_extract(body, '$.exchangeRate') AS REAL) AS exchangerate, "
                 "CASE json_extract(body, '$.isBaseCurrency') WHEN 'true' THEN 'T' ELSE 'F' END AS isbasecurrency, "
                 "'F' AS isinactive FROM currencies"),
}
