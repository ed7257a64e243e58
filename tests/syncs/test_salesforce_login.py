"""How the hub logs in to Salesforce (syncs/clients/salesforce.py), against the sandbox as its own process: the
OAuth 2.0 JWT bearer flow first, client credentials, and the retiring SOAP login only when nothing else is set."""
import datetime as dt
import logging
from pathlib import Path

import pytest

from sandboxes.salesforce import signing_keys
from syncs.clients import salesforce as salesforce_module
from syncs.clients.errors import PermanentError
from syncs.clients.salesforce import SalesforceClient, login_flow
from syncs.models import RecordLink, SyncAttempt
from syncs.services import sync_run


@pytest.fixture
def fresh_clients(monkeypatch):
    """No logged-in client left over from another test: each of these tests is about the login itself."""
    monkeypatch.setattr(salesforce_module, "_clients", {})


def sandbox_config(sandbox, **login) -> dict:
    return {"LOGIN_URL": sandbox.url, "CA_BUNDLE": sandbox.ca_cert, "DOMAIN": "login", "TIMEOUT": 30, **login}


@pytest.mark.parametrize("config, flow", [
    ({"CONSUMER_KEY": "k", "USERNAME": "u", "PRIVATE_KEY": "pem", "CONSUMER_SECRET": "s", "PASSWORD": "p"}, "jwt_bearer"),
    ({"CONSUMER_KEY": "k", "USERNAME": "u", "CONSUMER_SECRET": "s", "PASSWORD": "p", "DOMAIN": "acme.my"},
     "client_credentials"),
    ({"CONSUMER_KEY": "k", "USERNAME": "u", "CONSUMER_SECRET": "s", "PASSWORD": "p", "DOMAIN": "login"}, "soap"),
    ({"CONSUMER_KEY": "k", "USERNAME": "u", "PASSWORD": "p"}, "soap"),
    ({"USERNAME": "u", "PRIVATE_KEY": "pem"}, None),
])
def test_it_chooses_jwt_then_client_credentials_then_soap(config, flow):
    assert login_flow(config) == flow


@pytest.mark.slow
def test_it_logs_in_with_the_jwt_bearer_flow(hub_on_sandboxes, fresh_clients, caplog):
    salesforce, netsuite = hub_on_sandboxes
    client = salesforce_module.salesforce_client()
    with caplog.at_level(logging.WARNING, logger="syncs.clients.salesforce"):
        fields = client.describe_fields("Account")
    assert "Name" in fields
    assert client.sf.auth_type == "jwt-bearer"
    assert not [r for r in caplog.records if "SOAP" in r.getMessage()]


@pytest.mark.slow
def test_it_fails_the_run_with_salesforces_error_when_the_key_is_not_the_apps(hub_on_sandboxes, fresh_clients, settings,
                                                                              tmp_path):
    salesforce, netsuite = hub_on_sandboxes
    other_key = signing_keys.ensure_key_pair(tmp_path / "other")["key"].read_text()
    settings.SALESFORCE = {**settings.SALESFORCE, "PRIVATE_KEY": other_key}
    before = netsuite.stats()["records"]

    run = sync_run(job_name="push_accounts")

    assert run.outcome == "failed"
    assert "invalid_grant: invalid assertion" in run.message and "certificate" in run.message
    assert other_key.splitlines()[1] not in run.message
    assert not SyncAttempt.objects.filter(run=run).exists() and not RecordLink.objects.exists()
    assert netsuite.stats()["records"] == before


class _SlowClock(dt.datetime):
    """This machine's clock ten minutes behind Salesforce's: every assertion it signs has expired on arrival."""

    @classmethod
    def now(cls, tz=None):
        return dt.datetime.now(tz) - dt.timedelta(minutes=10)


@pytest.mark.slow
def test_it_fails_the_run_clearly_when_the_assertion_has_expired(hub_on_sandboxes, fresh_clients, monkeypatch):
    salesforce, netsuite = hub_on_sandboxes
    monkeypatch.setattr("simple_salesforce.login.datetime", _SlowClock)
    before = netsuite.stats()["records"]

    run = sync_run(job_name="push_accounts")

    assert run.outcome == "failed"
    assert "invalid_grant: expired authorization code" in run.message and "clock" in run.message
    assert not SyncAttempt.objects.filter(run=run).exists() and not RecordLink.objects.exists()
    assert netsuite.stats()["records"] == before


@pytest.mark.slow
def test_it_refuses_an_unreadable_private_key_without_showing_it(salesforce_sandbox):
    not_a_key = "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWJ1dC1ub3QtYS1rZXk=\n-----END RSA PRIVATE KEY-----\n"
    client = SalesforceClient(sandbox_config(salesforce_sandbox, CONSUMER_KEY=salesforce_sandbox.consumer_key,
                                             USERNAME=salesforce_sandbox.username, PRIVATE_KEY=not_a_key))
    before = salesforce_sandbox.stats()["counts"]
    with pytest.raises(PermanentError) as refused:
        client.describe_fields("Account")
    assert refused.value.code == "INVALID_PRIVATE_KEY"
    assert "c2VjcmV0" not in str(refused.value) and refused.value.__cause__ is None
    after = salesforce_sandbox.stats()["counts"]
    # Refused before anything was signed or sent.
    assert [after.get(k, 0) for k in ("logins", "failed_logins")] == [before.get(k, 0) for k in ("logins", "failed_logins")]


@pytest.mark.slow
def test_it_reads_a_key_whose_newlines_came_escaped(salesforce_sandbox):
    one_line = Path(salesforce_sandbox.private_key_file).read_text().replace("\n", "\\n")
    client = SalesforceClient(sandbox_config(salesforce_sandbox, CONSUMER_KEY=salesforce_sandbox.consumer_key,
                                             USERNAME=salesforce_sandbox.username, PRIVATE_KEY=one_line))
    assert "Name" in client.describe_fields("Account")


@pytest.mark.slow
def test_it_logs_in_with_client_credentials_on_a_my_domain(salesforce_sandbox):
    # Salesforce serves the client-credentials flow on a My Domain only (simple-salesforce refuses login and test).
    client = SalesforceClient(sandbox_config(salesforce_sandbox, DOMAIN="hub-sandbox.my",
                                             CONSUMER_KEY=salesforce_sandbox.consumer_key,
                                             CONSUMER_SECRET=salesforce_sandbox.consumer_secret))
    assert "Name" in client.describe_fields("Account")
    assert client.sf.auth_type == "client-credentials"


@pytest.mark.slow
def test_it_falls_back_to_the_soap_login_with_a_warning_naming_its_retirement(salesforce_sandbox, caplog):
    client = SalesforceClient(sandbox_config(salesforce_sandbox, USERNAME=salesforce_sandbox.username,
                                             PASSWORD=salesforce_sandbox.password,
                                             SECURITY_TOKEN=salesforce_sandbox.security_token))
    with caplog.at_level(logging.WARNING, logger="syncs.clients.salesforce"):
        assert "Name" in client.describe_fields("Account")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Summer '27" in warnings[0] and "65.0" in warnings[0] and "SALESFORCE_PRIVATE_KEY" in warnings[0]
    assert salesforce_sandbox.password not in warnings[0]
