"""Both sandboxes as real processes over real HTTP, and the hub pointed at them."""
from pathlib import Path

import pytest


from sandboxes.netsuite.process import BINDING, run_netsuite_sandbox
from sandboxes.salesforce.process import run_salesforce_sandbox
from tests.hub_workers import worker_environment


@pytest.fixture(scope="module")
def salesforce_sandbox(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("salesforce")
    seed = {"accounts": 40, "contacts_per_account": 2, "broker_share": 0.15, "remittances_per_funded": 0, "random_seed": 7}
    with run_salesforce_sandbox(data_dir, seed_args=seed) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def netsuite_sandbox(tmp_path_factory):
    with run_netsuite_sandbox(tmp_path_factory.mktemp("netsuite")) as sandbox:
        yield sandbox


@pytest.fixture
def hub_on_sandboxes(settings, seeded_hub, salesforce_sandbox, netsuite_sandbox, tmp_path):
    """The hub's settings pointed at the two sandboxes, as an operator would with environment variables."""
    settings.SALESFORCE = {
        **settings.SALESFORCE,
        "LOGIN_URL": salesforce_sandbox.url, "CA_BUNDLE": salesforce_sandbox.ca_cert, "DOMAIN": "login",
        # The production login: OAuth 2.0 JWT bearer with the key whose certificate the sandbox's app holds.
        "CONSUMER_KEY": salesforce_sandbox.consumer_key, "USERNAME": salesforce_sandbox.username,
        "PRIVATE_KEY": Path(salesforce_sandbox.private_key_file).read_text(), "TIMEOUT": 30,
    }
    settings.NETSUITE = {
        **settings.NETSUITE,
        "ENDPOINT": netsuite_sandbox.endpoint, "ACCOUNT": netsuite_sandbox.account,
        "CONSUMER_KEY": netsuite_sandbox.consumer_key, "CONSUMER_SECRET": netsuite_sandbox.consumer_secret,
        "TOKEN_ID": netsuite_sandbox.token_id, "TOKEN_SECRET": netsuite_sandbox.token_secret, "TIMEOUT": 10,
        "SEMAPHORE_URL": "", "CONCURRENCY_LIMIT": 5,
    }
    settings.VAR_DIR = tmp_path
    settings.HUB_RETRY_BASE_SECONDS = 0.2
    settings.HUB_RETRY_MAX_SECONDS = 1
    settings.HUB_PARENT_WAIT_SECONDS = 0.2
    from syncs import concurrency

    concurrency._budget = None
    yield salesforce_sandbox, netsuite_sandbox
    concurrency._budget = None


@pytest.fixture
def netsuite_service(netsuite_sandbox):
    """A zeep service on the sandbox for reading back what the hub wrote (as an accountant would look)."""
    from syncs.clients.netsuite.soap import zeep_client

    return zeep_client().create_service(BINDING, netsuite_sandbox.endpoint)


@pytest.fixture
def worker_env(hub_process_env, salesforce_sandbox, netsuite_sandbox):
    return worker_environment(hub_process_env, salesforce_sandbox, netsuite_sandbox)  # the dict hub_processes uses
