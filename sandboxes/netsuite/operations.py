"""The SuiteTalk operations the sandbox answers, from a parsed request to a response envelope."""
from __future__ import annotations

import math
import sys
import time
import traceback
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from . import auth, custom_fields, envelope, faults, search
from .envelope import RESPONSE_NSMAP, core, msg
from .operations_money import MoneyOperations
from .records import BY_XSD_TYPE, KINDS, Writer, WriteError
from .schema import XSI_TYPE, XSI_TYPE_KEY, Codec, TypeModel, clark
from .store import Store
from .wsdl import WsdlSet

LIST_LIMITS = {"addList": 200, "updateList": 100, "upsertList": 100, "getList": 1000}  # synchronous maximums
WRITES = {"add": "add", "update": "update", "upsert": "upsert",
          "addList": "add", "updateList": "update", "upsertList": "upsert"}
RECORD_REF = envelope.core("RecordRef")


@dataclass
class Outcome:
    operation: str
    http_status: int
    content: bytes
    records: int = 0
    fault_code: str | None = None


def ok_status() -> dict:
    return {"isSuccess": "true"}


def error_status(code: str, message: str) -> dict:
    return {"isSuccess": "false", "statusDetail": [{"type": "ERROR", "code": code, "message": message}]}


class NetSuiteApp(MoneyOperations):
    def __init__(self, *, wsdl: WsdlSet, store: Store, credentials: auth.Credentials, zone: ZoneInfo, governance,
                 check_responses: bool = False):
        # check_responses validates every response against the XSDs before sending it: a debugging
        # aid for the sandbox itself, off by default because it costs a second validation pass.
        self.check_responses = check_responses
        self.wsdl = wsdl
        self.store = store
        self.credentials = credentials
        self.zone = zone
        self.governance = governance
        self.validator = wsdl.compile_validator()
        self.model = TypeModel(wsdl.schema_documents())
        self.codec = Codec(self.model, zone, {ns: prefix for prefix, ns in RESPONSE_NSMAP.items()})

    # -- entry -------------------------------------------------------------------------------------
    def handle(self, content: bytes, operation_hint: str = "") -> Outcome:
        operation = operation_hint or "unknown"
        try:
            request = envelope.parse_request(content, self.validator)
            operation = request.operation
            auth.verify_passport(request.headers.get("tokenPassport"), self.credentials,
                                 claim_nonce=self.store.claim_nonce)
            handler = getattr(self, f"op_{operation}", None)
            if handler is None:
                raise faults.unsupported_operation(operation)
            response_name, payload, records = handler(request)
        except faults.SoapFault as fault:
            return Outcome(operation, fault.http_status, envelope.fault_response(fault), 0, fault.code or "SAX")
        except Exception as error:  # noqa: BLE001 - a sandbox bug must still reach the client as NetSuite would
            traceback.print_exc()
            fault = faults.unexpected(f"An unexpected error occurred: {error!r}")
            return Outcome(operation, 500, envelope.fault_response(fault), 0, fault.code)
        root, body = envelope.new_response(self.credentials.account)
        self.codec.encode(body, msg(response_name), payload, self.model.elements[msg(response_name)])
        if self.check_responses:
            problem = envelope.schema_problem(self.validator, root)
            if problem:
                print(f"netsuite sandbox: {operation} response breaks the XSD: {problem}", file=sys.stderr, flush=True)
                fault = faults.unexpected(f"The sandbox built an invalid response: {problem}")
                return Outcome(operation, 500, envelope.fault_response(fault), 0, fault.code)
        return Outcome(operation, 200, envelope.serialize(root), records)

    # -- reads -------------------------------------------------------------------------------------
    def _read_one(self, connection, ref: dict) -> dict:
        kind = KINDS.get(ref.get("type") or "")
        if kind is None:
            if not ref.get("type"):
                return {"status": error_status("USER_ERROR", "A RecordRef needs a type for get.")}
            return {"status": error_status("INVALID_RCRD_TYPE", f"The sandbox does not keep {ref.get('type')} records.")}
        record = Writer(connection).find(kind, ref.get("internalId"), ref.get("externalId"))
        if record is None:
            return {"status": error_status("RCRD_DSNT_EXIST", "That record does not exist.")}
        return {"status": ok_status(), "record": self.record_out(record)}

    def record_out(self, record, body_only: bool = False) -> dict:
        body = search.body_fields_only(record.body) if body_only else dict(record.body)
        body[XSI_TYPE_KEY] = KINDS[record.type].xsd_type
        return body

    def _refs(self, request) -> list[dict]:
        return [self.codec.decode(element, RECORD_REF) for element in request.body.findall(msg("baseRef"))]

    def op_get(self, request):
        refs = self._refs(request)
        with self.store.read() as connection:
            response = self._read_one(connection, refs[0])
        return "getResponse", {"readResponse": response}, 1

    def op_getList(self, request):
        refs = self._refs(request)
        self._check_count("getList", len(refs))
        with self.store.read() as connection:
            responses = [self._read_one(connection, ref) for ref in refs]
        return "getListResponse", {"readResponseList": {"status": ok_status(), "readResponse": responses}}, len(refs)

    def op_getCustomizationId(self, request):
        """The ids of the account's customizations of one type (custom fields by where they live, custom lists); a
        client gets each definition with get/getList (section_N3493817.html)."""
        element = request.body.find(msg("customizationType"))
        wanted = element.get("getCustomizationType") if element is not None else None
        with self.store.read() as connection:
            refs = custom_fields.customization_refs(connection, wanted or "")
        result = {"status": ok_status(), "totalRecords": str(len(refs)),
                  "customizationRefList": {"customizationRef": refs}}
        return "getCustomizationIdResponse", {"getCustomizationIdResult": result}, len(refs)

    def op_getServerTime(self, request):
        now = int(time.time() * 1000)
        return "getServerTimeResponse", {"getServerTimeResult": {"status": ok_status(), "serverTime": now}}, 0

    # -- writes ------------------------------------------------------------------------------------
    def _check_count(self, operation: str, count: int) -> None:
        if count > LIST_LIMITS[operation]:
            raise faults.record_count_exceeded(operation, LIST_LIMITS[operation], count)

    def _write(self, request, operation: str):
        elements = request.body.findall(msg("record"))
        if operation in LIST_LIMITS:
            self._check_count(operation, len(elements))
        action = WRITES[operation]
        responses = []
        with self.store.write() as connection:
            writer = Writer(connection, self.zone)
            for element in elements:
                responses.append(self._write_one(writer, operation, action, element))
        return responses

    def _write_one(self, writer: Writer, operation: str, action: str, element) -> dict:
        xsi_type = clark(element.get(XSI_TYPE), element.nsmap)
        kind = BY_XSD_TYPE.get(xsi_type)
        external_id, internal_id = element.get("externalId"), element.get("internalId")
        base_ref = {XSI_TYPE_KEY: RECORD_REF, "internalId": internal_id, "externalId": external_id,
                    "type": kind.type if kind else None}
        if kind is None:
            type_name = xsi_type.rpartition("}")[2]
            return {"status": error_status("INVALID_RCRD_TYPE", f"The sandbox does not keep {type_name} records."),
                    "baseRef": base_ref}
        if self.governance.take("record_changed", operation, (external_id, internal_id)):
            return {"status": error_status("RCRD_HAS_BEEN_CHANGED",
                                           "Record has been changed since you retrieved it; reload it and try again."),
                    "baseRef": base_ref}
        incoming = self.codec.decode(element, kind.xsd_type)
        # A failed record must leave nothing behind, while its neighbours in the list still commit.
        writer.connection.execute("SAVEPOINT record")
        try:
            record = writer.write(action, kind, incoming)
        except WriteError as error:
            writer.connection.execute("ROLLBACK TO record")
            writer.connection.execute("RELEASE record")
            return {"status": error_status(error.code, error.message), "baseRef": base_ref}
        writer.connection.execute("RELEASE record")
        return {"status": ok_status(),
                "baseRef": {XSI_TYPE_KEY: RECORD_REF, "internalId": str(record.internal_id),
                            "externalId": record.external_id, "type": kind.type}}

    def _single(self, request, name: str):
        return f"{name}Response", {"writeResponse": self._write(request, name)[0]}, 1

    def _listed(self, request, name: str):
        responses = self._write(request, name)
        return f"{name}Response", {"writeResponseList": {"status": ok_status(), "writeResponse": responses}}, len(responses)

    def op_add(self, request):
        return self._single(request, "add")

    def op_update(self, request):
        return self._single(request, "update")

    def op_upsert(self, request):
        return self._single(request, "upsert")

    def op_addList(self, request):
        return self._listed(request, "addList")

    def op_updateList(self, request):
        return self._listed(request, "updateList")

    def op_upsertList(self, request):
        return self._listed(request, "upsertList")

    # -- search ------------------------------------------------------------------------------------
    def _preferences(self, request) -> tuple[int, bool]:
        preferences = request.headers.get("searchPreferences")
        page_size, bodies_only = search.DEFAULT_PAGE_SIZE, True
        if preferences is not None:
            size = preferences.find(msg("pageSize"))
            if size is not None and size.text:
                page_size = int(size.text)
            only = preferences.find(msg("bodyFieldsOnly"))
            if only is not None and only.text:
                bodies_only = only.text.strip() in ("true", "1")
        return page_size, bodies_only

    def op_search(self, request):
        page_size, bodies_only = self._preferences(request)
        if not search.MIN_PAGE_SIZE <= page_size <= search.MAX_PAGE_SIZE:
            return self._search_error("searchResponse", "INVALID_SEARCH_PAGE_SIZE",
                                      f"The page size must be between {search.MIN_PAGE_SIZE} and {search.MAX_PAGE_SIZE}.")
        element = request.body.find(msg("searchRecord"))
        try:
            criteria = search.build_criteria(self.codec.decode(element, core("SearchRecord")), self.model, self.zone)
        except search.SearchError as error:
            return self._search_error("searchResponse", error.code, error.message)
        search_id = search.new_search_id(self.credentials.account)
        self.store.save_search(search_id, criteria, page_size, bodies_only, int(time.time() * 1000))
        return self._page("searchResponse", search_id, criteria, page_size, 1, bodies_only)

    def op_searchMoreWithId(self, request):
        search_id = (request.body.findtext(msg("searchId")) or "").strip()
        page_index = int(request.body.findtext(msg("pageIndex")) or 0)
        saved = self.store.load_search(search_id)
        now = int(time.time() * 1000)
        if saved is None or now - saved[3] > self.governance.settings["search_ttl_s"] * 1000:
            return self._search_error("searchMoreWithIdResponse", "INVALID_SEARCH_MORE",
                                      "The search has expired or the searchId is not valid. Please run the search again.")
        criteria, page_size, bodies_only, _ = saved
        self.store.touch_search(search_id, now)
        return self._page("searchMoreWithIdResponse", search_id, criteria, page_size, page_index, bodies_only)

    def _search_error(self, name: str, code: str, message: str):
        return name, {"searchResult": {"status": error_status(code, message)}}, 0

    def _page(self, name, search_id, criteria, page_size, page_index, bodies_only):
        with self.store.read() as connection:
            try:
                total, records = search.run(connection, criteria, page_size, max(page_index, 1))
            except search.SearchError as error:
                return self._search_error(name, error.code, error.message)
        total_pages = math.ceil(total / page_size)
        if page_index < 1 or (page_index > total_pages and not (total == 0 and page_index == 1)):
            return self._search_error(name, "INVALID_SEARCH_PAGE_INDEX",
                                      f"Page {page_index} is out of range; the search has {total_pages} page(s).")
        result = {
            "status": ok_status(), "totalRecords": str(total), "pageSize": str(page_size),
            "totalPages": str(total_pages), "pageIndex": str(page_index), "searchId": search_id,
            "recordList": {"record": [self.record_out(record, bodies_only) for record in records]},
        }
        return name, {"searchResult": result}, len(records)

