"""Bulk API 2.0 through simple-salesforce's bulk2 client: CSV query jobs and ingest jobs."""
import csv
import io

import pytest
from simple_salesforce.exceptions import SalesforceMalformedRequest, SalesforceOperationError

pytestmark = pytest.mark.slow

FAST = {"wait": 0.05}    # the sandbox finishes jobs at once; the client's default first poll waits 5 s


def rows(text: str) -> list:
    return list(csv.DictReader(io.StringIO(text)))


def test_it_runs_a_query_job_paged_by_locator(sf):
    pages = list(sf.bulk2.Contact.query("SELECT Id, LastName, Email, Account.Name FROM Contact ORDER BY LastName",
                                        max_records=1000, **FAST))
    records = [row for page in pages for row in rows(page)]
    assert len(pages) >= 3
    assert len(records) == sf.query("SELECT COUNT() FROM Contact")["totalSize"]
    assert set(records[0]) == {"Id", "LastName", "Email", "Account.Name"}
    assert any(row["Account.Name"] == "O'Brien & Sons" for row in records)
    assert any(row["Email"] == "" for row in records)


def test_it_answers_query_results_with_locator_headers(sandbox, sf):
    http = sandbox.session()
    http.headers["Authorization"] = "Bearer " + sf.session_id
    base = sandbox.url + "/services/data/v59.0/jobs/query"
    job = http.post(base, json={"operation": "query", "query": "SELECT Id FROM Account"}).json()
    assert job["state"] == "UploadComplete" and job["id"].startswith("750")
    assert http.get(f"{base}/{job['id']}").json()["state"] == "JobComplete"
    first = http.get(f"{base}/{job['id']}/results", params={"maxRecords": 500})
    assert first.headers["Content-Type"].startswith("text/csv")
    assert first.headers["Sforce-NumberOfRecords"] == "500" and first.headers["Sforce-Locator"] == "500"
    bad = http.post(base, json={"operation": "query", "query": "SELECT Id, (SELECT Id FROM Contacts) FROM Account"})
    assert bad.status_code == 400


def test_it_upserts_by_external_id_with_a_bad_row_failing_alone(sf):
    data = [{"NetSuite_Payment_Id__c": f"BULK-{i}", "Amount__c": i, "Method__c": "ACH"} for i in range(450)]
    data[100]["Amount__c"] = "not a number"
    first = sf.bulk2.Remittance__c.upsert(records=data, external_id_field="NetSuite_Payment_Id__c", **FAST)
    assert (first[0]["numberRecordsProcessed"], first[0]["numberRecordsFailed"]) == (450, 1)
    failed = rows(sf.bulk2.Remittance__c.get_failed_records(first[0]["job_id"]))
    assert failed[0]["NetSuite_Payment_Id__c"] == "BULK-100" and failed[0]["sf__Error"].startswith("JSON_PARSER_ERROR")
    created = rows(sf.bulk2.Remittance__c.get_successful_records(first[0]["job_id"]))
    assert {row["sf__Created"] for row in created} == {"true"}
    second = sf.bulk2.Remittance__c.upsert(records=data[:10], external_id_field="NetSuite_Payment_Id__c", **FAST)
    updated = rows(sf.bulk2.Remittance__c.get_successful_records(second[0]["job_id"]))
    assert {row["sf__Created"] for row in updated} == {"false"}
    assert sf.query("SELECT COUNT() FROM Remittance__c WHERE NetSuite_Payment_Id__c LIKE 'BULK-%'")["totalSize"] == 449


def test_it_fails_a_job_whose_csv_names_an_unknown_field(sf):
    with pytest.raises(SalesforceOperationError) as caught:
        sf.bulk2.Account.insert(records=[{"Name": "x", "Colour__c": "red"}], **FAST)
    assert "Field name not found : Colour__c" in str(caught.value)


def test_it_deletes_in_bulk_and_query_all_sees_the_deleted_rows(sf):
    created = sf.restful("composite/sobjects", method="POST", json={"records": [
        {"attributes": {"type": "Contact"}, "LastName": f"Bulk delete {i}"} for i in range(5)]})
    ids = [r["id"] for r in created]
    result = sf.bulk2.Contact.delete(records=[{"Id": i} for i in ids], **FAST)
    assert (result[0]["numberRecordsProcessed"], result[0]["numberRecordsFailed"]) == (5, 0)
    pages = sf.bulk2.Contact.query_all("SELECT Id, IsDeleted FROM Contact WHERE LastName LIKE 'Bulk delete%'", **FAST)
    deleted = [row for page in pages for row in rows(page)]
    assert {row["Id"] for row in deleted} == set(ids) and {row["IsDeleted"] for row in deleted} == {"true"}


def test_it_refuses_an_upsert_job_on_a_field_that_is_not_an_external_id(sf):
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.bulk2.Account.upsert(records=[{"Name": "x"}], external_id_field="Name", **FAST)
    assert caught.value.content[0]["errorCode"] == "INVALIDJOB"
