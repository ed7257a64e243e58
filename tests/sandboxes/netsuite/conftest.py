"""Fixtures: one zeep client per session, a running sandbox per module, and a validator that checks
every response the sandbox sends against Oracle's XSDs (so strict zeep is not the only judge)."""
import time

import pytest
import zeep
from lxml import etree
from zeep.plugins import Plugin
from zeep.transports import Transport

from sandboxes.netsuite.process import BINDING, default_wsdl, run_netsuite_sandbox
from sandboxes.netsuite.wsdl import WsdlSet

CORE = "urn:core_2023_2.platform.webservices.netsuite.com"
COMMON = "urn:common_2023_2.platform.webservices.netsuite.com"
MESSAGES = "urn:messages_2023_2.platform.webservices.netsuite.com"
RELATIONSHIPS = "urn:relationships_2023_2.lists.webservices.netsuite.com"
SALES = "urn:sales_2023_2.transactions.webservices.netsuite.com"
PURCHASES = "urn:purchases_2023_2.transactions.webservices.netsuite.com"
CUSTOMERS = "urn:customers_2023_2.transactions.webservices.netsuite.com"
FAULTS = "urn:faults_2023_2.platform.webservices.netsuite.com"

# Codes NetSuite really sends although the schema's FaultCodeType enum does not list them.
CODES_OUTSIDE_THE_SCHEMA = {"INVALID_LOGIN_ATTEMPT"}


class ValidateResponses(Plugin):
    def __init__(self, schema: etree.XMLSchema):
        self.schema = schema
        self.checked = 0

    def ingress(self, envelope, http_headers, operation):
        code = envelope.findtext(f".//{{{FAULTS}}}code")
        if code not in CODES_OUTSIDE_THE_SCHEMA and not self.schema.validate(envelope):
            raise AssertionError(f"response breaks the XSD: {self.schema.error_log.last_error}\n"
                                 + etree.tostring(envelope, pretty_print=True).decode()[:4000])
        self.checked += 1
        return envelope, http_headers


@pytest.fixture(scope="session")
def wsdl_path():
    return default_wsdl()


@pytest.fixture(scope="session")
def response_schema(wsdl_path):
    return WsdlSet(wsdl_path).compile_validator()


@pytest.fixture(scope="session")
def zeep_client(wsdl_path, response_schema):
    # The hub's way: one client per process, a timeout always set.
    return zeep.Client(wsdl_path, transport=Transport(operation_timeout=30, timeout=30),
                       plugins=[ValidateResponses(response_schema)])


class NetSuite:
    """A running sandbox plus a zeep service bound to it and the type factories tests need."""

    def __init__(self, sandbox, client):
        self.sandbox = sandbox
        self.client = client
        self.service = client.create_service(BINDING, sandbox.endpoint)
        self.core = client.type_factory(CORE)
        self.common = client.type_factory(COMMON)
        self.messages = client.type_factory(MESSAGES)
        self.rel = client.type_factory(RELATIONSHIPS)
        self.sales = client.type_factory(SALES)
        self.purchases = client.type_factory(PURCHASES)
        self.customers = client.type_factory(CUSTOMERS)

    def headers(self, **extra):
        return {"tokenPassport": self.sandbox.token_passport(), **extra}

    def search_headers(self, *, page_size=None, body_fields_only=None):
        preferences = self.messages.SearchPreferences(bodyFieldsOnly=body_fields_only, pageSize=page_size)
        return self.headers(searchPreferences=preferences)

    def ref(self, **attributes):
        return self.core.RecordRef(**attributes)

    def customer(self, external_id, name=None, **fields):
        return self.rel.Customer(externalId=external_id, companyName=name or f"Merchant {external_id}",
                                 isPerson=False, subsidiary=self.ref(internalId="1"), **fields)

    def sales_order(self, external_id, customer_external_id, lines, **fields):
        items = [self.sales.SalesOrderItem(**line) for line in lines]
        return self.sales.SalesOrder(externalId=external_id,
                                     entity=self.ref(externalId=customer_external_id, type="customer"),
                                     itemList=self.sales.SalesOrderItemList(item=items, replaceAll=True), **fields)

    def fee_line(self, item_id="101", amount=1500.0, **fields):
        return dict(item=self.ref(internalId=item_id, type="serviceSaleItem"), quantity=1,
                    rate=f"{amount:.2f}", amount=amount, **fields)

    def upsert_list(self, records):
        return self.service.upsertList(record=records, _soapheaders=self.headers()).body.writeResponseList

    def get(self, record_type, **key):
        return self.service.get(baseRef=self.ref(type=record_type, **key),
                                _soapheaders=self.headers()).body.readResponse

    def search(self, record, **preferences):
        return self.service.search(searchRecord=record, _soapheaders=self.search_headers(**preferences)).body.searchResult

    def more(self, search_id, page_index, **preferences):
        return self.service.searchMoreWithId(searchId=search_id, pageIndex=page_index,
                                             _soapheaders=self.search_headers(**preferences)).body.searchResult


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with run_netsuite_sandbox(tmp_path_factory.mktemp("netsuite"), check_responses=True) as running:
        yield running


@pytest.fixture(scope="module")
def netsuite(sandbox, zeep_client):
    return NetSuite(sandbox, zeep_client)


@pytest.fixture
def unique():
    """A prefix no other test uses, so tests sharing a module's sandbox never collide on external ids."""
    return f"T{time.monotonic_ns()}"


class Rest:
    """Plain HTTP to the sandbox's SuiteTalk REST side, with a bearer token from the client credentials flow."""

    def __init__(self, sandbox):
        import requests

        self.sandbox = sandbox
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {sandbox.access_token()}"
        self.base = sandbox.rest_url
        self.records = sandbox.rest_url + "/record/v1"

    def request(self, method, path, **kwargs):
        url = path if path.startswith("http") else (self.sandbox.url + path if path.startswith("/services")
                                                    else f"{self.records}/{path}")
        return self.http.request(method, url, timeout=30, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body, **kwargs):
        return self.request("POST", path, json=body, **kwargs)

    def put(self, path, body, **kwargs):
        return self.request("PUT", path, json=body, **kwargs)

    def patch(self, path, body, **kwargs):
        return self.request("PATCH", path, json=body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def suiteql(self, q, **params):
        return self.http.post(f"{self.base}/query/v1/suiteql", json={"q": q}, params=params,
                              headers={"Prefer": "transient"}, timeout=30)

    def rows(self, q, **params):
        response = self.suiteql(q, **params)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    def batch(self, method, record_type, items, **headers):
        return self.http.request(method, f"{self.records}/{record_type}", json={"items": items}, timeout=30,
                                 headers={"Prefer": "respond-async",
                                          "Content-Type": "application/vnd.oracle.resource+json; type=collection",
                                          **headers})

    def wait(self, job_location, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.get(job_location).json()
            if job["completed"]:
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job_location} did not complete within {timeout}s")


@pytest.fixture(scope="module")
def rest(sandbox):
    return Rest(sandbox)


def error_code(response):
    return response.json()["o:errorDetails"][0]["o:errorCode"]


@pytest.fixture
def calm_sandbox(sandbox):
    """The sandbox with no injected failure or latency, before the test and after it (modules that inject faults
    make it autouse)."""
    quiet = dict(latency_ms=0, latency_per_record_ms=0, fault_operations="", record_changed_match="",
                 concurrency_limit=5, clear_faults=True)
    sandbox.control(**quiet, reset_stats=True)
    yield sandbox
    sandbox.control(**quiet)
