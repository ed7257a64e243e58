import pytest

from sandboxes.salesforce.process import run_salesforce_sandbox

# Enough contacts (2 per account) that a full read needs more than one 2,000-row page.
SEED = {"accounts": 1250, "contacts_per_account": 2, "random_seed": 7}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """A seeded sandbox shared by one test module; tests that change settings restore them."""
    with run_salesforce_sandbox(tmp_path_factory.mktemp("salesforce"), seed_args=SEED) as running:
        yield running


@pytest.fixture(scope="module")
def sf(sandbox):
    return sandbox.client()


@pytest.fixture(scope="module")
def api(sandbox, sf):
    """A plain requests session on the REST base (`api.base`), for the wire shapes simple-salesforce hides."""
    session = sandbox.session()
    session.headers["Authorization"] = "Bearer " + sf.session_id
    session.base = sandbox.url + "/services/data/v59.0"
    return session
