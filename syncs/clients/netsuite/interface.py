"""What the hub asks of NetSuite, whatever the transport (SuiteTalk REST, rest.py, or SOAP, soap.py).

The engine, the jobs and the console speak only this interface. A transport turns its library's exceptions into the
errors below (all of them `RemoteError`s carrying NetSuite's own code and message), so nobody outside a transport
reads NetSuite's message text or knows a SOAP element.

Records are plain dicts, in and out:
    {"type": "customer", "externalId": "001…", "internalId": optional, "fields": {...}}
A field value that is a dict with internalId/externalId/type is a reference to another record; "itemList" of
{"replaceAll": bool, "item": [ {field: value, …}, … ]} is the record's line list. A field (or a line's field) named
by a custom field's script id (custbody_…, custentity_…, custcol_… on lines, cseg_…) is that custom field: the
transport writes it as the account declares it (SOAP: its CustomFieldRef in customFieldList; REST: a plain property)
and fails the record alone, unsent, when the account declares no such field or the value does not fit its type. Records read by a search have
their fields at the top level ({"internalId", "externalId", "tranId", "createdDate", "lastModifiedDate", …}, dates as
aware datetimes in the account's time zone, references as {"internalId", "type", "name"}).
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, ContextManager, Iterator, Protocol

from ..errors import PermanentError, TransientError

# The batch limits NetSuite documents for list operations; a transport refuses more.
UPSERT_LIST_LIMIT = 100
GET_LIST_LIMIT = 1000


@dataclass
class WriteResult:
    """One record's own outcome of a list write."""

    success: bool
    internal_id: str = ""
    external_id: str = ""
    code: str = ""
    message: str = ""
    transient: bool = False
    # The field whose reference NetSuite could not resolve (INVALID_KEY_OR_REF), e.g. "entity": the engine holds a
    # child back until the parent that field names is in NetSuite.
    missing_reference: str = ""
    # What the transport changed to send the record (e.g. characters its format cannot carry, removed).
    note: str = ""


@dataclass
class SearchPage:
    records: list[dict]
    search_id: str = ""
    page_index: int = 1
    total_pages: int = 0
    total_records: int = 0
    # How far the sweep has read, for an interrupted backfill to resume from (transaction_pages' resume_after): the
    # moment reached and the transport's own mark (SOAP: "created", by date created; REST: "modified:<id>", the keyset).
    resume_after: tuple[datetime, str] | None = None


class SearchPageGone(TransientError):
    """A further page of a search can't be had any more: the search id expired (NetSuite forgets it after 15 minutes
    unused) or the results shrank below that page. Search again."""


class UnknownRecordType(PermanentError):
    def __init__(self, record_type: str):
        super().__init__("UNKNOWN_RECORD_TYPE", f"NetSuite has no record type {record_type!r} the hub can use")


class NetSuiteClient(Protocol):
    """The operations the hub uses. Every call has a timeout; every error is a RemoteError."""

    # True when a batch sent again with the same idempotency key is answered with the first send's results rather
    # than written again (REST's async batches); the writer then records the key before the call.
    idempotent_batches: bool

    def upsert_list(self, records: list[dict], *, hold: Callable[[], ContextManager] = contextlib.nullcontext,
                    idempotency_key: str = "") -> list[WriteResult]:
        """Upsert up to UPSERT_LIST_LIMIT records by externalId: one result per record, in order. A record the
        transport can't express fails alone, unsent. `hold` (the concurrency slot) is entered for each exchange with
        NetSuite only. `idempotency_key` names the batch where the transport has idempotent batches."""

    def get_by_external_ids(self, record_type: str, external_ids: list[str]) -> dict[str, str]:
        """externalId → internalId of the records that exist; missing ones are left out."""

    def get_names_by_internal_ids(self, record_type: str, internal_ids: list[str]) -> dict[str, str]:
        """internalId → name (an item's itemId, an entity's entityId) of the records of one type that exist; missing
        ones are left out. For checking value mappings that name NetSuite records (items) by internal id."""

    def transaction_pages(self, *, transaction_type: str, modified_since: datetime | None,
                          created_since: datetime | None = None, page_size: int = 1000, body_fields_only: bool = True,
                          resume_after: tuple[datetime, str] | None = None,
                          hold: Callable[[], ContextManager] = contextlib.nullcontext,
                          retrying: Callable[[Callable[[], object]], object] = lambda read: read(),
                          pages_at_once: int = 2) -> Iterator[SearchPage]:
        """Every page of one transaction type modified (and created) at or after the given aware datetimes, each
        record at least once however records change meanwhile (a record may come twice). `resume_after` is a page's
        own resume_after, from an interrupted sweep. Each request runs inside `hold`; each page read goes through
        `retrying` (the caller's policy for a read's transient faults), and no retry's wait is spent inside `hold`.
        `pages_at_once`: how many page reads may be in flight together (the pull's share of the concurrency budget;
        REST reads a big sweep in that many ranges of its keyset side by side). Pages need not come in one order
        (REST's ranges come as read), but a record read twice comes newest last.

        The money types (invoice, customerPayment, customerDeposit, depositApplication, creditMemo, customerRefund,
        journalEntry) come normalised on both transports (money.py): `customer`, `total` (what it books now: 0 once
        directly voided), `voided`, `status`, `currency`, `paymentMethod`, `applied`/`unapplied` where the type has
        them, `salesOrder` (a deposit's), `createdFrom` {"internalId", "type"}, `deposit` (an application's),
        `voidJournal` (a refund voided by reversing journal) and, unless body_fields_only, `applyList` {"apply": [
        {"doc": str, "type": record type, "amount": float, "apply": True}]}: the applied lines only (a refund's
        deposits folded in as type customerDeposit)."""

    def transactions_created_from(self, record_type: str, internal_ids: list[str], *,
                                  hold: Callable[[], ContextManager] = contextlib.nullcontext) -> dict[str, str]:
        """internalId → the internalId of the transaction it was created from (an invoice's sales order, a credit
        memo's invoice), for the records of that type that exist and have one; others are left out. Batched (SOAP
        getList of up to 1000, REST one SuiteQL query per 1000 ids), each request inside `hold`."""

    def deleted_since(self, record_types: list[str], since: datetime | None, *,
                      hold: Callable[[], ContextManager] = contextlib.nullcontext) -> list[dict]:
        """Every deletion of those record types at or after the aware datetime `since` (all when None):
        {"internalId", "type" (the record type as given), "deletedDate" (aware, the account's zone), "name"},
        every page read inside the call (SOAP getDeleted, REST SuiteQL's deletedrecord), each request in `hold`."""

    def external_ids(self, record_type: str) -> list[str]:
        """Every external id of one record type ('' for records without one), for reconciliation."""

    def server_time(self) -> datetime:
        """NetSuite's clock, an aware datetime."""

    def describe_record_type(self, record_type: str) -> set[str]:
        """The names of the fields a record type has (its lines' record types too: 'salesOrderItem'), for checking
        mappings; UnknownRecordType for a type the hub can't use. The account's custom fields come from
        custom_fields() (REST's catalog lists them here too)."""

    def prepare_custom_fields(self, record_types, *, hold: Callable[[], ContextManager] = contextlib.nullcontext) -> None:
        """Read the custom field definitions these record types need now (each request inside `hold`) unless they are
        fresh, so that a write does not wait for them (upsert_list reads what it lacks itself)."""

    def custom_fields(self, record_type: str) -> dict:
        """The custom fields the account declares on a record type (a line type: its column fields): script id →
        custom_fields.CustomField (type, label, mandatory). Read from NetSuite and kept a few minutes."""
