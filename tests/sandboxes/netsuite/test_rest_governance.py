"""Governance on REST: the concurrency pool shared with SOAP, 429, modelled latency, injected failures."""
import threading
import time

import pytest
import requests
from zeep.exceptions import Fault

from .conftest import FAULTS, error_code

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def calm(calm_sandbox):
    """Every test starts and ends with no injected failure or latency."""


def test_it_shares_one_concurrency_pool_between_soap_and_rest(netsuite, rest):
    netsuite.sandbox.control(latency_ms=1500, concurrency_limit=3)
    outcomes = []

    def soap():
        try:
            netsuite.service.getServerTime(_soapheaders=netsuite.headers())
            outcomes.append("soap ok")
        except Fault as fault:
            outcomes.append(fault.detail.findtext(f"{{{FAULTS}}}*/{{{FAULTS}}}code"))

    def over_rest():
        response = rest.get("customer", params={"limit": 1})
        outcomes.append("rest ok" if response.status_code == 200 else response)

    holders = [threading.Thread(target=soap) for _ in range(3)]
    for thread in holders:
        thread.start()
    time.sleep(0.5)
    refused = rest.get("customer", params={"limit": 1})
    for thread in holders:
        thread.join()

    assert outcomes == ["soap ok"] * 3
    assert refused.status_code == 429
    body = refused.json()
    assert body["title"] == "Too Many Requests" and body["status"] == 429
    assert body["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    assert netsuite.sandbox.stats()["max_concurrency"] == 3
    over_rest()
    assert outcomes[-1] == "rest ok"


def test_it_models_latency_per_request_and_per_record_on_rest(rest):
    rest.sandbox.control(latency_ms=200, latency_per_record_ms=5)
    started = time.monotonic()
    response = rest.suiteql("SELECT id FROM item")

    assert time.monotonic() - started >= 0.2
    assert float(response.headers["X-Sandbox-Latency"]) == pytest.approx(200 + 5 * response.json()["count"])


def test_it_injects_gateway_errors_on_rest(rest, unique):
    rest.sandbox.control(http_503_next=1, fault_operations="record.upsert")
    unavailable = rest.put(f"customer/eid:{unique}-G", {"companyName": "Gateway"})
    again = rest.put(f"customer/eid:{unique}-G", {"companyName": "Gateway"})

    assert unavailable.status_code == 503 and unavailable.headers["Content-Type"] == "text/html"
    assert again.status_code == 204


def test_it_commits_a_write_whose_response_is_lost(rest, unique):
    rest.sandbox.control(lost_response_next=1, fault_operations="record.upsert")
    with pytest.raises(requests.ConnectionError):
        rest.put(f"customer/eid:{unique}-L", {"companyName": "Lost Answer"})

    assert rest.get(f"customer/eid:{unique}-L").json()["companyName"] == "Lost Answer"


def test_it_injects_record_changed_on_rest_writes(rest, unique):
    rest.sandbox.control(record_changed_next=1, record_changed_match=f"{unique}-R")
    changed = rest.put(f"customer/eid:{unique}-R", {"companyName": "Changed"})

    assert changed.status_code == 400 and error_code(changed) == "RCRD_HAS_BEEN_CHANGED"
    assert rest.get(f"customer/eid:{unique}-R").status_code == 404


def test_it_answers_the_governance_limits(rest):
    rest.sandbox.control(concurrency_limit=7)

    limits = rest.get("/services/rest/system/v1/governanceLimits").json()

    assert limits["accountConcurrencyLimit"] == 7 and limits["limitType"] == "account"
