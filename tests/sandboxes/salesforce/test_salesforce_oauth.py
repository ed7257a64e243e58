"""The OAuth 2.0 side of the sandbox over real HTTPS: the JWT bearer grant and its refusals in Salesforce's words, the
identity URL, userinfo and revocation."""
import subprocess
import sys
import time

import jwt
import pytest
import requests

from sandboxes.processes import free_port, process_stop
from sandboxes.salesforce import signing_keys
from sandboxes.salesforce.process import PROJECT_ROOT, run_salesforce_sandbox

pytestmark = pytest.mark.slow

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
API = "/services/data/v59.0"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with run_salesforce_sandbox(tmp_path_factory.mktemp("salesforce"), seed_args={"accounts": 5}) as running:
        yield running


@pytest.fixture(scope="module")
def private_key(sandbox):
    with open(sandbox.private_key_file) as key_file:
        return key_file.read()


def claims_for(sandbox, **changes) -> dict:
    claims = {"iss": sandbox.consumer_key, "sub": sandbox.username, "aud": "https://login.salesforce.com",
              "exp": int(time.time()) + 180}
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def post_assertion(sandbox, assertion: str) -> requests.Response:
    return sandbox.session().post(sandbox.url + "/services/oauth2/token",
                                  data={"grant_type": JWT_GRANT, "assertion": assertion}, timeout=10)


def jwt_login(sandbox, private_key, **changes) -> requests.Response:
    return post_assertion(sandbox, jwt.encode(claims_for(sandbox, **changes), private_key, algorithm="RS256"))


def test_it_grants_a_session_for_an_assertion_signed_with_the_connected_apps_key(sandbox, private_key):
    response = jwt_login(sandbox, private_key)
    assert response.status_code == 200
    body = response.json()
    # The documented answer: no refresh token however the app's scopes read, no issued_at or signature.
    assert set(body) == {"access_token", "scope", "instance_url", "id", "token_type"}
    assert body["instance_url"] == sandbox.url and body["token_type"] == "Bearer"
    assert body["id"].startswith(sandbox.url + "/id/00D")
    limits = sandbox.session().get(body["instance_url"] + API + "/limits",
                                   headers={"Authorization": "Bearer " + body["access_token"]})
    assert limits.status_code == 200 and "DailyApiRequests" in limits.json()


def test_it_logs_simple_salesforce_in_with_the_jwt_bearer_grant(sandbox):
    sf = sandbox.jwt_client()
    assert sf.sf_instance == sandbox.instance
    assert sf.query("SELECT Id FROM Account")["totalSize"] == 5


@pytest.mark.parametrize("audience", ["https://login.salesforce.com", "https://test.salesforce.com", "own"])
def test_it_accepts_the_login_urls_as_audience(sandbox, private_key, audience):
    response = jwt_login(sandbox, private_key, aud=sandbox.url if audience == "own" else audience)
    assert response.status_code == 200, response.text


def test_it_accepts_the_salesforce_clis_expiry_in_milliseconds(sandbox, private_key):
    # sfdx-core signs `exp: Date.now() + 300`, which orgs accept.
    response = jwt_login(sandbox, private_key, exp=int(time.time() * 1000) + 300)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("changes, error, description", [
    ({"exp": int(time.time()) - 60}, "invalid_grant", "expired authorization code"),
    ({"aud": "https://example.my.salesforce.com.evil"}, "invalid_grant", "audience is invalid"),
    ({"aud": None}, "invalid_grant", "audience is invalid"),
    ({"iss": "3MVG9-not-this-app"}, "invalid_client_id", "client identifier invalid"),
    ({"sub": "someone.else@hub.sandbox"}, "invalid_grant", "user hasn't approved this consumer"),
    ({"exp": None}, "invalid_grant", "invalid assertion"),
], ids=["expired", "wrong-aud", "no-aud", "unknown-iss", "unknown-sub", "no-exp"])
def test_it_refuses_a_bad_assertion_with_salesforces_error(sandbox, private_key, changes, error, description):
    response = jwt_login(sandbox, private_key, **changes)
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_it_refuses_an_assertion_signed_with_another_key(sandbox, tmp_path):
    other = signing_keys.ensure_key_pair(tmp_path / "other")
    response = jwt_login(sandbox, other["key"].read_text())
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_it_refuses_what_is_not_a_signed_jwt(sandbox, private_key):
    unsigned = jwt.encode(claims_for(sandbox), key=None, algorithm="none")
    for assertion in ("not-a-jwt", unsigned, ""):
        response = post_assertion(sandbox, assertion)
        assert response.status_code == 400
        assert response.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}


def test_it_holds_exp_to_three_minutes_when_asked(sandbox, private_key):
    sandbox.control(jwt_max_exp_seconds=180)
    try:
        too_far = jwt_login(sandbox, private_key, exp=int(time.time()) + 600)
        within = jwt_login(sandbox, private_key, exp=int(time.time()) + 170)
    finally:
        sandbox.control(jwt_max_exp_seconds=0)
    assert too_far.status_code == 400
    assert too_far.json() == {"error": "invalid_grant", "error_description": "expired authorization code"}
    assert within.status_code == 200


def test_it_refuses_the_jwt_grant_without_a_certificate(tmp_path):
    keys = signing_keys.ensure_key_pair(tmp_path / "keys")
    with run_salesforce_sandbox(tmp_path / "org", jwt_certificate=False) as sandbox:
        response = jwt_login(sandbox, keys["key"].read_text())
        password_grant = sandbox.session().post(sandbox.url + "/services/oauth2/token", data={
            "grant_type": "password", "client_id": sandbox.consumer_key, "client_secret": sandbox.consumer_secret,
            "username": sandbox.username, "password": sandbox.password + sandbox.security_token})
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_grant", "error_description": "invalid assertion"}
    assert password_grant.status_code == 200


def test_it_answers_the_identity_url_a_login_returns(sandbox, private_key):
    token = jwt_login(sandbox, private_key).json()
    session = sandbox.session()
    response = session.get(token["id"], headers={"Authorization": "Bearer " + token["access_token"]})
    assert response.status_code == 200
    identity = response.json()
    assert identity["id"] == token["id"]
    assert identity["username"] == sandbox.username and identity["asserted_user"] is True
    assert token["id"].endswith(f"/{identity['organization_id']}/{identity['user_id']}")
    assert identity["active"] is True and identity["user_type"] == "STANDARD"
    assert identity["urls"]["rest"] == sandbox.url + "/services/data/v{version}/"
    assert identity["urls"]["sobjects"] == sandbox.url + "/services/data/v{version}/sobjects/"
    versioned = session.get(token["id"], params={"version": "59.0"},
                            headers={"Authorization": "Bearer " + token["access_token"]}).json()
    assert versioned["urls"]["query"] == sandbox.url + "/services/data/v59.0/query/"

    missing = session.get(token["id"])
    assert (missing.status_code, missing.text) == (403, "Missing_OAuth_Token")
    bad = session.get(token["id"], headers={"Authorization": "Bearer 00D5g0000000001!nope"})
    assert (bad.status_code, bad.text) == (403, "Bad_OAuth_Token")


def test_it_names_the_identity_url_among_the_rest_resources(sandbox):
    # jsforce's identity() reads the URL from here when a connection was made from a bare access token.
    sf = sandbox.jwt_client()
    session = sandbox.session()
    headers = {"Authorization": "Bearer " + sf.session_id}
    resources = session.get(sandbox.url + API + "/", headers=headers).json()
    identity = session.get(resources["identity"], params={"format": "json"}, headers=headers)
    assert identity.status_code == 200 and identity.json()["username"] == sandbox.username


def test_it_answers_userinfo_in_the_openid_connect_shape(sandbox, private_key):
    token = jwt_login(sandbox, private_key).json()
    response = sandbox.session().get(sandbox.url + "/services/oauth2/userinfo",
                                     headers={"Authorization": "Bearer " + token["access_token"]})
    assert response.status_code == 200
    info = response.json()
    assert info["sub"] == token["id"] and info["preferred_username"] == sandbox.username
    assert {"user_id", "organization_id", "email", "name", "zoneinfo", "urls"} <= set(info)


def test_it_revokes_a_session_which_is_then_refused(sandbox, private_key):
    session = sandbox.session()
    token = jwt_login(sandbox, private_key).json()["access_token"]
    headers = {"Authorization": "Bearer " + token}
    assert session.get(sandbox.url + API + "/limits", headers=headers).status_code == 200

    revoked = session.post(sandbox.url + "/services/oauth2/revoke", data={"token": token})
    assert revoked.status_code == 200
    refused = session.get(sandbox.url + API + "/limits", headers=headers)
    assert refused.status_code == 401
    assert refused.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    again = session.post(sandbox.url + "/services/oauth2/revoke", data={"token": token})
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_token", "error_description": "Token was invalid"}


def test_it_revokes_with_a_get_and_the_token_as_a_parameter(sandbox):
    sf = sandbox.client()
    session = sandbox.session()
    assert session.get(sandbox.url + "/services/oauth2/revoke", params={"token": sf.session_id}).status_code == 200
    refused = session.get(sandbox.url + API + "/limits", headers={"Authorization": "Bearer " + sf.session_id})
    assert refused.status_code == 401


def test_it_answers_with_http_urls_when_served_without_tls(tmp_path):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "sandboxes.salesforce", "serve", "--no-tls", "--port", str(port),
                                "--data-dir", str(tmp_path)], cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/_sandbox/health", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        response = requests.post(url + "/services/oauth2/token", data={
            "grant_type": "password", "client_id": "hub-sandbox-consumer-key",
            "client_secret": "hub-sandbox-consumer-secret", "username": "integration@hub.sandbox",
            "password": "sandbox-passwordSANDBOXTOKEN"}, timeout=10)
    finally:
        process_stop(process)
    assert response.status_code == 200
    assert response.json()["instance_url"] == url
    assert response.json()["id"].startswith(url + "/id/")
