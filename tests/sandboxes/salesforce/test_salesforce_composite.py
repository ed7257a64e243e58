"""Composite and sObject Collections retrieve, over real HTTP: what an integration sees in the answers."""
import pytest

from sandboxes.salesforce.records import USER_ID

pytestmark = pytest.mark.slow


def composite(api, subrequests, **options):
    response = api.post(api.base + "/composite", json=dict(options, compositeRequest=subrequests))
    assert response.status_code == 200, response.text
    return {item["referenceId"]: item for item in response.json()["compositeResponse"]}


def test_it_retrieves_records_by_id_in_order_with_null_for_the_missing(sf, api):
    found = sf.query("SELECT Id, Name FROM Account ORDER BY Name LIMIT 2")["records"]
    deleted = sf.Account.create({"Name": "Retrieve Then Delete"})["id"]
    sf.Account.delete(deleted)
    wanted = [found[1]["Id"], "001000000000000AAA", found[0]["Id"][:15], deleted, "not-an-id"]
    response = api.get(api.base + "/composite/sobjects/Account", params={"ids": ",".join(wanted),
                                                                        "fields": "Id,Name,Type"})
    assert response.status_code == 200
    records = response.json()
    assert [r and r["Id"] for r in records] == [found[1]["Id"], None, found[0]["Id"], None, None]
    assert records[0]["Name"] == found[1]["Name"] and set(records[0]) == {"attributes", "Id", "Name", "Type"}
    assert records[0]["attributes"] == {"type": "Account",
                                        "url": f"/services/data/v59.0/sobjects/Account/{found[1]['Id']}"}


def test_it_retrieves_up_to_2000_ids_by_post(sf, api):
    record_ids = [r["Id"] for r in sf.query("SELECT Id FROM Contact LIMIT 2000")["records"]]
    response = api.post(api.base + "/composite/sobjects/Contact", json={"ids": record_ids,
                                                                        "fields": ["LastName", "AccountId"]})
    assert response.status_code == 200
    assert [r["attributes"]["url"].rsplit("/", 1)[1] for r in response.json()] == record_ids
    too_many = api.post(api.base + "/composite/sobjects/Contact", json={"ids": record_ids * 2, "fields": ["Id"]})
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_it_refuses_an_unknown_field_in_a_retrieve(sf, api):
    account_id = sf.query("SELECT Id FROM Account LIMIT 1")["records"][0]["Id"]
    response = api.get(api.base + "/composite/sobjects/Account", params={"ids": account_id, "fields": "Name,Nope__c"})
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "INVALID_FIELD"
    assert response.json()[0]["message"].startswith("No such column 'Nope__c' on entity 'Account'")


def test_it_chains_subrequests_through_references(sf, api):
    answers = composite(api, [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "newAccount",
         "body": {"Name": "Composite Chain Ltd", "Type": "Merchant"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "newContact",
         "body": {"LastName": "Chained", "AccountId": "@{newAccount.id}"}},
        {"method": "GET", "referenceId": "readBack",
         "url": "/services/data/v59.0/query?q=SELECT+Id,+Account.Name+FROM+Contact+WHERE+Id+=+'@{newContact.id}'"},
        {"method": "PATCH", "url": "/services/data/v59.0/sobjects/Account/@{newAccount.id}", "referenceId": "rename",
         "body": {"Name": "Composite Chain Renamed"}},
    ])
    assert answers["newAccount"]["httpStatusCode"] == 201
    account_id = answers["newAccount"]["body"]["id"]
    assert answers["newAccount"]["httpHeaders"] == {"Location": f"/services/data/v59.0/sobjects/Account/{account_id}"}
    assert answers["readBack"]["body"]["records"][0]["Account"]["Name"] == "Composite Chain Ltd"
    assert answers["rename"] == {"body": None, "httpHeaders": {}, "httpStatusCode": 204, "referenceId": "rename"}
    assert sf.Account.get(account_id)["Name"] == "Composite Chain Renamed"
    assert sf.query(f"SELECT COUNT() FROM Contact WHERE AccountId = '{account_id}'")["totalSize"] == 1


def test_it_halts_subrequests_that_refer_to_a_failed_one(sf, api):
    answers = composite(api, [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "noName", "body": {}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "orphan",
         "body": {"LastName": "Orphan", "AccountId": "@{noName.id}"}},
        {"method": "GET", "url": "/services/data/v59.0/query?q=SELECT+Id+FROM+Account+WHERE+Name='No+Such+Name'",
         "referenceId": "empty"},
        {"method": "PATCH", "url": "/services/data/v59.0/sobjects/Account/@{empty.records[0].Id}",
         "referenceId": "fromEmpty", "body": {"Phone": "1"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "independent",
         "body": {"Name": "Composite Independent"}},
    ])
    assert answers["noName"]["httpStatusCode"] == 400
    assert answers["noName"]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert answers["orphan"]["body"] == [{"errorCode": "PROCESSING_HALTED",
                                          "message": "Invalid reference specified. No value for noName.id found in "
                                                     "noName"}]
    assert answers["fromEmpty"]["body"][0]["message"] == ("Invalid reference specified. No value for "
                                                          "empty.records[0].Id found in empty")
    assert answers["independent"]["httpStatusCode"] == 201     # without allOrNone the others still commit
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Composite Independent'")["totalSize"] == 1


def test_it_rolls_everything_back_when_all_or_none_fails(sf, api):
    answers = composite(api, [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "first",
         "body": {"Name": "Composite Rolled Back"}},
        {"method": "POST", "url": "/services/data/v59.0/composite/sobjects", "referenceId": "collection",
         "body": {"records": [{"attributes": {"type": "Contact"}, "LastName": "Rolled", "AccountId": "@{first.id}"}]}},
        {"method": "PATCH", "url": "/services/data/v59.0/sobjects/Account/@{first.id}", "referenceId": "bad",
         "body": {"Type": "Not A Type", "NumberOfWidgets__c": 3}},
        {"method": "GET", "url": "/services/data/v59.0/sobjects/Account/@{first.id}", "referenceId": "never"},
    ], allOrNone=True)
    assert answers["bad"]["httpStatusCode"] == 400 and answers["bad"]["body"][0]["errorCode"] == "INVALID_FIELD"
    halted = {"errorCode": "PROCESSING_HALTED",
              "message": "The transaction was rolled back since another operation in the same transaction failed."}
    for name in ("first", "collection", "never"):
        assert answers[name]["httpStatusCode"] == 400 and answers[name]["body"] == [halted]
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Composite Rolled Back'")["totalSize"] == 0
    assert sf.query("SELECT COUNT() FROM Contact WHERE LastName = 'Rolled'")["totalSize"] == 0


def test_it_counts_a_composite_call_as_one_api_request(sandbox, api):
    before = sandbox.stats()["api_usage"]
    composite(api, [{"method": "GET", "url": "/services/data/v59.0/sobjects/User/" + USER_ID,
                     "referenceId": f"user{n}"} for n in range(25)])
    assert sandbox.stats()["api_usage"] == before + 1


def test_it_refuses_more_than_25_subrequests_and_duplicate_reference_ids(api):
    many = [{"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": f"r{n}"} for n in range(26)]
    response = api.post(api.base + "/composite", json={"compositeRequest": many})
    assert response.status_code == 400
    twice = [{"method": "GET", "url": "/services/data/v59.0/sobjects", "referenceId": "same"}] * 2
    response = api.post(api.base + "/composite", json={"compositeRequest": twice})
    assert response.status_code == 400 and "Duplicate referenceId" in response.json()[0]["message"]


def test_it_refuses_subrequest_headers_that_are_inherited_from_the_composite_request(api):
    response = api.post(api.base + "/composite", json={"compositeRequest": [
        {"method": "GET", "url": "/services/data/v59.0/sobjects", "referenceId": "listing",
         "httpHeaders": {"Authorization": "Bearer someone-else"}}]})
    assert response.status_code == 400 and "Authorization" in response.json()[0]["message"]
