"""The SuiteTalk SOAP 2023_2 transport of the NetSuite client interface (interface.py), on zeep.

One zeep client per process (parsing the WSDL costs most of a second and ~70 MB), a timeout on every call and a
fresh tokenPassport on every request (NetSuite refuses a reused nonce, retries included). Records go in and come out
as plain dicts; errors leave only as TransientError or PermanentError with NetSuite's code and message.

Records are the interface's plain dicts; a reference field becomes a RecordRef. Longer than most modules: it is the
one place that knows SuiteTalk's messages, faults and HTTP answers, and keeping them together is what keeps that
knowledge out of the rest of the hub.
"""
import base64
import contextlib
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import requests
import zeep
from django.conf import settings
from lxml import etree
from zeep.exceptions import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden, Fault, TransportError, XMLSyntaxError
from zeep.helpers import serialize_object
from zeep.loader import parse_xml
from zeep.transports import Transport

from ..errors import PermanentError, RemoteError, TransientError
from . import money
from . import custom_fields
from .custom_fields import CustomField, CustomFieldValueError
from .interface import GET_LIST_LIMIT, UPSERT_LIST_LIMIT, SearchPage, SearchPageGone, UnknownRecordType, WriteResult
from .soap_pages import soap_transaction_pages
from .soap_xml import XSI_TYPE_KEY, RecordReader, RecordRenderError, RecordRenderer, write_responses

logger = logging.getLogger(__name__)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS = {
    "core": "urn:core_2023_2.platform.webservices.netsuite.com",
    "common": "urn:common_2023_2.platform.webservices.netsuite.com",
    "messages": "urn:messages_2023_2.platform.webservices.netsuite.com",
    "platform": "urn:platform_2023_2.webservices.netsuite.com",
    "relationships": "urn:relationships_2023_2.lists.webservices.netsuite.com",
    "sales": "urn:sales_2023_2.transactions.webservices.netsuite.com",
    "purchases": "urn:purchases_2023_2.transactions.webservices.netsuite.com",
    "customers": "urn:customers_2023_2.transactions.webservices.netsuite.com",
    "general": "urn:general_2023_2.transactions.webservices.netsuite.com",
}
# Fixed prefixes for the records the hub renders itself (NetSuite's own names; zeep's are ns0, ns1, …).
NSMAP = {"xsi": "http://www.w3.org/2001/XMLSchema-instance", "platformMsgs": NS["messages"], "platformCore": NS["core"],
         "listRel": NS["relationships"], "tranSales": NS["sales"], "tranPurch": NS["purchases"],
         "tranCust": NS["customers"]}
RECORD_TYPES = {
    "customer": ("relationships", "Customer"),
    "vendor": ("relationships", "Vendor"),
    "contact": ("relationships", "Contact"),
    "salesOrder": ("sales", "SalesOrder"),
    "purchaseOrder": ("purchases", "PurchaseOrder"),
    "customerPayment": ("customers", "CustomerPayment"),
    "invoice": ("sales", "Invoice"),
    "customerDeposit": ("customers", "CustomerDeposit"),
    "depositApplication": ("customers", "DepositApplication"),
    "creditMemo": ("customers", "CreditMemo"),
    "customerRefund": ("customers", "CustomerRefund"),
    "journalEntry": ("general", "JournalEntry"),
}
# Line records, which are written inside their order's itemList; a mapping may name their fields.
LINE_TYPES = {
    "salesOrderItem": ("sales", "SalesOrderItem"),
    "purchaseOrderItem": ("purchases", "PurchaseOrderItem"),
}
# Where each custom field definition applies (setupCustom XSD): its customization type and, per flag, the record type
# (a column field's: the line record type).
CUSTOMIZATION_FLAGS = {
    "transactionBodyCustomField": {"bodySale": "salesOrder", "bodyPurchase": "purchaseOrder",
                                   "bodyCustomerPayment": "customerPayment"},
    "transactionColumnCustomField": {"colSale": "salesOrderItem", "colPurchase": "purchaseOrderItem"},
    "entityCustomField": {"appliesToCustomer": "customer", "appliesToVendor": "vendor", "appliesToContact": "contact"},
}
# Record type → the customization type its custom fields are declared as.
CUSTOMIZATION_KIND = {record_type: kind for kind, flags in CUSTOMIZATION_FLAGS.items() for record_type in flags.values()}
# Per-record status codes worth a later retry; any other failed write needs a person.
TRANSIENT_CODES = {"RCRD_HAS_BEEN_CHANGED", "UNEXPECTED_ERROR", "CONCURRENCY_LIMIT_EXCEEDED", "SESSION_TIMED_OUT",
                   "WS_REQUEST_BLOCKED", "WS_CONCUR_SESSION_DISALLWD", "RCRD_LOCKED_BY_WF", "SSS_REQUEST_LIMIT_EXCEEDED"}
TRANSIENT_FAULTS = {"exceededConcurrentRequestLimitFault", "exceededRequestLimitFault", "unexpectedErrorFault",
                    "invalidSessionFault"}
# HTTP statuses that mean the request was refused before any work: retry, but nothing can have been written.
NOT_TAKEN_ON = {429, 503}
# A further page of a search that can't be had any more.
PAGE_GONE_CODES = {"INVALID_SEARCH_MORE", "INVALID_SEARCH_PAGE_INDEX"}
# "Invalid entity reference key 123." (and without the key): the field whose reference NetSuite could not resolve.
MISSING_REFERENCE = re.compile(r"^Invalid (\w+) reference\b")

_zeep_client: zeep.Client | None = None
_zeep_lock = threading.Lock()
# The account's custom field definitions, per endpoint: read by getCustomizationId + getList, kept a few minutes.
_definitions: dict[str, custom_fields.DefinitionCache] = {}


def zeep_client() -> zeep.Client:
    """The process's one zeep client."""
    global _zeep_client
    with _zeep_lock:
        if _zeep_client is None:
            config = settings.NETSUITE
            session = requests.Session()
            session.trust_env = False
            transport = _CheckingTransport(session=session, timeout=60, operation_timeout=config["TIMEOUT"])
            try:
                _zeep_client = zeep.Client(config["WSDL"], transport=transport)
            except (requests.RequestException, OSError, zeep.exceptions.Error, etree.XMLSyntaxError) as error:
                raise TransientError("WSDL_UNAVAILABLE", f"NetSuite's WSDL could not be read from {config['WSDL']} "
                                     f"(NETSUITE_WSDL): {type(error).__name__}: {error}. The SOAP transport needs it; "
                                     "NETSUITE_TRANSPORT=rest needs none") from error
        return _zeep_client


class SoapNetSuiteClient:
    # An upsertList sent again is written again: after a lost answer the hub looks the records up instead.
    idempotent_batches = False

    def __init__(self, config: dict | None = None):
        self.config = config or settings.NETSUITE
        self.client = zeep_client()
        self.endpoint = self.config.get("ENDPOINT") or default_endpoint(self.config["ACCOUNT"])
        binding_name = f"{{{NS['platform']}}}NetSuiteBinding"
        self.binding = self.client.wsdl.bindings[binding_name]
        self.service = self.client.create_service(binding_name, self.endpoint)
        self._renderer = RecordRenderer()
        self._reader = RecordReader(self.client.get_type)
        with _zeep_lock:
            self._definitions = _definitions.setdefault(self.endpoint, custom_fields.DefinitionCache())

    # --- authentication -----------------------------------------------------------------------------------------
    def token_passport(self):
        """A fresh passport: NetSuite accepts each nonce+timestamp once, so every request, retries too, gets its own."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_4395630653.html
        c = self.config
        nonce = secrets.token_hex(16)
        timestamp = str(int(time.time()))
        message = "&".join([c["ACCOUNT"], c["CONSUMER_KEY"], c["TOKEN_ID"], nonce, timestamp])
        key = f"{c['CONSUMER_SECRET']}&{c['TOKEN_SECRET']}"
        signature = base64.b64encode(hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()).decode()
        signature_type = self._type("core", "TokenPassportSignature")
        return self._type("core", "TokenPassport")(
            account=c["ACCOUNT"], consumerKey=c["CONSUMER_KEY"], token=c["TOKEN_ID"], nonce=nonce,
            timestamp=timestamp, signature=signature_type(signature, algorithm="HMAC-SHA256"),
        )

    # --- writes -------------------------------------------------------------------------------------------------
    def upsert_list(self, records: list[dict], *, hold=contextlib.nullcontext, idempotency_key: str = "") -> list[WriteResult]:
        """Upsert up to 100 records by externalId, in one request. One result per record, in order; a record that
        cannot be written as SuiteTalk XML fails alone, unsent.

        `hold` (e.g. the NetSuite concurrency slot) is entered for the HTTP exchange only: the message is built before
        it and the answer read after it, so a slot is held for NetSuite's time rather than the hub's."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N3505914.html (upsertList)
        if len(records) > UPSERT_LIST_LIMIT:
            raise ValueError(f"upsertList takes at most {UPSERT_LIST_LIMIT} records")
        self.prepare_custom_fields(custom_fields.record_types_with_custom_fields(records), hold=hold)
        request = etree.Element(f"{{{NS['messages']}}}upsertList", nsmap=NSMAP)
        results: list[WriteResult | None] = []
        notes: list[str] = []
        for record in records:
            try:
                self.record_element(request, record)
                results.append(None)
                notes.append("; ".join(self._renderer.notes))
            except RecordRenderError as error:
                results.append(WriteResult(success=False, code="HUB_INVALID_RECORD", message=str(error)))
                notes.append("")
        if len(request):
            written = iter(self._write_list(request, hold))
            results = [result if result is not None else next(written) for result in results]
        for result, note in zip(results, notes):
            result.note = note
        return results

    def record_element(self, request, record: dict):
        """A record dict as a `record` element appended to an add/update/upsert list request (see soap_xml)."""
        try:
            namespace, type_name = RECORD_TYPES[record["type"]]
        except KeyError:
            raise RecordRenderError(f"Unknown NetSuite record type {record.get('type')!r}") from None
        value = {"internalId": record.get("internalId"), "externalId": record.get("externalId")}
        fields, custom = custom_fields.split(record.get("fields", {}))
        for name, field_value in fields.items():
            if name == "itemList" and isinstance(field_value, dict):
                lines = []
                for line in field_value.get("item") or []:
                    line_fields, line_custom = custom_fields.split(line)
                    rendered = {k: self._plain_value(v) for k, v in line_fields.items()}
                    if line_custom:
                        rendered["customFieldList"] = self._custom_field_list(
                            custom_fields.line_type(record["type"]), line_custom)
                    lines.append(rendered)
                value[name] = {"replaceAll": field_value.get("replaceAll", True), "item": lines}
            else:
                value[name] = self._plain_value(field_value)
        if custom:
            value["customFieldList"] = self._custom_field_list(record["type"], custom)
        return self._renderer.subelement(request, f"{{{NS['messages']}}}record", self._type(namespace, type_name),
                                         value, xsi_type=etree.QName(NS[namespace], type_name))

    # --- custom fields --------------------------------------------------------------------------------------------
    def prepare_custom_fields(self, record_types, *, hold=contextlib.nullcontext) -> None:
        """Read the definitions these record types need unless they are fresh: each kind of custom field at once,
        each read in a slot (`hold`), like any request."""
        kinds = {CUSTOMIZATION_KIND[name] for name in record_types if name in CUSTOMIZATION_KIND}
        if not kinds:
            return
        with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
            for read in [pool.submit(self._definitions.ensure, kind, hold, self._custom_fields_of_kind)
                         for kind in kinds]:
                read.result()

    def custom_fields(self, record_type: str) -> dict[str, CustomField]:
        """The custom fields the account declares on a record type (a line type: its column fields), by script id."""
        if record_type not in RECORD_TYPES and record_type not in LINE_TYPES:
            raise UnknownRecordType(record_type)
        kind = CUSTOMIZATION_KIND.get(record_type)
        if kind is None:
            return {}
        return self._definitions.get(kind, self._custom_fields_of_kind).get(record_type, {})

    def _custom_fields_of_kind(self, kind: str) -> dict[str, dict[str, CustomField]]:
        """The custom field definitions of one customization type (transactionBodyCustomField …), by the record type
        each applies to: getCustomizationId for the ids, then getList of the definitions for their type, mandatory
        flag and record types."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N3493817.html
        found: dict[str, dict[str, CustomField]] = {}
        customization_type = self._type("core", "CustomizationType")
        flags = CUSTOMIZATION_FLAGS[kind]
        answer = self._call(lambda: self.service.getCustomizationId(
            customizationType=customization_type(getCustomizationType=kind), includeInactives=False,
            _soapheaders=self._headers()))
        result = answer.body.getCustomizationIdResult
        if not result.status.isSuccess:
            detail = (result.status.statusDetail or [None])[0]
            raise PermanentError(str(getattr(detail, "code", "") or "UNEXPECTED_ERROR"),
                                 str(getattr(detail, "message", "") or "getCustomizationId failed"))
        refs = (result.customizationRefList.customizationRef if result.customizationRefList is not None else None) or []
        for start in range(0, len(refs), GET_LIST_LIMIT):
            chunk = [self.record_ref(internalId=ref.internalId, type=kind) for ref in refs[start:start + GET_LIST_LIMIT]]
            response = self._call(lambda: self.service.getList(baseRef=chunk, _soapheaders=self._headers()))
            for read in response.body.readResponseList.readResponse or []:
                definition = read.record if read.status.isSuccess else None
                if definition is None or not definition.scriptId:
                    continue
                field = CustomField(script_id=definition.scriptId,
                                    type=custom_fields.SOAP_FIELD_TYPES.get(definition.fieldType, "text"),
                                    label=definition.label or "", mandatory=bool(definition.isMandatory))
                for flag, record_type in flags.items():
                    if getattr(definition, flag, None):
                        found.setdefault(record_type, {})[field.script_id] = field
        return found

    def _custom_field_list(self, record_type: str, values: dict) -> dict:
        """A customFieldList of the declared CustomFieldRef per field (platform core XSD)."""
        declared = self.custom_fields(record_type)
        refs = []
        for script_id, raw in values.items():
            field = declared.get(script_id)
            if field is None:
                raise RecordRenderError(f"NetSuite declares no custom field {script_id!r} on {record_type}")
            try:
                value = custom_fields.typed_value(field, raw)
            except CustomFieldValueError as error:
                raise RecordRenderError(str(error)) from None
            ref_name = custom_fields.SOAP_REFS[field.type]
            if field.type == "select":
                value = {"internalId": value}
            elif field.type == "multiselect":
                value = [{"internalId": key} for key in value]
            else:
                value = float(value) if field.type == "number" else self._plain_value(value)
            refs.append({XSI_TYPE_KEY: (etree.QName(NS["core"], ref_name), self._type("core", ref_name)),
                         "scriptId": script_id, "value": value})
        return {"customField": refs}

    @staticmethod
    def _plain_value(value):
        if isinstance(value, date) and not isinstance(value, datetime):
            # xsd:dateTime without a zone: NetSuite reads it in the account's time zone, which is what a
            # business date (funded date, payment date) means.
            return datetime(value.year, value.month, value.day)
        return value

    def record_ref(self, *, internalId=None, externalId=None, type=None, name=None):
        return self._type("core", "RecordRef")(internalId=internalId, externalId=externalId, type=type, name=name)

    # --- reads --------------------------------------------------------------------------------------------------
    def get_by_external_ids(self, record_type: str, external_ids: list[str]) -> dict[str, str]:
        """externalId → internalId of the records that exist; missing ones are left out."""
        found = {}
        for start in range(0, len(external_ids), GET_LIST_LIMIT):
            chunk = external_ids[start:start + GET_LIST_LIMIT]
            refs = [self.record_ref(externalId=external_id, type=record_type) for external_id in chunk]
            response = self._call(lambda: self.service.getList(baseRef=refs, _soapheaders=self._headers()))
            read_list = response.body.readResponseList
            for external_id, read in zip(chunk, read_list.readResponse or []):
                if read.status.isSuccess and read.record is not None:
                    found[external_id] = str(read.record.internalId)
        return found

    def get_names_by_internal_ids(self, record_type: str, internal_ids: list[str]) -> dict[str, str]:
        """internalId → name of the records that exist (an item's itemId, an entity's entityId); missing ones are
        left out."""
        # Reference: Oracle Help Center, SuiteTalk SOAP Web Services Platform Guide, "getList".
        found = {}
        for start in range(0, len(internal_ids), GET_LIST_LIMIT):
            chunk = internal_ids[start:start + GET_LIST_LIMIT]
            refs = [self.record_ref(internalId=internal_id, type=record_type) for internal_id in chunk]
            response = self._call(lambda: self.service.getList(baseRef=refs, _soapheaders=self._headers()))
            read_list = response.body.readResponseList
            for internal_id, read in zip(chunk, read_list.readResponse or []):
                if read.status.isSuccess and read.record is not None:
                    record = read.record
                    found[internal_id] = str(next((getattr(record, name, None) for name in ("itemId", "entityId", "name")
                                                   if getattr(record, name, None)), "") or "")
        return found

    def describe_record_type(self, record_type: str) -> set[str]:
        """Field names of the record type in the WSDL's schema (elements and attributes)."""
        try:
            namespace, type_name = RECORD_TYPES.get(record_type) or LINE_TYPES[record_type]
        except KeyError:
            raise UnknownRecordType(record_type) from None
        schema_type = self._type(namespace, type_name)
        return {name for name, _ in schema_type.elements} | {name for name, _ in schema_type.attributes}

    def search_transactions(self, *, transaction_type: str, modified_since: datetime | None, page_size: int = 1000,
                            body_fields_only: bool = True, created_since: datetime | None = None) -> "SearchPage":
        """The first page of transactions of one type modified at or after `modified_since` (and, if given, created
        at or after `created_since`). Datetimes must be aware: NetSuite compares them in the account's time zone.

        A SOAP search cannot ask for an order: transactions come back by date created, whatever the criteria."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N3512617.html (search)
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N3518731.html (sort order)
        criteria = {"type": self._type("core", "SearchEnumMultiSelectField")(
            operator="anyOf", searchValue=[money.search_type(transaction_type)])}
        if modified_since is not None:
            criteria["lastModifiedDate"] = self._type("core", "SearchDateField")(operator="onOrAfter", searchValue=modified_since)
        if created_since is not None:
            criteria["dateCreated"] = self._type("core", "SearchDateField")(operator="onOrAfter", searchValue=created_since)
        search = self._type("common", "TransactionSearchBasic")(**criteria)
        return self._search_call("search", self._search_preferences(page_size, body_fields_only), searchRecord=search)

    def transaction_pages(self, *, transaction_type: str, modified_since: datetime | None,
                          created_since: datetime | None = None, page_size: int = 1000, body_fields_only: bool = True,
                          resume_after=None, hold=contextlib.nullcontext, retrying=lambda read: read(),
                          pages_at_once: int = 2):
        """Every page of a transaction search, in NetSuite's order (by date created): see soap_pages, with up to
        `pages_at_once` pages asked for at a time. The money records (money.MONEY_TYPES) come with their normalised
        fields (money.from_soap)."""
        pages = soap_transaction_pages(self, transaction_type=transaction_type, modified_since=modified_since,
                                       created_since=created_since, page_size=page_size,
                                       body_fields_only=body_fields_only, resume_after=resume_after, hold=hold,
                                       retrying=retrying, read_ahead=pages_at_once)
        if transaction_type not in money.MONEY_TYPES:
            return pages
        return self._normalised(pages, transaction_type, with_lines=not body_fields_only)

    @staticmethod
    def _normalised(pages, transaction_type: str, *, with_lines: bool):
        for page in pages:
            page.records = [money.from_soap(record, transaction_type, with_lines=with_lines) for record in page.records]
            yield page

    def transactions_created_from(self, record_type: str, internal_ids: list[str], *,
                                  hold=contextlib.nullcontext) -> dict[str, str]:
        """internalId → the internalId of the transaction it was created from (an invoice's sales order, a credit
        memo's invoice), by getList; records that don't exist or have none are left out."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N3488134.html (getList)
        if record_type not in RECORD_TYPES:
            raise UnknownRecordType(record_type)
        found: dict[str, str] = {}
        for start in range(0, len(internal_ids), GET_LIST_LIMIT):
            chunk = [str(i) for i in internal_ids[start:start + GET_LIST_LIMIT]]
            refs = [self.record_ref(internalId=internal_id, type=record_type) for internal_id in chunk]
            with hold():
                response = self._call(lambda: self.service.getList(baseRef=refs, _soapheaders=self._headers()))
            for internal_id, read in zip(chunk, response.body.readResponseList.readResponse or []):
                made_from = getattr(read.record, "createdFrom", None) if read.status.isSuccess and read.record else None
                if made_from is not None and made_from.internalId:
                    found[internal_id] = str(made_from.internalId)
        return found

    def deleted_since(self, record_types: list[str], since: datetime | None, *,
                      hold=contextlib.nullcontext) -> list[dict]:
        """Every deletion of those record types at or after `since` (all when None), by getDeleted, every page."""
        # Reference: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N3497592.html (getDeleted)
        criteria = {"type": self._type("core", "SearchEnumMultiSelectField")(operator="anyOf",
                                                                           searchValue=list(record_types))}
        if since is not None:
            criteria["deletedDate"] = self._type("core", "SearchDateField")(operator="onOrAfter", searchValue=since)
        wanted = self._type("core", "GetDeletedFilter")(**criteria)
        found, page_index = [], 1
        while True:
            with hold():
                response = self._call(lambda: self.service.getDeleted(getDeletedFilter=wanted, pageIndex=page_index,
                                                                      _soapheaders=self._headers()))
            result = response.body.getDeletedResult
            if not result.status.isSuccess:
                detail = (result.status.statusDetail or [None])[0]
                raise _search_error(str(getattr(detail, "code", "") or "UNEXPECTED_ERROR"),
                                    str(getattr(detail, "message", "") or ""))
            for deleted in (result.deletedRecordList.deletedRecord if result.deletedRecordList else None) or []:
                found.append({"internalId": str(deleted.record.internalId), "type": str(deleted.record.type or ""),
                              "deletedDate": deleted.deletedDate, "name": str(getattr(deleted.record, "name", "") or "")})
            if page_index >= (result.totalPages or 0):
                return found
            page_index += 1

    def search_more(self, *, search_id: str, page_index: int, page_size: int = 1000, body_fields_only: bool = True) -> "SearchPage":
        """A further page of a search. NetSuite re-runs the search for every page, and forgets the searchId after
        15 minutes unused (INVALID_SEARCH_MORE, raised as SearchPageGone: run the search again)."""
        return self._search_call("searchMoreWithId", self._search_preferences(page_size, body_fields_only),
                                 searchId=search_id, pageIndex=page_index)

    def external_ids(self, record_type: str) -> list[str]:
        """Every external id of one record type (customer, vendor, contact, salesOrder, purchaseOrder,
        customerPayment), for reconciliation. Records without one are counted as ''."""
        basics = {"customer": "CustomerSearchBasic", "vendor": "VendorSearchBasic", "contact": "ContactSearchBasic"}
        if record_type in basics:
            search = self._type("common", basics[record_type])()
        else:
            search = self._type("common", "TransactionSearchBasic")(
                type=self._type("core", "SearchEnumMultiSelectField")(operator="anyOf", searchValue=[f"_{record_type}"]))
        preferences = self._search_preferences(1000, True)
        response = self._call(lambda: self.service.search(searchRecord=search, _soapheaders=self._headers(searchPreferences=preferences)))
        page = self._search_page(response.body.searchResult)
        found = [str(r.get("externalId") or "") for r in page.records]
        while page.page_index < page.total_pages:
            page = self.search_more(search_id=page.search_id, page_index=page.page_index + 1)
            found += [str(r.get("externalId") or "") for r in page.records]
        return found

    def _search_preferences(self, page_size: int, body_fields_only: bool):
        return self._type("messages", "SearchPreferences")(bodyFieldsOnly=body_fields_only, returnSearchColumns=False,
                                                           pageSize=page_size)

    def _search_call(self, operation_name: str, preferences, **body) -> "SearchPage":
        """A search or searchMoreWithId whose records are read by soap_xml's reader rather than as zeep objects
        (a 1,000-record page cost the hub a second of CPU that way). Faults are still read by zeep."""
        operation = self.binding.get(operation_name)
        envelope = self._call(lambda: self.client.create_message(
            self.service, operation_name, _soapheaders=self._headers(searchPreferences=preferences), **body))
        reply = self._post(operation, envelope)
        if reply.status_code == 200:
            document = self._call(lambda: parse_xml(reply.content, self.client.transport, settings=self.client.settings))
            result = document.find(f"{{{SOAP_ENV}}}Body/*/{{{NS['core']}}}searchResult")
            if result is not None:
                return self._search_page_xml(result)
        response = self._call(lambda: self.binding.process_reply(self.client, operation, reply))
        return self._search_page(response.body.searchResult)

    def _search_page_xml(self, result) -> "SearchPage":
        core = NS["core"]
        status = result.find(f"{{{core}}}status")
        if status is None or status.get("isSuccess", "").strip() not in ("true", "1"):
            detail = status.find(f"{{{core}}}statusDetail") if status is not None else None
            code = (detail.findtext(f"{{{core}}}code") or "").strip() if detail is not None else ""
            message = (detail.findtext(f"{{{core}}}message") or "").strip() if detail is not None else ""
            raise _search_error(code or "UNEXPECTED_ERROR", message)
        records = [self._reader.record(element) for element in result.iterfind(f"{{{core}}}recordList/{{{core}}}record")]

        def number(name: str) -> int:
            text = (result.findtext(f"{{{core}}}{name}") or "").strip()
            return int(text) if text.isdigit() else 0

        return SearchPage(records=records, search_id=(result.findtext(f"{{{core}}}searchId") or "").strip(),
                          page_index=number("pageIndex") or 1, total_pages=number("totalPages"),
                          total_records=number("totalRecords"))

    def _search_page(self, result) -> "SearchPage":
        if not result.status.isSuccess:
            detail = (result.status.statusDetail or [None])[0]
            code = str(getattr(detail, "code", "") or "UNEXPECTED_ERROR")
            message = str(getattr(detail, "message", "") or "")
            raise _search_error(code, message)
        records = result.recordList.record if result.recordList is not None else []
        return SearchPage(records=[plain(record) for record in records or []], search_id=result.searchId or "",
                          page_index=result.pageIndex or 1, total_pages=result.totalPages or 0,
                          total_records=result.totalRecords or 0)

    def server_time(self) -> datetime:
        response = self._call(lambda: self.service.getServerTime(_soapheaders=self._headers()))
        return response.body.getServerTimeResult.serverTime

    # --- plumbing -----------------------------------------------------------------------------------------------
    def _write_list(self, request, hold) -> list[WriteResult]:
        """One addList/updateList/upsertList request (the element, records rendered in it). zeep builds the envelope
        and its header (the passport); only the HTTP exchange runs inside `hold`."""
        operation = self.binding.get(etree.QName(request).localname)

        def message():
            envelope = self._call(lambda: self.client.create_message(self.service, "getServerTime",
                                                                      _soapheaders=self._headers()))
            body = envelope.find(f"{{{SOAP_ENV}}}Body")
            for child in list(body):
                body.remove(child)
            body.append(request)  # its prefixes are declared on it and differ from zeep's ns0, ns1, …
            return envelope

        envelope, built = message(), time.monotonic()
        with hold():
            if time.monotonic() - built > 60:
                envelope = message()  # the passport's timestamp must stay well within NetSuite's 5 minutes
            reply = self._post(operation, envelope)
        if reply.status_code == 200:
            document = self._call(lambda: parse_xml(reply.content, self.client.transport, settings=self.client.settings))
            body = document.find(f"{{{SOAP_ENV}}}Body")
            responses = write_responses(body, messages_ns=NS["messages"], core_ns=NS["core"]) if body is not None else None
            if responses is not None:
                if len(responses) != len(request):
                    raise TransientError("UNEXPECTED_ERROR", f"NetSuite answered {len(responses)} results for "
                                         f"{len(request)} records", outcome_unknown=True)
                return [_write_result(r.success, r.internal_id, r.external_id, r.code, r.message) for r in responses]
        # A fault, or an answer this reader does not know: zeep reads it (and raises the fault).
        response = self._call(lambda: self.binding.process_reply(self.client, operation, reply))
        return self._write_results(response, expected=len(request))

    def _post(self, operation, envelope):
        """What zeep's SoapBinding.send does to deliver a message; the answer is read by the caller."""
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{operation.soapaction}"'}
        return self._call(lambda: self.client.transport.post_xml(self.endpoint, envelope, headers))

    def _type(self, namespace: str, name: str):
        return self.client.get_type(f"{{{NS[namespace]}}}{name}")

    def _headers(self, **extra) -> dict:
        return {"tokenPassport": self.token_passport(), **extra}

    def _write_results(self, response, *, expected: int) -> list[WriteResult]:
        response_list = response.body.writeResponseList
        responses = response_list.writeResponse or []
        if len(responses) != expected:
            raise TransientError("UNEXPECTED_ERROR", f"NetSuite answered {len(responses)} results for {expected} records",
                                 outcome_unknown=True)
        results = []
        for write in responses:
            ref = write.baseRef
            detail = (write.status.statusDetail or [None])[0]
            results.append(_write_result(
                bool(write.status.isSuccess), str(getattr(ref, "internalId", "") or ""),
                str(getattr(ref, "externalId", "") or ""),
                str(detail.code) if detail is not None else "", str(detail.message or "") if detail is not None else ""))
        return results

    def _call(self, function):
        try:
            return function()
        except RemoteError:
            raise
        except Fault as fault:
            fault_name, code, message = _fault_parts(fault)
            kind = TransientError if fault_name in TRANSIENT_FAULTS or code in TRANSIENT_CODES else PermanentError
            raise kind(code or fault_name or "SOAP_FAULT", message) from fault
        except TransportError as exc:
            transient = exc.status_code >= 500 or exc.status_code == 429
            kind = TransientError if transient else PermanentError
            # 503 and 429 say the request was not taken on (RFC 9110 §15.6.4, RFC 6585 §4; NetSuite answers 503 while
            # the account is unavailable, e.g. in maintenance): nothing was written. A 500, 502 or 504 may come after
            # NetSuite did the work, so the next try looks the records up first.
            raise kind(f"HTTP_{exc.status_code}", f"NetSuite answered HTTP {exc.status_code}",
                       outcome_unknown=transient and exc.status_code not in NOT_TAKEN_ON) from exc
        except requests.Timeout as exc:
            raise TransientError("TIMEOUT", f"NetSuite did not answer in time: {exc}", outcome_unknown=True) from exc
        except requests.ConnectionError as exc:
            raise TransientError("CONNECTION_ERROR", f"The connection to NetSuite failed: {exc}", outcome_unknown=True) from exc
        except XMLSyntaxError as exc:
            raise TransientError("BAD_RESPONSE", f"NetSuite's answer was not readable XML: {exc}", outcome_unknown=True) from exc
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden) as exc:
            # NetSuite's answers never declare a DTD or entities; one that does was changed on the way (or is not
            # NetSuite's), so it is not read. The request may have been carried out: the next try looks first.
            raise TransientError("UNSAFE_RESPONSE", f"NetSuite's answer declared {type(exc).__name__.removesuffix('Forbidden')} "
                                 "content, which the hub refuses to read", outcome_unknown=True) from exc
        except (IndexError, KeyError, AttributeError) as exc:
            # zeep reading an answer of the wrong shape (an empty SOAP Body, a missing element): the answer, not the
            # hub, is at fault. Logged with its traceback so a bug of the hub's own would still show.
            logger.warning("NetSuite answer zeep could not read", exc_info=True)
            raise TransientError("UNREADABLE_RESPONSE", f"NetSuite's answer had an unexpected shape ({type(exc).__name__}: "
                                 f"{exc})", outcome_unknown=True) from exc


class _CheckingTransport(Transport):
    """zeep's transport, with every SOAP answer checked before anyone reads it (see _check_reply)."""

    def post_xml(self, address, envelope, headers):
        reply = super().post_xml(address, envelope, headers)
        _check_reply(reply)
        return reply


def _check_reply(reply) -> None:
    """A 200 answer must be a SOAP envelope with something in its Body; anything else is said for what it is."""
    if reply.status_code != 200:
        return   # a fault (500) or an HTTP error: zeep reads and raises it
    content_type = reply.headers.get("Content-Type", "")
    if not reply.content.strip():
        raise TransientError("EMPTY_RESPONSE", "NetSuite answered 200 with an empty body", outcome_unknown=True)
    if "xml" not in content_type.lower():
        raise TransientError("UNEXPECTED_CONTENT", f"NetSuite answered {content_type or 'no content type'} where SOAP "
                             f"XML was expected: {reply.content[:200]!r}", outcome_unknown=True)
    if re.search(rb"<(\w+:)?Body\s*/>|<(\w+:)?Body[^>]*>\s*</(\w+:)?Body>", reply.content[-2000:]):
        raise TransientError("EMPTY_SOAP_BODY", "NetSuite's answer had an empty SOAP Body", outcome_unknown=True)


def _write_result(success: bool, internal_id: str, external_id: str, code: str, message: str) -> WriteResult:
    if success:
        return WriteResult(success=True, internal_id=internal_id, external_id=external_id)
    missing = MISSING_REFERENCE.match(message or "") if code == "INVALID_KEY_OR_REF" else None
    return WriteResult(success=False, internal_id=internal_id, external_id=external_id, code=code, message=message,
                       transient=code in TRANSIENT_CODES, missing_reference=missing.group(1) if missing else "")


def _search_error(code: str, message: str) -> RemoteError:
    if code in PAGE_GONE_CODES:
        return SearchPageGone(code, message)
    return (TransientError if code in TRANSIENT_CODES else PermanentError)(code, message)


def default_endpoint(account: str) -> str:
    host = account.lower().replace("_", "-")
    return f"https://{host}.suitetalk.api.netsuite.com/services/NetSuitePort_2023_2"


def _fault_parts(fault: Fault) -> tuple[str, str, str]:
    """(detail element name, NetSuite code, message) of a SOAP fault."""
    name, code, message = "", "", str(fault.message or "")
    detail = fault.detail
    if detail is not None and len(detail):
        element = detail[0]
        name = etree.QName(element).localname
        for child in element:
            local = etree.QName(child).localname
            if local == "code":
                code = (child.text or "").strip()
            elif local == "message":
                message = (child.text or "").strip() or message
    return name, code, message


def plain(value):
    """A zeep object as plain dicts and lists."""
    return serialize_object(value, target_cls=dict)
