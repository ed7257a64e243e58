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
"""
import base64
import json
import time
import urllib.parse

import pytest
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT

from sandboxes.netsuite.process import run_netsuite_sandbox

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
