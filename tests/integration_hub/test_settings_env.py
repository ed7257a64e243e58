"""Settings are read in a fresh interpreter for each case: Django's settings are loaded once per process."""
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

PRODUCTION = {
    "SECRET_KEY": "x" * 30 + "production-secret-key-with-enough-entropy-0123456789",
    "ALLOWED_HOSTS": "hub.example.com",
    "SALESFORCE_USERNAME": "integration@example.com",
    "SALESFORCE_PASSWORD": "pw",
    "SALESFORCE_SECURITY_TOKEN": "tok",
    "NETSUITE_ACCOUNT": "1234567",
    # An install that has not moved to REST yet says so; the TBA secrets are then required.
    "NETSUITE_TRANSPORT": "soap",
    "NETSUITE_CONSUMER_KEY": "ck",
    "NETSUITE_CONSUMER_SECRET": "cs",
    "NETSUITE_TOKEN_ID": "ti",
    "NETSUITE_TOKEN_SECRET": "ts",
}
HUB_VARIABLES = ("SECRET_KEY", "DEBUG", "HUB_DEMO", "SALESFORCE_", "NETSUITE_", "ALLOWED_HOSTS", "DJANGO_SETTINGS_MODULE")


def _run(code: str, tmp_path, **variables) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(HUB_VARIABLES)}
    env.update(HUB_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="integration_hub.settings", **variables)
    return subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120)


LOAD = "import django; django.setup(); from django.conf import settings; print(settings.NETSUITE['TOKEN_SECRET'])"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "NETSUITE_TOKEN_SECRET", "NETSUITE_ACCOUNT"])
def test_it_names_a_missing_secret(tmp_path, missing):
    variables = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = _run(LOAD, tmp_path, **variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr


REST = {**{k: v for k, v in PRODUCTION.items() if not k.startswith("NETSUITE_")}, "NETSUITE_ACCOUNT": "1234567",
        "NETSUITE_CLIENT_ID": "client", "NETSUITE_CERTIFICATE_ID": "cert", "NETSUITE_PRIVATE_KEY": "pem"}
SHOW_TRANSPORT = ("import django; django.setup(); from django.conf import settings; "
                  "print(settings.NETSUITE['TRANSPORT'], settings.NETSUITE['CLIENT_ID'], repr(settings.NETSUITE['TOKEN_SECRET']))")


def test_it_runs_on_rest_by_default_without_the_soap_secrets(tmp_path):
    result = _run(SHOW_TRANSPORT, tmp_path, **REST)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["rest", "client", "''"]


@pytest.mark.parametrize("missing", ["NETSUITE_CLIENT_ID", "NETSUITE_CERTIFICATE_ID", "NETSUITE_PRIVATE_KEY"])
def test_it_names_a_missing_rest_secret(tmp_path, missing):
    result = _run(SHOW_TRANSPORT, tmp_path, **{k: v for k, v in REST.items() if k != missing})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr


def test_it_refuses_a_transport_it_does_not_know(tmp_path):
    result = _run(SHOW_TRANSPORT, tmp_path, NETSUITE_TRANSPORT="xml-rpc", **REST)
    assert result.returncode != 0 and "NETSUITE_TRANSPORT" in result.stderr and "xml-rpc" in result.stderr


def test_it_names_the_salesforce_credentials_when_none_are_set(tmp_path):
    variables = {k: v for k, v in PRODUCTION.items() if not k.startswith("SALESFORCE_")}
    result = _run(LOAD, tmp_path, **variables)
    assert result.returncode != 0
    assert "SALESFORCE_USERNAME" in result.stderr and "SALESFORCE_CONSUMER_KEY" in result.stderr
    assert "SALESFORCE_PRIVATE_KEY" in result.stderr


def test_it_accepts_oauth_client_credentials_instead_of_a_password(tmp_path):
    variables = {k: v for k, v in PRODUCTION.items() if not k.startswith("SALESFORCE_")}
    result = _run(LOAD, tmp_path, SALESFORCE_CONSUMER_KEY="key", SALESFORCE_CONSUMER_SECRET="secret",
                  SALESFORCE_DOMAIN="acme.my", **variables)
    assert result.returncode == 0, result.stderr


def test_it_asks_for_a_my_domain_for_client_credentials(tmp_path):
    variables = {k: v for k, v in PRODUCTION.items() if not k.startswith("SALESFORCE_")}
    result = _run(LOAD, tmp_path, SALESFORCE_CONSUMER_KEY="key", SALESFORCE_CONSUMER_SECRET="secret", **variables)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SALESFORCE_DOMAIN" in result.stderr


def test_it_accepts_the_jwt_bearer_settings_with_the_private_key_in_a_file(tmp_path):
    key_file = tmp_path / "server.key"
    key_file.write_text("-----BEGIN RSA PRIVATE KEY-----\nnot checked at start\n-----END RSA PRIVATE KEY-----\n")
    variables = {k: v for k, v in PRODUCTION.items() if not k.startswith("SALESFORCE_")}
    show = ("import django; django.setup(); from django.conf import settings; "
            "from syncs.clients.salesforce import login_flow; print(login_flow(settings.SALESFORCE))")
    result = _run(show, tmp_path, SALESFORCE_CONSUMER_KEY="3MVG9key", SALESFORCE_USERNAME="integration@example.com",
                  SALESFORCE_PRIVATE_KEY_FILE=str(key_file), **variables)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "jwt_bearer"


def test_it_reads_a_secret_from_a_file(tmp_path):
    secret_file = tmp_path / "token-secret"
    secret_file.write_text("from-a-file\n")
    variables = {k: v for k, v in PRODUCTION.items() if k != "NETSUITE_TOKEN_SECRET"}
    result = _run(LOAD, tmp_path, NETSUITE_TOKEN_SECRET_FILE=str(secret_file), **variables)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "from-a-file"


def test_it_runs_on_demo_secrets_in_demo_mode(tmp_path):
    result = _run(LOAD, tmp_path, HUB_DEMO="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "hub-sandbox-token-secret"


def test_it_passes_the_deploy_check_with_production_settings(tmp_path):
    code = "import sys; from django.core.management import execute_from_command_line; execute_from_command_line(['manage.py', 'check', '--deploy', '--fail-level', 'WARNING'])"
    result = _run(code, tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_points_commands_at_the_sandboxes_of_a_running_demo_and_only_in_demo_mode(tmp_path):
    (tmp_path / "demo-sandboxes.env").write_text("NETSUITE_ENDPOINT=http://127.0.0.1:8102/services/NetSuitePort_2023_2\n")
    show = "import django; django.setup(); from django.conf import settings; print(settings.NETSUITE['ENDPOINT'])"
    demo = _run(show, tmp_path, HUB_DEMO="1")
    assert demo.stdout.strip() == "http://127.0.0.1:8102/services/NetSuitePort_2023_2", demo.stderr
    chosen = _run(show, tmp_path, HUB_DEMO="1", NETSUITE_ENDPOINT="http://elsewhere/x")
    assert chosen.stdout.strip() == "http://elsewhere/x"
    production = _run(show, tmp_path, **PRODUCTION)
    assert production.returncode == 0 and production.stdout.strip() == "", production.stderr
