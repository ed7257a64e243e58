"""Governance and injected faults surface in simple-salesforce as they would from a real org."""
import subprocess
import sys
import threading
import time

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (SalesforceExpiredSession, SalesforceGeneralError,
                                          SalesforceMalformedRequest, SalesforceRefusedRequest)

from sandboxes.salesforce.process import PROJECT_ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def calm_org(sandbox):
    yield
    sandbox.control(latency_ms=0, api_daily_limit=100000, api_usage=0, session_minutes=120, error_rate=0,
                    fail_next=[], locked_ids=[])


def test_it_adds_latency_to_every_request(sandbox, sf):
    sandbox.control(latency_ms=300)
    started = time.monotonic()
    sf.query("SELECT Id FROM Account LIMIT 1")
    assert time.monotonic() - started >= 0.3


def test_it_reports_api_usage_and_refuses_requests_once_the_allocation_is_spent(sandbox, sf):
    sandbox.control(api_daily_limit=50, api_usage=48)
    sf.query("SELECT Id FROM Account LIMIT 1")
    assert (sf.api_usage["api-usage"].used, sf.api_usage["api-usage"].total) == (49, 50)
    sf.query("SELECT Id FROM Account LIMIT 1")
    with pytest.raises(SalesforceRefusedRequest) as caught:
        sf.query("SELECT Id FROM Account LIMIT 1")
    assert caught.value.status == 403
    assert caught.value.content == [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED",
                                     "fields": []}]
    assert sandbox.stats()["api_usage"] == 50


def test_it_expires_sessions_on_demand_and_the_client_logs_in_again(sandbox):
    sf = sandbox.client()
    old_session = sf.session_id
    logins = sandbox.stats()["counts"]["logins"]
    sandbox.control(expire_sessions=True)
    assert sf.query("SELECT COUNT() FROM Account")["totalSize"] > 0
    assert sf.session_id != old_session
    assert sandbox.stats()["counts"]["logins"] == logins + 1
    stale = Salesforce(instance=sandbox.instance, session_id=old_session, session=sandbox.session())
    with pytest.raises(SalesforceExpiredSession) as caught:
        stale.query("SELECT Id FROM Account LIMIT 1")
    assert caught.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_it_expires_sessions_after_their_lifetime(sandbox):
    sandbox.control(session_minutes=0.02)    # 1.2 seconds
    sf = sandbox.client()
    old_session = sf.session_id
    time.sleep(1.5)
    assert sf.Account.describe()["name"] == "Account"
    assert sf.session_id != old_session


def test_it_injects_server_errors_the_client_surfaces(sandbox, sf):
    sandbox.control(fail_next=[500, 503])
    with pytest.raises(SalesforceGeneralError) as first:
        sf.query("SELECT Id FROM Account LIMIT 1")
    with pytest.raises(SalesforceGeneralError) as second:
        sf.query("SELECT Id FROM Account LIMIT 1")
    assert (first.value.status, second.value.status) == (500, 503)
    assert first.value.content[0]["errorCode"] == "UNKNOWN_EXCEPTION"
    assert second.value.content[0]["errorCode"] == "SERVER_UNAVAILABLE"
    assert sf.query("SELECT Id FROM Account LIMIT 1")["totalSize"] == 1


def test_it_injects_errors_at_a_rate(sandbox, sf):
    sandbox.control(error_rate=0.5)
    outcomes = []
    for _ in range(40):
        try:
            sf.query("SELECT Id FROM Account LIMIT 1")
            outcomes.append("ok")
        except SalesforceGeneralError as error:
            assert error.status in (500, 503)
            outcomes.append("failed")
    assert 5 < outcomes.count("failed") < 35


def test_it_fails_writes_touching_a_locked_record_with_unable_to_lock_row(sandbox, sf):
    account_id = sf.Account.create({"Name": "Locked Merchant"})["id"]
    other_id = sf.Account.create({"Name": "Free Merchant"})["id"]
    sandbox.control(lock=[account_id])
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Account.update(account_id, {"Phone": "1"})
    assert caught.value.content[0]["errorCode"] == "UNABLE_TO_LOCK_ROW"
    assert account_id in caught.value.content[0]["message"]
    with pytest.raises(SalesforceMalformedRequest):
        sf.Contact.create({"LastName": "Child of locked", "AccountId": account_id})
    results = sf.restful("composite/sobjects", method="PATCH", json={"allOrNone": False, "records": [
        {"attributes": {"type": "Account"}, "Id": account_id, "Phone": "2"},
        {"attributes": {"type": "Account"}, "Id": other_id, "Phone": "2"}]})
    assert [r["success"] for r in results] == [False, True]
    assert results[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert sf.Account.get(account_id)["Phone"] is None
    sandbox.control(unlock=[account_id])
    assert sf.Account.update(account_id, {"Phone": "3"}) == 204


def test_it_serves_many_clients_at_once(sandbox):
    sandbox.control(latency_ms=100)
    errors = []

    def worker():
        sf = sandbox.client()
        try:
            for _ in range(5):
                assert sf.query("SELECT Id, Name FROM Account LIMIT 50")["totalSize"] == 50
        except Exception as exc:    # collected, so a failure in a thread fails the test
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    # 8 clients x 6 requests x 100 ms would take 4.8 s one at a time.
    assert time.monotonic() - started < 3
    assert sandbox.stats()["max_in_flight"] > 1


def test_it_keeps_data_sessions_and_certificate_across_restarts(sandbox):
    sf = sandbox.client()
    account_id = sf.Account.create({"Name": "Survives Restart"})["id"]
    certificate = open(sandbox.ca_cert).read()
    sandbox.restart()
    assert open(sandbox.ca_cert).read() == certificate
    assert sf.Account.get(account_id)["Name"] == "Survives Restart"


def test_it_is_controlled_from_the_command_line(sandbox):
    command = [sys.executable, "-m", "sandboxes.salesforce", "control", "--port", str(sandbox.port),
               "--data-dir", str(sandbox.data_dir), "latency_ms=5", "error_rate=0"]
    completed = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=30)
    assert completed.returncode == 0, completed.stderr
    assert sandbox.stats()["settings"]["latency_ms"] == 5
