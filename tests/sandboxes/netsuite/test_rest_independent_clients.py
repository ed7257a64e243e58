"""Independent, maintained clients against the sandbox's SuiteTalk REST side, unchanged.

The project's own REST tests use plain requests written here; these use libraries nobody here wrote, so the sandbox
answers what they expect from NetSuite and refuses what NetSuite refuses from them.

Authlib (requirements.txt) is the OAuth 2.0 client: the client credentials grant with private_key_jwt client
authentication (RFC 7523), then its session for records and SuiteQL. What it sends, compared with Oracle's pages
(docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/, "POST Request to the Token Endpoint and the Access Token
Response" section_162755359851.html and "The Request Token Structure" section_162790605110.html):
- the form: grant_type, client_assertion_type and client_assertion only, as Oracle's page lists them (no client_id;
  a `scope` form field only if the session is given one, and NetSuite reads the scope from the JWT, not the form);
- the header: typ JWT, alg as given (Authlib's default RS256 is not one NetSuite accepts), kid only if given;
- the claims: iss = client id, aud = the URL posted to, iat, exp = iat + 3600, and two NetSuite does not list,
  sub = client id and jti; scope only if given as an extra claim.

netsuite-async (PyPI, in a virtualenv of its own under var/: it needs Python 3.12 or newer) is the NetSuite REST
client: the record service's create, get (fields=, expandSubResources=), update (replace=), the collection's paging
through its links, with Authlib's httpx client as its AuthProvider. netsuite_async_check.py makes the calls and prints
what it saw. The other NetSuite REST clients on PyPI were read and left out: netsuite 0.12.0 (jacobsvante) speaks
OAuth 1.0 only (its Config takes TokenAuth or UsernamePasswordAuth, "TODO: Support OAuth2") and builds every URL on
https://<account>.suitetalk.api.netsuite.com with no way to point it elsewhere; netsuite-client 0.1.1 is OAuth 1.0
with the host fixed the same way; netsuite-connector 0.3.3 is an OAuth 1.0 session for RESTlet URLs.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT

from sandboxes.netsuite.process import PROJECT_ROOT, run_netsuite_sandbox

pytestmark = pytest.mark.slow

CUSTOMERS = 12   # more than two pages of 5, so paging has a middle page and a short last one


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    # Its own REST-only sandbox: the customer count that paging sees is this module's alone.
    with run_netsuite_sandbox(tmp_path_factory.mktemp("netsuite-clients"), wsdl=False) as running:
        yield running


def authlib_session(sandbox, *, alg="PS256", kid=True, scope_claim="rest_webservices", **session_options):
    """Authlib's documented private_key_jwt setup, with the header and claim NetSuite requires passed as options."""
    auth = PrivateKeyJWT(sandbox.token_url, alg=alg, headers={"kid": sandbox.certificate_id} if kid else None,
                         claims={"scope": scope_claim} if scope_claim else None)
    # grant_type in the session's metadata makes Authlib fetch a new token by itself when one expires (there is no
    # refresh token in this flow).
    session = OAuth2Session(sandbox.client_id, sandbox.private_key_path.read_text(), token_endpoint=sandbox.token_url,
                            token_endpoint_auth_method=auth, grant_type="client_credentials", **session_options)
    session.sent = []
    session.hooks["response"].append(lambda response, *args, **kwargs: session.sent.append(response.request))
    return session


def token_requests(session):
    return [request for request in session.sent if request.url.endswith("/auth/oauth2/v1/token")]


def jwt_part(token, index):
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture(scope="module")
def authlib_client(sandbox):
    session = authlib_session(sandbox)
    session.fetch_token()
    return session


def test_authlib_gets_a_token_with_private_key_jwt_as_netsuite_documents_it(sandbox, authlib_client):
    token = authlib_client.token
    assert token["token_type"] == "bearer" and token["expires_in"] == "3600"
    assert "refresh_token" not in token
    # expires_in is a string in NetSuite's answer; Authlib still works out when the token expires.
    assert abs(token["expires_at"] - (time.time() + 3600)) < 60

    (request,) = token_requests(authlib_client)
    form = urllib.parse.parse_qs(request.body)
    assert sorted(form) == ["client_assertion", "client_assertion_type", "grant_type"]
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]
    assertion = form["client_assertion"][0]
    assert jwt_part(assertion, 0) == {"typ": "JWT", "alg": "PS256", "kid": sandbox.certificate_id}
    claims = jwt_part(assertion, 1)
    assert claims["iss"] == claims["sub"] == sandbox.client_id
    assert claims["aud"] == sandbox.token_url and claims["scope"] == "rest_webservices"
    # Exactly 60 minutes: Oracle's own sample assertion (section_162755359851) has the same span, which the sandbox
    # accepts although the structure page says "less than 60 minutes" (see sandboxes/netsuite/rest/oauth.py).
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["jti"]


def test_authlib_session_creates_reads_and_upserts_records(sandbox, authlib_client):
    records = f"{sandbox.rest_url}/record/v1"
    created = authlib_client.post(f"{records}/customer", json={
        "externalId": "AUTHLIB-1", "companyName": "Authlib Funding", "isPerson": False, "subsidiary": {"id": "1"}})
    assert created.status_code == 204, created.text
    location = created.headers["Location"]

    customer = authlib_client.get(location)
    assert customer.status_code == 200
    assert customer.json()["companyName"] == "Authlib Funding" and customer.json()["externalId"] == "AUTHLIB-1"

    upserted = authlib_client.put(f"{records}/customer/eid:AUTHLIB-1", json={"companyName": "Authlib Lending"})
    assert upserted.status_code == 204 and upserted.headers["Location"] == location
    assert authlib_client.get(f"{records}/customer/eid:AUTHLIB-1").json()["companyName"] == "Authlib Lending"


def test_authlib_session_pages_through_suiteql(sandbox, authlib_client):
    records = f"{sandbox.rest_url}/record/v1"
    for number in range(CUSTOMERS):
        response = authlib_client.put(f"{records}/customer/eid:AUTHLIB-Q{number:02}",
                                      json={"companyName": f"Query {number:02}"})
        assert response.status_code == 204, response.text
    query = {"q": "SELECT externalid, companyname FROM customer WHERE externalid LIKE 'AUTHLIB-Q%' ORDER BY externalid"}

    pages = []
    url = f"{sandbox.rest_url}/query/v1/suiteql?limit=5&offset=0"
    while url:
        response = authlib_client.post(url, json=query, headers={"Prefer": "transient"})
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page)
        links = {link["rel"]: link["href"] for link in page["links"]}
        assert page["hasMore"] == ("next" in links)
        url = links.get("next")

    assert [(page["offset"], page["count"], page["hasMore"]) for page in pages] == [
        (0, 5, True), (5, 5, True), (10, 2, False)]
    assert {page["totalResults"] for page in pages} == {CUSTOMERS}
    rows = [row for page in pages for row in page["items"]]
    assert [row["externalid"] for row in rows] == [f"AUTHLIB-Q{number:02}" for number in range(CUSTOMERS)]


def test_authlib_fetches_a_new_token_by_itself_when_the_old_one_expires(sandbox):
    session = authlib_session(sandbox)
    first = session.fetch_token()["access_token"]
    session.token["expires_at"] = int(time.time()) - 1

    response = session.get(f"{sandbox.rest_url}/record/v1/customer")

    assert response.status_code == 200
    assert len(token_requests(session)) == 2 and session.token["access_token"] != first
    # Authlib keeps the jti it adds to the claims dict passed in, so both assertions carry the same one. NetSuite's
    # pages name no jti claim and no replay check on it, and the sandbox makes none (README, differences).


@pytest.mark.parametrize("options, error", [
    # Authlib's default algorithm, RS256 (RSA PKCS#1 v1.5): NetSuite takes PS256/384/512 and ES256/384/512 only.
    ({"alg": None}, "invalid_grant"),
    # No kid header: NetSuite finds the certificate by kid, the certificate id of the mapping.
    ({"kid": False}, "invalid_grant"),
    # The scope as Authlib sends it by default, a form field, and none in the JWT: NetSuite reads the JWT's.
    ({"scope_claim": None, "scope": "rest_webservices"}, "invalid_scope"),
])
def test_authlib_defaults_that_netsuite_refuses_are_refused(sandbox, options, error):
    session = authlib_session(sandbox, **options)

    with pytest.raises(OAuthError) as refused:
        session.fetch_token()

    assert refused.value.error == error
    assert session.token is None


# -- netsuite-async ------------------------------------------------------------------------------------------------
NETSUITE_ASYNC_VERSION = "0.2.4"
# What it runs on, pinned like the hub's own (Authlib as in requirements.txt; httpx is the newest netsuite-async allows).
NETSUITE_ASYNC_PACKAGES = [f"netsuite-async=={NETSUITE_ASYNC_VERSION}", "Authlib==1.9.6", "joserfc==1.8.0",
                           "httpx==0.28.1"]
MIN_PYTHON = (3, 12)   # netsuite-async's Requires-Python
SCRIPT = Path(__file__).with_name("netsuite_async_check.py")


def _python_version(python: str) -> tuple | None:
    try:
        completed = subprocess.run([python, "-c", "import sys; print(*sys.version_info[:2])"], capture_output=True,
                                   text=True, timeout=30)
    except OSError:
        return None
    return tuple(map(int, completed.stdout.split())) if completed.returncode == 0 else None


def _newer_python() -> str | None:
    """A Python that netsuite-async runs on: this one, one on PATH, or one that pyenv has."""
    if sys.version_info[:2] >= MIN_PYTHON:
        return sys.executable
    for name in ("python3.14", "python3.13", "python3.12"):
        found = shutil.which(name)
        if found and (_python_version(found) or (0,)) >= MIN_PYTHON:
            return found
    pyenv = shutil.which("pyenv")
    if pyenv:
        listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True, timeout=30).stdout
        versions = sorted((tuple(map(int, m.groups())), m.group(0)) for m in
                          (re.fullmatch(r"(\d+)\.(\d+)\.\d+", line.strip()) for line in listed.splitlines()) if m)
        for version, name in reversed(versions):
            if version >= MIN_PYTHON:
                prefix = subprocess.run([pyenv, "prefix", name], capture_output=True, text=True, timeout=30)
                python = Path(prefix.stdout.strip()) / "bin" / "python3"
                if prefix.returncode == 0 and python.exists():
                    return str(python)
    return None


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    completed = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('netsuite-async'))"],
                               capture_output=True, text=True, timeout=60)
    return completed.stdout.strip() if completed.returncode == 0 else None


@pytest.fixture(scope="module")
def netsuite_async_python():
    base = _newer_python()
    if base is None:
        pytest.skip(f"netsuite-async needs Python {'.'.join(map(str, MIN_PYTHON))} or newer, and none was found "
                    "(on PATH as python3.12 and up, or through pyenv)")
    major_minor = ".".join(map(str, _python_version(base)))
    # Kept across runs under var/ (ignored by git); one folder per version, so changing the pin installs afresh.
    venv = PROJECT_ROOT / "var" / "venvs" / f"netsuite-async-{NETSUITE_ASYNC_VERSION}-py{major_minor}"
    python = venv / "bin" / "python"
    if _installed_version(python) != NETSUITE_ASYNC_VERSION:
        steps = [[base, "-m", "venv", "--clear", str(venv)],
                 [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                  *NETSUITE_ASYNC_PACKAGES]]
        for step in steps:
            completed = subprocess.run(step, capture_output=True, text=True, timeout=600)
            if completed.returncode != 0:
                reason = f"{' '.join(step[:4])} failed: {completed.stderr[-2000:]}"
                # CI has the Python for it, so it must not lose this test quietly (as the jsforce test does).
                if os.environ.get("CI"):
                    pytest.fail(reason)
                pytest.skip(reason)
    return python


@pytest.fixture(scope="module")
def seen_by_netsuite_async(netsuite_async_python, tmp_path_factory):
    tag = f"NSA{uuid.uuid4().hex[:8].upper()}"
    with run_netsuite_sandbox(tmp_path_factory.mktemp("netsuite-async"), wsdl=False) as sandbox:
        config = {"rest_url": sandbox.rest_url, "token_url": sandbox.token_url, "client_id": sandbox.client_id,
                  "certificate_id": sandbox.certificate_id, "private_key_path": str(sandbox.private_key_path),
                  "tag": tag}
        completed = subprocess.run([str(netsuite_async_python), str(SCRIPT), json.dumps(config)],
                                   capture_output=True, text=True, timeout=120, cwd=tmp_path_factory.getbasetemp())
        assert completed.returncode == 0, completed.stderr[-4000:]
        seen = json.loads(completed.stdout.strip().splitlines()[-1])
        seen["tag"] = tag
        seen["stats"] = sandbox.stats()
        return seen


def test_netsuite_async_creates_gets_and_updates_records_over_a_m2m_token(seen_by_netsuite_async):
    seen, tag = seen_by_netsuite_async, seen_by_netsuite_async["tag"]
    assert seen["token_type"] == "bearer"
    assert len(set(seen["created"])) == CUSTOMERS and all(id_.isdigit() for id_ in seen["created"])
    first = seen["created"][0]
    assert seen["got"] == {"id": first, "externalId": f"{tag}-00", "companyName": f"Async {tag} 00",
                           "links": ["self"]}
    assert seen["got_fields"] == ["companyName", "id"]   # email is empty, so fields= leaves it out
    assert seen["updated"] == first and seen["email_after_update"] == f"ap@{tag.lower()}.test"
    assert seen["upsert"]["status"] == 204 and seen["upsert"]["location"].endswith(f"/customer/{first}")
    assert seen["name_after_upsert"] == f"Async {tag} 00 renamed"
    assert seen["get_many"] == {id_: True for id_ in seen["created"][:4]}
    assert seen["stats"]["records"]["customer"] == CUSTOMERS


def test_netsuite_async_pages_the_record_collection_by_its_links(seen_by_netsuite_async):
    seen = seen_by_netsuite_async
    assert [len(page) for page in seen["pages"]] == [5, 5, 2]
    assert [id_ for page in seen["pages"] for id_ in page] == seen["created"]
    assert seen["concurrent_ids"] == seen["created"]


def test_netsuite_async_writes_sublists_and_replaces_them(seen_by_netsuite_async):
    seen = seen_by_netsuite_async
    order = seen["order"]
    assert order["entity"] == seen["created"][1]
    assert order["lines"] == [["101", 1500.0], ["103", 50.0]]
    assert seen["order_after_replace"] == [["102", 900.0]]


def test_netsuite_async_reads_a_missing_record_as_its_validation_error(seen_by_netsuite_async):
    missing = seen_by_netsuite_async["missing"]
    assert (missing["class"], missing["status"], missing["code"]) == ("NetsuiteValidationError", 404, "NONEXISTENT_ID")
    assert missing["message"].startswith("Get for customers failed (404)")
