"""The sandbox starts its REST side without Oracle's WSDL, and says why SOAP is off."""
import pytest
import requests

from sandboxes.netsuite.process import run_netsuite_sandbox

from .conftest import Rest

pytestmark = pytest.mark.slow


def test_it_serves_rest_and_explains_soap_is_off_without_a_wsdl(tmp_path):
    with run_netsuite_sandbox(tmp_path / "netsuite", wsdl=False) as sandbox:
        created = Rest(sandbox).put("customer/eid:NOWSDL", {"companyName": "No WSDL"})
        soap = requests.post(sandbox.endpoint, data=b"<x/>", timeout=30)
        health = requests.get(f"{sandbox.url}/_sandbox/health", timeout=30).json()
        log = sandbox.log_path.read_text()

    assert created.status_code == 204
    assert soap.status_code == 404 and "NETSUITE_WSDL" in soap.text
    assert health == {"ok": True, "soap": False, "rest": True}
    assert [line for line in log.splitlines() if "SOAP off" in line and "REST only" in line]


def test_it_names_the_wsdl_it_could_not_read(tmp_path):
    missing = str(tmp_path / "nowhere" / "netsuite.wsdl")
    with run_netsuite_sandbox(tmp_path / "netsuite", wsdl=missing) as sandbox:
        soap = requests.get(sandbox.wsdl_url, timeout=30)

    assert soap.status_code == 404
    assert missing in soap.text and "NETSUITE_WSDL" in soap.text
