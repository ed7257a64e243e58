"""The Salesforce client turns every simple-salesforce and requests exception into a TransientError or a
PermanentError with Salesforce's own code and message. Unit tests: no server."""
import pytest
import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceMoreThanOneRecord,
    SalesforceRefusedRequest,
)

from syncs.clients.errors import PermanentError, TransientError
from syncs.clients.salesforce import SalesforceClient, result_errors

URL = "https://example.my.salesforce.com/services/data/v59.0/query"


def called(exception):
    client = SalesforceClient(config={"CONSUMER_KEY": "k", "USERNAME": "u", "PRIVATE_KEY": "pem"})

    def fails():
        raise exception
    with pytest.raises((TransientError, PermanentError)) as raised:
        client._call(fails)
    return raised.value


def salesforce_error(kind, status, code, message):
    return kind(URL, status, "query", [{"errorCode": code, "message": message}])


@pytest.mark.parametrize("exception, kind, code", [
    (salesforce_error(SalesforceMalformedRequest, 400, "MALFORMED_QUERY", "unexpected token"), PermanentError, "MALFORMED_QUERY"),
    (salesforce_error(SalesforceRefusedRequest, 403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), TransientError, "REQUEST_LIMIT_EXCEEDED"),
    (salesforce_error(SalesforceMalformedRequest, 400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access"), TransientError, "UNABLE_TO_LOCK_ROW"),
    (salesforce_error(SalesforceError, 503, "SERVER_UNAVAILABLE", "down"), TransientError, "SERVER_UNAVAILABLE"),
    (SalesforceError(URL, 502, "query", b"<html>Bad Gateway</html>"), TransientError, "HTTP_502"),
    (salesforce_error(SalesforceMoreThanOneRecord, 300, "MULTIPLE_RECORDS", "more than one"), PermanentError, "MULTIPLE_RECORDS"),
    (salesforce_error(SalesforceExpiredSession, 401, "INVALID_SESSION_ID", "Session expired or invalid"), TransientError, "INVALID_SESSION_ID"),
])
def test_it_keeps_salesforces_code_and_classifies_it(exception, kind, code):
    error = called(exception)
    assert type(error) is kind and error.code == code


def test_it_reports_a_refused_login_with_salesforces_description_and_a_hint():
    error = called(SalesforceAuthenticationFailed("invalid_grant", "expired authorization code"))
    assert type(error) is PermanentError and error.code == "invalid_grant"
    assert error.message.startswith("expired authorization code")


def test_it_marks_a_timeout_and_a_dropped_connection_as_outcome_unknown():
    timeout, dropped = called(requests.ReadTimeout("read timed out")), called(requests.ConnectionError("reset"))
    assert (timeout.code, timeout.outcome_unknown) == ("TIMEOUT", True)
    assert (dropped.code, dropped.outcome_unknown) == ("CONNECTION_ERROR", True)


def test_it_reads_a_failed_collection_results_first_error():
    assert result_errors({"success": False, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING", "message": "Name"}]}) == (
        "REQUIRED_FIELD_MISSING", "Name")
    assert result_errors({"success": False, "errors": []}) == ("UNKNOWN", "")


def test_it_says_an_answer_that_is_not_json_is_unreadable():
    error = called(requests.exceptions.JSONDecodeError("Expecting value", "<html>Bad Gateway</html>", 0))
    assert (type(error), error.code, error.outcome_unknown) == (TransientError, "UNREADABLE_RESPONSE", True)
