"""OAuth 2.0 client credentials (M2M) at the token endpoint, and bearer tokens on REST requests."""
import base64
import datetime as dt
import json
import time

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sandboxes.netsuite.process import run_netsuite_sandbox

pytestmark = pytest.mark.slow

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def ask_token(sandbox, assertion, **form):
    body = {"grant_type": "client_credentials", "client_assertion_type": JWT_BEARER, "client_assertion": assertion,
            **form}
    return requests.post(sandbox.token_url, data={k: v for k, v in body.items() if v is not None}, timeout=30)


@pytest.fixture(scope="module")
def rest_only(tmp_path_factory):
    with run_netsuite_sandbox(tmp_path_factory.mktemp("netsuite-rest"), wsdl=False) as running:
        yield running


def test_it_issues_a_60_minute_bearer_token_for_a_ps256_assertion(rest_only):
    response = ask_token(rest_only, rest_only.client_assertion())

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["token_type"] == "bearer" and int(answer["expires_in"]) == 3600
    assert "refresh_token" not in answer
    customers = requests.get(f"{rest_only.rest_url}/record/v1/customer", timeout=30,
                             headers={"Authorization": f"Bearer {answer['access_token']}"})
    assert customers.status_code == 200


@pytest.mark.parametrize("algorithm", ["PS384", "PS512"])
def test_it_accepts_the_other_rsa_pss_algorithms(rest_only, algorithm):
    assert ask_token(rest_only, rest_only.client_assertion(algorithm=algorithm)).status_code == 200


@pytest.mark.parametrize("claims, error", [
    ({"iss": "someone-else"}, "invalid_client"),
    ({"aud": "https://example.test/services/rest/auth/oauth2/v1/token"}, "invalid_grant"),
    ({"scope": ["suite_analytics", "no_such_scope"]}, "invalid_scope"),
    ({"scope": ["restlets"]}, "invalid_scope"),
    # Moments relative to when the test runs, not to when it was collected (a slow suite ran the 3700 s one
    # minutes later, inside NetSuite's 60 minutes).
    (lambda: {"exp": int(time.time()) - 10}, "invalid_grant"),
    (lambda: {"exp": int(time.time()) + 3700}, "invalid_grant"),
])
def test_it_refuses_assertions_netsuite_refuses(rest_only, claims, error):
    response = ask_token(rest_only, rest_only.client_assertion(**(claims() if callable(claims) else claims)))

    assert response.json() == {"error": error}
    assert response.status_code == (401 if error == "invalid_client" else 400)


def test_it_refuses_an_unknown_certificate_id_a_wrong_algorithm_and_a_forged_signature(rest_only, tmp_path):
    now = int(time.time())
    claims = {"iss": rest_only.client_id, "scope": "rest_webservices", "aud": rest_only.token_url, "iat": now,
              "exp": now + 300}
    key = rest_only.private_key_path.read_bytes()
    other_key = ec.generate_private_key(ec.SECP256R1())

    unknown_kid = jwt.encode(claims, key, algorithm="PS256", headers={"kid": "not-mapped"})
    rs256 = jwt.encode(claims, key, algorithm="RS256", headers={"kid": rest_only.certificate_id})
    forged = jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": rest_only.certificate_id})

    for assertion in (unknown_kid, rs256, forged):
        response = ask_token(rest_only, assertion)
        assert (response.status_code, response.json()) == (400, {"error": "invalid_grant"})


def test_it_refuses_a_malformed_token_request(rest_only):
    assert ask_token(rest_only, None).json() == {"error": "invalid_request"}
    assert ask_token(rest_only, "not-a-jwt").json() == {"error": "invalid_request"}
    assert ask_token(rest_only, rest_only.client_assertion(), grant_type="password").json() == {
        "error": "unsupported_grant_type"}
    assert ask_token(rest_only, rest_only.client_assertion(), client_assertion_type="basic").json() == {
        "error": "invalid_request"}


def test_it_refuses_rest_requests_without_a_valid_bearer_token(rest_only):
    for headers in ({}, {"Authorization": "Bearer made-up"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = requests.get(f"{rest_only.rest_url}/record/v1/customer/1", headers=headers, timeout=30)
        assert response.status_code == 401
        assert response.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="TSTDRV1234567"')


def test_it_verifies_es256_against_an_ec_certificate_it_was_given(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now - dt.timedelta(days=1))
                   .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    (tmp_path / "ec.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "ec.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))

    with run_netsuite_sandbox(tmp_path / "data", wsdl=False, certificate=tmp_path / "ec.pem",
                              client_id="ec-client", certificate_id="ec-cert") as sandbox:
        assertion = sandbox.client_assertion(key_path=tmp_path / "ec.key", algorithm="ES256")
        good = ask_token(sandbox, assertion)
        # ES384 names P-384, but the certificate's key is P-256: such an assertion cannot verify.
        header = base64.urlsafe_b64encode(json.dumps({"alg": "ES384", "kid": "ec-cert", "typ": "JWT"}).encode())
        mismatched = ask_token(sandbox, header.decode().rstrip("=") + assertion[assertion.index("."):])

    assert good.status_code == 200, good.text
    assert mismatched.json() == {"error": "invalid_grant"}


def test_it_takes_an_assertion_of_exactly_60_minutes_and_refuses_one_second_more(rest_only):
    # Oracle's sample assertion (section_162755359851) spans exactly 3600 s, and so does Authlib's by default; the
    # structure page (section_162790605110) allows no more than 60 minutes.
    now = int(time.time())

    exactly = ask_token(rest_only, rest_only.client_assertion(iat=now, exp=now + 3600))
    longer = ask_token(rest_only, rest_only.client_assertion(iat=now, exp=now + 3601))

    assert exactly.status_code == 200, exactly.text
    assert (longer.status_code, longer.json()) == (400, {"error": "invalid_grant"})
