"""Asynchronous REST: batches of up to 100 records, jobs, tasks and per-record results, idempotency keys."""
import uuid

import pytest

from sandboxes.netsuite.process import run_netsuite_sandbox

from .conftest import Rest, error_code

pytestmark = pytest.mark.slow


def test_it_upserts_a_batch_and_reports_each_record(rest, unique):
    items = [{"externalId": f"{unique}-B{n}", "companyName": f"Batch {n}"} for n in range(3)]
    items.append({"externalId": f"{unique}-B-bad", "isPerson": False})   # no companyName: this one fails

    submitted = rest.batch("PUT", "customer", items)

    assert submitted.status_code == 202 and submitted.text == ""
    assert submitted.headers["Location"].startswith("/services/rest/async/v1/job/")
    job = rest.wait(submitted.headers["Location"])
    assert job["completed"] is True and job["progress"] == "failed"
    tasks = rest.get(job["task"]["links"][0]["href"]).json()
    assert tasks["count"] == 4
    results = []
    for task in tasks["items"]:
        detail = rest.get(task["links"][0]["href"]).json()
        assert detail["completed"] is True and detail["startTime"] and detail["endTime"]
        results.append((detail["progress"], rest.get(detail["links"][0]["href"])))
    assert [progress for progress, _ in results] == ["succeeded"] * 3 + ["failed"]
    created = results[0][1]
    assert created.status_code == 204 and "/record/v1/customer/" in created.headers["Location"]
    assert error_code(results[3][1]) == "USER_ERROR"
    assert rest.get(f"customer/eid:{unique}-B2").json()["companyName"] == "Batch 2"


def test_it_adds_updates_and_deletes_in_batches(rest, unique):
    added = rest.wait(rest.batch("POST", "contact", [
        {"externalId": f"{unique}-K{n}", "lastName": f"Contact {n}"} for n in range(2)]).headers["Location"])
    first_id = rest.get(f"contact/eid:{unique}-K0").json()["id"]
    updated = rest.wait(rest.batch("PATCH", "contact", [{"id": first_id, "title": "Owner"},
                                                        {"externalId": f"{unique}-K1", "title": "Clerk"}]
                                   ).headers["Location"])
    titles = [rest.get(f"contact/eid:{unique}-K{n}").json()["title"] for n in range(2)]
    deleted = rest.wait(rest.batch("DELETE", "contact", [{"id": first_id}]).headers["Location"])

    assert [job["progress"] for job in (added, updated, deleted)] == ["succeeded"] * 3
    assert titles == ["Owner", "Clerk"]
    assert rest.get(f"contact/{first_id}").status_code == 404


def test_it_writes_nothing_again_for_a_reused_idempotency_key(rest, unique):
    key = str(uuid.uuid4())
    items = [{"externalId": f"{unique}-I", "companyName": "Only Once"}]

    first = rest.batch("POST", "customer", items, **{"X-NetSuite-idempotency-key": key})
    rest.wait(first.headers["Location"])
    again = rest.batch("POST", "customer", items, **{"X-NetSuite-idempotency-key": key})

    assert again.status_code == 400
    body = again.json()
    assert body["title"] == "Conflict" and body["o:errorDetails"][0]["o:errorCode"] == "IDEMPOTENCY_ERROR"
    assert again.headers["Location"] == first.headers["Location"]
    assert rest.rows(f"SELECT COUNT(*) AS n FROM customer WHERE externalid = '{unique}-I'") == [
        {"links": [], "n": "1"}]


def test_it_runs_a_single_record_request_asynchronously(rest, unique):
    submitted = rest.put(f"customer/eid:{unique}-S", {"companyName": "Async Single"},
                         headers={"Prefer": "respond-async"})
    job = rest.wait(submitted.headers["Location"])
    read = rest.get(f"customer/eid:{unique}-S", headers={"Prefer": "respond-async"})
    read_job = rest.wait(read.headers["Location"])

    result = rest.get(f"{read.headers['Location']}/task/1/result")
    assert submitted.status_code == 202 and submitted.headers["Preference-Applied"] == "respond-async"
    assert job["progress"] == read_job["progress"] == "succeeded"
    assert result.status_code == 200 and result.json()["companyName"] == "Async Single"


def test_it_refuses_batches_it_cannot_take(rest, unique):
    too_many = rest.batch("POST", "customer", [{"companyName": f"N{n}"} for n in range(101)])
    not_async = rest.http.post(f"{rest.records}/customer", json={"items": [{"companyName": "x"}]}, timeout=30,
                               headers={"Content-Type": "application/vnd.oracle.resource+json; type=collection"})
    upsert_without_keys = rest.batch("PUT", "customer", [{"companyName": "no key"}])

    assert too_many.status_code == 400 and "at most 100" in too_many.json()["o:errorDetails"][0]["detail"]
    assert not_async.status_code == 400 and not_async.json()["o:errorDetails"][0]["o:errorHeader"] == "Prefer"
    assert upsert_without_keys.status_code == 400
    assert rest.get("/services/rest/async/v1/job/999999").status_code == 404


def test_it_runs_no_more_jobs_at_once_than_the_async_processors(tmp_path):
    with run_netsuite_sandbox(tmp_path / "netsuite", wsdl=False,
                              latency_per_record_ms=300, settings={"rest_async_processors": 1}) as sandbox:
        rest = Rest(sandbox)
        locations = [rest.batch("POST", "customer", [{"companyName": f"Queue {n}"}]).headers["Location"]
                     for n in range(2)]
        first = rest.get(locations[0]).json()
        second = rest.get(locations[1]).json()
        jobs = [rest.wait(location) for location in locations]

    assert second["progress"] == "pending" and first["progress"] in ("pending", "processing")
    assert jobs[1]["startTime"] >= jobs[0]["endTime"]
