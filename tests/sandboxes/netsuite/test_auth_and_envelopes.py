import time
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree
from zeep.exceptions import Fault

from sandboxes.netsuite.process import BINDING, run_netsuite_sandbox

from .conftest import FAULTS


def fault_code(fault: Fault) -> str:
    return fault.detail.findtext(f"{{{FAULTS}}}*/{{{FAULTS}}}code")


def test_it_serves_the_wsdl_pointing_at_itself(sandbox):
    wsdl = requests.get(sandbox.wsdl_url, timeout=10)
    xsd = requests.get(sandbox.url + "/wsdl/v2023_2_0/xsd/platform.core.xsd", timeout=10)

    assert wsdl.status_code == 200 and xsd.status_code == 200
    assert f'location="{sandbox.endpoint}"'.encode() in wsdl.content
    assert b"webservices.netsuite.com/services" not in wsdl.content
    assert b'targetNamespace="urn:core_2023_2.platform.webservices.netsuite.com"' in xsd.content


def test_it_lets_zeep_load_the_wsdl_from_the_sandbox(sandbox):
    client = zeep.Client(sandbox.wsdl_url)
    service = client.bind("NetSuiteService", "NetSuitePort")
    result = service.getServerTime(_soapheaders={"tokenPassport": sandbox.token_passport()})
    assert result.body.getServerTimeResult.status.isSuccess


def test_it_accepts_a_good_passport_and_checks_every_response_against_the_xsd(netsuite, zeep_client):
    result = netsuite.service.getServerTime(_soapheaders=netsuite.headers()).body.getServerTimeResult
    assert result.status.isSuccess and result.serverTime.utcoffset() is not None
    assert zeep_client.plugins[0].checked > 0


def test_it_refuses_a_bad_signature(netsuite):
    passport = netsuite.sandbox.token_passport(token_secret="not-the-secret")
    with pytest.raises(Fault) as refused:
        netsuite.service.getServerTime(_soapheaders={"tokenPassport": passport})
    assert refused.value.message.startswith("Invalid login attempt.")
    assert fault_code(refused.value) == "INVALID_LOGIN_ATTEMPT"
    assert refused.value.detail.find(f"{{{FAULTS}}}invalidCredentialsFault") is not None


def test_it_refuses_a_replayed_nonce(netsuite):
    passport = netsuite.sandbox.token_passport()
    netsuite.service.getServerTime(_soapheaders={"tokenPassport": passport})
    with pytest.raises(Fault) as refused:
        netsuite.service.getServerTime(_soapheaders={"tokenPassport": passport})
    assert fault_code(refused.value) == "INVALID_LOGIN_ATTEMPT"


def test_it_refuses_a_timestamp_far_from_server_time(netsuite):
    passport = netsuite.sandbox.token_passport(timestamp=int(time.time()) - 6 * 60)
    with pytest.raises(Fault) as refused:
        netsuite.service.getServerTime(_soapheaders={"tokenPassport": passport})
    assert fault_code(refused.value) == "INVALID_LOGIN_ATTEMPT"


def test_it_asks_for_a_login_when_the_passport_is_missing(netsuite):
    with pytest.raises(Fault) as refused:
        netsuite.service.getServerTime()
    assert fault_code(refused.value) == "WS_LOG_IN_REQD"


def soap_post(sandbox, envelope: bytes, action: str = "upsert"):
    return requests.post(sandbox.endpoint, data=envelope, timeout=10,
                         headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": action})


def test_it_refuses_an_envelope_that_breaks_the_schema(netsuite, zeep_client):
    message = zeep_client.create_message(netsuite.service, "upsert", record=netsuite.customer("SCHEMA-1"),
                                         _soapheaders=netsuite.headers())
    company = message.find(".//{*}companyName")
    company.addnext(etree.Element(company.tag.replace("companyName", "favouriteColour")))
    company.getparent().remove(company)

    response = soap_post(netsuite.sandbox, etree.tostring(message))

    assert response.status_code == 500
    fault = etree.fromstring(response.content).find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault")
    assert fault.findtext("faultcode") == "soapenv:Server.userException"
    assert "favouriteColour" in fault.findtext("faultstring")
    assert netsuite.get("customer", externalId="SCHEMA-1").status.isSuccess is False


def test_it_refuses_elements_out_of_schema_order(netsuite, zeep_client):
    message = zeep_client.create_message(netsuite.service, "upsert", record=netsuite.customer("ORDER-1", email="a@b.example"),
                                         _soapheaders=netsuite.headers())
    email = message.find(".//{*}email")
    parent = email.getparent()
    parent.remove(email)
    parent.insert(0, email)
    assert soap_post(netsuite.sandbox, etree.tostring(message)).status_code == 500


def test_it_refuses_entity_declarations(sandbox):
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&lol2;&xxe;</soapenv:Body></soapenv:Envelope>"""
    response = soap_post(sandbox, bomb, "getServerTime")
    assert response.status_code == 500
    assert b"SAXException" in response.content
    assert b"root:" not in response.content


def test_it_answers_an_operation_it_does_not_offer_with_a_fault(netsuite):
    with pytest.raises(Fault) as refused:
        netsuite.service.getSavedSearch(record=netsuite.core.GetSavedSearchRecord(searchType="transaction"),
                                        _soapheaders=netsuite.headers())
    assert fault_code(refused.value) == "INSUFFICIENT_PERMISSION"


def test_it_serves_the_binding_the_hub_uses(netsuite, zeep_client):
    service = zeep_client.create_service(BINDING, netsuite.sandbox.endpoint)
    assert service.getServerTime(_soapheaders=netsuite.headers()).body.getServerTimeResult.status.isSuccess


def test_it_reads_the_wsdl_from_a_url(sandbox, tmp_path, zeep_client):
    # Any URL works; here the first sandbox's copy stands in for Oracle's published one.
    with run_netsuite_sandbox(tmp_path / "from-url", wsdl=sandbox.wsdl_url) as second:
        service = zeep_client.create_service(BINDING, second.endpoint)
        result = service.getServerTime(_soapheaders={"tokenPassport": second.token_passport()})
    assert result.body.getServerTimeResult.status.isSuccess


def test_it_accepts_the_shapes_of_the_shared_sample_requests(sandbox):
    samples = Path(sandbox.wsdl).resolve().parent.parent / "samples"
    requests_only = sorted(p for p in samples.glob("*.xml") if not p.name.startswith("synthetic_"))
    assert requests_only
    for sample in requests_only:
        response = soap_post(sandbox, sample.read_bytes(), sample.stem.split("_")[0])
        # Schema-valid, so they get as far as authentication, where their made-up account is refused.
        assert b"INVALID_LOGIN_ATTEMPT" in response.content, sample.name


def test_it_reports_its_own_server_time(netsuite, zeep_client):
    message = zeep_client.create_message(netsuite.service, "getServerTime", _soapheaders=netsuite.headers())
    response = soap_post(netsuite.sandbox, etree.tostring(message), "getServerTime")
    assert response.status_code == 200
    assert float(response.headers["X-Sandbox-Server-Time"]) >= 0
