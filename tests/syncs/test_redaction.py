"""No secret reaches a stored payload: every secret-looking key is replaced, however deep."""
from syncs.redaction import REDACTED, redact


def test_it_redacts_secret_keys_at_every_depth():
    payload = {"record": {"companyName": "Acme", "password": "hunter2"},
               "headers": [{"Authorization": "Bearer 00D!abc"}, {"tokenPassport": {"nonce": "n", "signature": "s"}}],
               "sessionId": "x", "access_token": "y", "client_secret": "z", "SECURITY_TOKEN": "t"}
    clean = redact(payload)
    assert clean["record"] == {"companyName": "Acme", "password": REDACTED}
    assert clean["headers"] == [{"Authorization": REDACTED}, {"tokenPassport": REDACTED}]
    assert all(clean[key] == REDACTED for key in ("sessionId", "access_token", "client_secret", "SECURITY_TOKEN"))


def test_it_leaves_the_original_and_plain_values_alone():
    payload = {"record": {"memo": "password reset fee", "amount": 10.5}, "ids": (1, 2)}
    clean = redact(payload)
    assert clean == {"record": {"memo": "password reset fee", "amount": 10.5}, "ids": [1, 2]}
    assert payload["ids"] == (1, 2)
