"""How the REST transport classifies NetSuite's answers, over a scripted HTTP session (unit tests: no server)."""
import json

import pytest
import requests

from syncs.clients.errors import PermanentError, TransientError
from syncs.clients.netsuite import rest as rest_module
from syncs.clients.netsuite.rest import RestNetSuiteClient
from syncs.clients.netsuite.rest_auth import access_tokens


class Answer:
    def __init__(self, status: int, body=None, headers=None, content_type="application/json"):
        self.status_code = status
        self.content = (json.dumps(body).encode() if isinstance(body, (dict, list)) else (body or b""))
        self.headers = {"Content-Type": content_type, **(headers or {})}

    def json(self):
        return json.loads(self.content)


class Script:
    """A session answering each request with the next scripted answer (or raising it), recording what was asked."""

    def __init__(self, *answers):
        self.answers, self.asked = list(answers), []

    def request(self, method, url, **kwargs):
        self.asked.append((method, url, kwargs.get("headers", {}).get("X-NetSuite-Idempotency-Key")))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def error(status, code, detail="", **extra):
    return Answer(status, {"type": "x", "title": "t", "status": status,
                           "o:errorDetails": [{"detail": detail, "o:errorCode": code}]}, **extra)


@pytest.fixture
def client(settings, monkeypatch):
    settings.NETSUITE = {**settings.NETSUITE, "TRANSPORT": "rest", "REST_URL": "https://acct.example",
                         "CLIENT_ID": "c", "CERTIFICATE_ID": "k", "PRIVATE_KEY": "unused", "TIMEOUT": 5}
    monkeypatch.setattr(access_tokens, "token", lambda *args: "token")
    monkeypatch.setattr(access_tokens, "refused", lambda *args: None)
    monkeypatch.setattr(rest_module.time, "sleep", lambda seconds: None)
    return RestNetSuiteClient()


RECORD = {"type": "customer", "externalId": "001A", "fields": {"companyName": "A"}}
JOB = {"Location": "/services/rest/async/v1/job/7"}
DONE = Answer(200, {"completed": True, "progress": "succeeded"})
TASKS = Answer(200, {"items": [{"id": "1"}]})
CREATED = Answer(204, None, {"Location": "https://acct.example/services/rest/record/v1/customer/1042"})


def test_it_asks_again_under_the_same_key_after_a_lost_answer_and_reads_the_first_job(client):
    client.session = Script(requests.ConnectionError("reset"),
                            error(400, "IDEMPOTENCY_ERROR", "already submitted", headers=JOB), DONE, TASKS, CREATED)
    [result] = client.upsert_list([RECORD], idempotency_key="batch-1")
    assert (result.success, result.internal_id, result.external_id) == (True, "1042", "001A")
    submits = [key for method, _, key in client.session.asked if method == "PUT"]
    assert len(submits) == 2 and submits[0] == submits[1]
    assert client.session.asked[2][1] == "https://acct.example/services/rest/async/v1/job/7"


def test_it_says_the_outcome_is_unknown_once_a_try_may_have_landed(client):
    client.session = Script(Answer(502, b"<html>Bad Gateway</html>", content_type="text/html"),
                            error(429, "CONCURRENCY_LIMIT_EXCEEDED"), error(429, "CONCURRENCY_LIMIT_EXCEEDED"))
    with pytest.raises(TransientError) as raised:
        client.upsert_list([RECORD], idempotency_key="batch-2")
    assert raised.value.code == "CONCURRENCY_LIMIT_EXCEEDED" and raised.value.outcome_unknown


@pytest.mark.parametrize("status", [429, 503])
def test_it_reports_a_refusal_before_any_work_as_nothing_written(client, status):
    client.session = Script(Answer(status, b"<html>busy</html>", content_type="text/html"))
    with pytest.raises(TransientError) as raised:
        client.upsert_list([RECORD])
    assert raised.value.code == f"HTTP_{status}" and not raised.value.outcome_unknown


def test_it_renews_a_refused_token_once_then_names_the_login(client):
    client.session = Script(error(401, "INVALID_LOGIN", "Invalid login attempt."), error(401, "INVALID_LOGIN"))
    with pytest.raises(PermanentError) as raised:
        client.get_by_external_ids("customer", ["001A"])
    assert raised.value.code == "INVALID_LOGIN" and len(client.session.asked) == 2


def test_it_names_html_where_json_was_expected(client):
    client.session = Script(Answer(200, b"<!DOCTYPE html><p>Maintenance</p>", content_type="text/html"))
    with pytest.raises(TransientError) as raised:
        client.get_by_external_ids("customer", ["001A"])
    assert raised.value.code == "UNEXPECTED_CONTENT" and "NetSuite" in raised.value.message
    assert "Maintenance" in raised.value.message


def test_it_gives_a_refused_query_netsuites_code(client):
    client.session = Script(error(400, "INVALID_PARAMETER", "Invalid search query."))
    with pytest.raises(PermanentError) as raised:
        client.get_by_external_ids("customer", ["001A"])
    assert (raised.value.code, raised.value.message) == ("INVALID_PARAMETER", "Invalid search query.")


def test_it_fails_a_record_rest_cannot_express_alone_and_unsent(client):
    client.session = Script(Answer(202, None, JOB), DONE, TASKS, CREATED)
    results = client.upsert_list([{"type": "spaceship", "externalId": "X", "fields": {}}, RECORD])
    assert [(r.success, r.code) for r in results] == [(False, "HUB_INVALID_RECORD"), (True, "")]
    assert len([1 for method, _, _ in client.session.asked if method == "PUT"]) == 1


def test_it_retries_a_poll_through_a_transient_fault(client):
    client.session = Script(Answer(202, None, JOB), Answer(503, b"<html/>", content_type="text/html"), DONE, TASKS,
                            CREATED)
    [result] = client.upsert_list([RECORD])
    assert result.success
