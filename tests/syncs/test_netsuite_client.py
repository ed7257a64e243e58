"""The SOAP transport keeps NetSuite's wire knowledge to itself: what it hands the engine are typed results and
errors (the interface in syncs/clients/netsuite/interface.py). Unit tests: no server."""
import pytest

from syncs.clients.errors import PermanentError, TransientError
from syncs.clients.netsuite import SearchPageGone, UnknownRecordType
from syncs.clients.netsuite.soap import SoapNetSuiteClient, _search_error, _write_result


def test_it_names_the_field_whose_reference_netsuite_could_not_resolve():
    result = _write_result(False, "", "003-A", "INVALID_KEY_OR_REF", "Invalid company reference key 001000000000001AAA.")
    assert (result.success, result.transient, result.missing_reference) == (False, False, "company")
    bare = _write_result(False, "", "003-B", "INVALID_KEY_OR_REF", "Invalid entity reference.")
    assert bare.missing_reference == "entity"


def test_it_leaves_missing_reference_empty_for_other_codes():
    result = _write_result(False, "", "x", "USER_ERROR", "Invalid company reference key 1.")
    assert result.missing_reference == "" and not result.transient


def test_it_marks_netsuite_transient_record_codes_transient():
    assert _write_result(False, "", "x", "RCRD_HAS_BEEN_CHANGED", "changed meanwhile").transient
    assert not _write_result(False, "", "x", "DUP_ENTITY", "exists").transient


def test_it_reports_a_success_without_codes():
    result = _write_result(True, "42", "001", "", "")
    assert (result.success, result.internal_id, result.external_id, result.code, result.message) == (True, "42", "001", "", "")


@pytest.mark.parametrize("code", ["INVALID_SEARCH_MORE", "INVALID_SEARCH_PAGE_INDEX"])
def test_it_raises_a_gone_page_as_its_own_transient_error(code):
    error = _search_error(code, "The search has expired")
    assert isinstance(error, SearchPageGone) and isinstance(error, TransientError) and error.code == code


def test_it_classifies_other_search_errors_by_code():
    assert type(_search_error("WS_REQUEST_BLOCKED", "busy")) is TransientError
    assert type(_search_error("INSUFFICIENT_PERMISSION", "no")) is PermanentError


@pytest.fixture
def client(settings):
    settings.NETSUITE = {**settings.NETSUITE, "ENDPOINT": "http://127.0.0.1:9/unused"}
    return SoapNetSuiteClient()


def test_it_describes_record_types_and_their_lines_from_the_wsdl(client):
    assert {"companyName", "email", "externalId", "internalId"} <= client.describe_record_type("customer")
    assert {"item", "amount", "rate"} <= client.describe_record_type("salesOrderItem")
    assert "favouriteColour" not in client.describe_record_type("salesOrder")


def test_it_refuses_to_describe_a_type_it_cannot_use(client):
    with pytest.raises(UnknownRecordType) as raised:
        client.describe_record_type("spaceship")
    assert raised.value.code == "UNKNOWN_RECORD_TYPE"


class Reply:
    def __init__(self, content: bytes, content_type="text/xml; charset=utf-8", status=200):
        self.content, self.status_code, self.headers = content, status, {"Content-Type": content_type}


ENVELOPE = b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>%s</soapenv:Body></soapenv:Envelope>'


@pytest.mark.parametrize("reply, code", [
    (Reply(b""), "EMPTY_RESPONSE"),
    (Reply(b"<!DOCTYPE html><html><body>Maintenance</body></html>", "text/html"), "UNEXPECTED_CONTENT"),
    (Reply(ENVELOPE % b""), "EMPTY_SOAP_BODY"),
    (Reply(b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body/></soapenv:Envelope>'),
     "EMPTY_SOAP_BODY"),
])
def test_it_names_an_answer_it_cannot_read_for_what_it_is(reply, code):
    from syncs.clients.netsuite.soap import _check_reply

    with pytest.raises(TransientError) as raised:
        _check_reply(reply)
    assert raised.value.code == code and raised.value.outcome_unknown


def test_it_lets_a_soap_answer_and_a_fault_through():
    from syncs.clients.netsuite.soap import _check_reply

    _check_reply(Reply(ENVELOPE % b"<getServerTimeResponse/>"))
    _check_reply(Reply(b"<html>500</html>", "text/html", status=500))   # zeep raises the HTTP error itself


def test_it_refuses_to_read_an_answer_that_declares_entities(client):
    from zeep.exceptions import EntitiesForbidden

    def hostile():
        raise EntitiesForbidden("xxe", None)
    with pytest.raises(TransientError) as raised:
        client._call(hostile)
    assert raised.value.code == "UNSAFE_RESPONSE" and "refuses to read" in raised.value.message
