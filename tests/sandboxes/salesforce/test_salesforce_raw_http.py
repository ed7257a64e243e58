"""The wire shapes simple-salesforce hides: status codes, headers and bodies, checked with plain requests."""
import pytest

pytestmark = pytest.mark.slow

API = "/services/data/v59.0"
SOAP_BODY = """<?xml version="1.0" encoding="utf-8" ?>
<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/">
  <env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">
    <n1:username>{username}</n1:username><n1:password>{password}</n1:password>
  </n1:login></env:Body></env:Envelope>"""


@pytest.fixture(scope="module")
def http(sandbox):
    session = sandbox.session()
    token = session.post(sandbox.url + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": sandbox.consumer_key, "client_secret": sandbox.consumer_secret,
        "username": sandbox.username, "password": sandbox.password + sandbox.security_token}).json()
    session.headers["Authorization"] = "Bearer " + token["access_token"]
    session.base = token["instance_url"] + API
    return session


def assert_error_list(response, status, code):
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, list) and set(body[0]) == {"message", "errorCode", "fields"}
    assert body[0]["errorCode"] == code
    return body[0]


def test_it_answers_the_oauth_token_shape_with_its_own_host(sandbox):
    response = sandbox.session().post(sandbox.url + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": sandbox.consumer_key, "client_secret": sandbox.consumer_secret,
        "username": sandbox.username, "password": sandbox.password + sandbox.security_token})
    body = response.json()
    assert response.status_code == 200
    assert set(body) == {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}
    assert body["instance_url"] == sandbox.url and body["token_type"] == "Bearer"
    wrong = sandbox.session().post(sandbox.url + "/services/oauth2/token", data={
        "grant_type": "password", "client_id": sandbox.consumer_key, "client_secret": sandbox.consumer_secret,
        "username": sandbox.username, "password": "nope"})
    assert wrong.status_code == 400
    assert wrong.json() == {"error": "invalid_grant", "error_description": "authentication failure"}


def test_it_answers_soap_logins_and_soap_faults(sandbox):
    session = sandbox.session()
    headers = {"Content-Type": "text/xml", "SOAPAction": "login"}
    ok = session.post(sandbox.url + "/services/Soap/u/59.0", headers=headers, data=SOAP_BODY.format(
        username=sandbox.username, password=sandbox.password + sandbox.security_token))
    assert ok.status_code == 200
    assert f"<serverUrl>{sandbox.url}/services/Soap/u/59.0/" in ok.text and "<sessionId>" in ok.text
    assert "<organizationId>00D" in ok.text and "<userName>" in ok.text
    fault = session.post(sandbox.url + "/services/Soap/u/59.0", headers=headers, data=SOAP_BODY.format(
        username=sandbox.username, password=sandbox.password))
    assert fault.status_code == 500
    assert "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode>" in fault.text


def test_it_refuses_requests_without_a_session(sandbox):
    response = sandbox.session().get(sandbox.url + API + "/sobjects")
    error = assert_error_list(response, 401, "INVALID_SESSION_ID")
    assert error["message"] == "Session expired or invalid"


def test_it_lists_versions_and_limits(sandbox, http):
    versions = sandbox.session().get(sandbox.url + "/services/data/")
    assert versions.status_code == 200 and {"label", "url", "version"} <= set(versions.json()[0])
    assert "59.0" in [v["version"] for v in versions.json()]
    limits = http.get(http.base + "/limits")
    assert set(limits.json()["DailyApiRequests"]) == {"Max", "Remaining"}


def test_it_sends_the_api_usage_header_on_every_call(http):
    first = http.get(http.base + "/sobjects/Account/describe")
    second = http.get(http.base + "/query", params={"q": "SELECT Nope FROM Account"})
    used_first = int(first.headers["Sforce-Limit-Info"].split("=")[1].split("/")[0])
    used_second = int(second.headers["Sforce-Limit-Info"].split("=")[1].split("/")[0])
    assert used_second == used_first + 1


def test_it_uses_the_status_codes_and_bodies_of_the_rest_api(http):
    created = http.post(http.base + "/sobjects/Contact/", json={"LastName": "Raw"})
    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "success": True, "errors": []}
    record_url = f"{http.base}/sobjects/Contact/{created.json()['id']}"
    updated = http.patch(record_url, json={"Title": "Owner"})
    assert updated.status_code == 204 and updated.content == b""
    fetched = http.get(record_url, params={"fields": "Title,LastName"})
    assert fetched.json() == {"attributes": {"type": "Contact", "url": record_url.replace(http.base, API)},
                              "Title": "Owner", "LastName": "Raw"}
    assert http.delete(record_url).status_code == 204
    assert_error_list(http.get(record_url), 404, "NOT_FOUND")
    assert_error_list(http.delete(record_url), 404, "ENTITY_IS_DELETED")


def test_it_answers_upserts_with_201_then_200_and_300_on_several_matches(http):
    url = http.base + "/sobjects/Remittance__c/NetSuite_Payment_Id__c/RAW%2F77"
    created = http.patch(url, json={"Amount__c": 5})
    assert created.status_code == 201 and created.json()["created"] is True
    updated = http.patch(url, json={"Amount__c": 6})
    assert updated.status_code == 200 and updated.json()["created"] is False
    fetched = http.get(url).json()
    assert fetched["NetSuite_Payment_Id__c"] == "RAW/77" and fetched["Amount__c"] == 6.0
    for name in ("Raw twin 1", "Raw twin 2"):
        http.post(http.base + "/sobjects/Account/", json={"Name": name, "Legacy_Id__c": "RAW-TWIN"})
    several = http.patch(http.base + "/sobjects/Account/Legacy_Id__c/RAW-TWIN", json={"Phone": "1"})
    assert several.status_code == 300
    assert all(url.startswith(API + "/sobjects/Account/001") for url in several.json())
    assert_error_list(http.patch(http.base + "/sobjects/Account/Name/Anything", json={}), 404, "NOT_FOUND")


def test_it_returns_error_lists_for_bad_requests(http):
    error = assert_error_list(http.post(http.base + "/sobjects/Account/", json={"Name": "x", "Bogus": 1}), 400,
                              "INVALID_FIELD")
    assert error["message"] == "No such column 'Bogus' on sobject of type Account"
    missing = assert_error_list(http.post(http.base + "/sobjects/Opportunity/", json={"Name": "x"}), 400,
                                "REQUIRED_FIELD_MISSING")
    assert missing["fields"] == ["StageName", "CloseDate"]
    assert_error_list(http.post(http.base + "/sobjects/Account/", data=b"{not json",
                                headers={"Content-Type": "application/json"}), 400, "JSON_PARSER_ERROR")
    assert_error_list(http.put(http.base + "/sobjects/Account/"), 405, "METHOD_NOT_ALLOWED")
    assert_error_list(http.get(http.base + "/nothing/here"), 404, "NOT_FOUND")
    assert_error_list(http.get(http.base + "/query/01gXXXXXXXXXXXXXXX-2000"), 400, "INVALID_QUERY_LOCATOR")
    too_many = {"records": [{"attributes": {"type": "Account"}, "Name": str(i)} for i in range(201)]}
    assert_error_list(http.post(http.base + "/composite/sobjects", json=too_many), 400, "EXCEEDED_ID_LIMIT")


def test_it_pages_with_next_records_urls_to_the_end(http):
    first = http.get(http.base + "/query", params={"q": "SELECT Id FROM Contact"}).json()
    seen = len(first["records"])
    page = first
    while not page["done"]:
        page = http.get(http.base.replace(API, "") + page["nextRecordsUrl"]).json()
        seen += len(page["records"])
    assert seen == first["totalSize"] > 2000
    assert "nextRecordsUrl" not in page


def test_it_refuses_an_id_in_the_body_of_a_single_record_write(http):
    error = assert_error_list(http.post(http.base + "/sobjects/Account/", json={"Id": "001000000000001",
                                                                                "Name": "x"}), 400, "INVALID_FIELD")
    assert error["message"] == "The Id field should not be specified in the sobject data."
    created = http.post(http.base + "/sobjects/Account/", json={"Name": "Id in body"})
    assert created.headers["Location"].endswith("/sobjects/Account/" + created.json()["id"])
    assert_error_list(http.patch(http.base + "/sobjects/Account/" + created.json()["id"],
                                 json={"Id": created.json()["id"], "Phone": "1"}), 400, "INVALID_FIELD")


def test_it_refuses_a_uri_longer_than_the_platform_accepts(http):
    ids = ", ".join(f"'001{n:012d}'" for n in range(1000))
    response = http.get(http.base + "/query", params={"q": f"SELECT Id FROM Account WHERE Id IN ({ids})"})
    assert response.status_code == 414
    short = ", ".join(f"'001{n:012d}'" for n in range(300))
    assert http.get(http.base + "/query", params={"q": f"SELECT Id FROM Account WHERE Id IN ({short})"}).ok


def test_it_names_the_field_label_in_validation_messages(http):
    too_long = assert_error_list(http.post(http.base + "/sobjects/Account/", json={"Name": "x" * 256}), 400,
                                 "STRING_TOO_LONG")
    assert too_long["message"].startswith("Account Name: data value too large: xxx")
    assert too_long["message"].endswith("(max length=255)") and too_long["fields"] == ["Name"]
    out_of_range = assert_error_list(http.post(http.base + "/sobjects/Remittance__c/", json={"Amount__c": 1e17}),
                                     400, "NUMBER_OUTSIDE_VALID_RANGE")
    assert out_of_range["fields"] == ["Amount__c"]
    stage = assert_error_list(http.post(http.base + "/sobjects/Opportunity/", json={
        "Name": "x", "StageName": "Won", "CloseDate": "2026-01-01"}), 400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    assert stage["message"] == "Stage: bad value for restricted picklist field: Won"
