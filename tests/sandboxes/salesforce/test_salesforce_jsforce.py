"""jsforce 3, the most used JavaScript Salesforce client, against the sandbox, unchanged.

A client nobody here wrote checks that the sandbox answers what the platform answers, not just what simple-salesforce
happens to read: jsforce's SOAP login reads userId and organizationId, its query follows nextRecordsUrl on its own,
its array writes go to sObject Collections, and its describe is the one the Salesforce CLI builds on.
jsforce_check.mjs makes the calls and prints what it saw; the assertions here also check the sandbox's side.
"""
import json
import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from sandboxes.salesforce.process import PROJECT_ROOT, run_salesforce_sandbox

pytestmark = pytest.mark.slow

# The newest jsforce 3 that runs on Node 20: from 3.10.19 on it needs Node 22 (its HTTP client moved to undici 8).
JSFORCE_VERSION = "3.10.16"
MIN_NODE_MAJOR = 18   # jsforce 3.10.16's engines field
# Kept across runs under var/ (ignored by git); one folder per version, so changing the pin installs afresh.
NODE_PREFIX = PROJECT_ROOT / "var" / "node" / f"jsforce-{JSFORCE_VERSION}"
SCRIPT = Path(__file__).with_name("jsforce_check.mjs")
ACCOUNTS = 2150   # more than one 2,000-row page, so a full read needs queryMore


def _unusable_node() -> str | None:
    """Why jsforce cannot run here, or None."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not on PATH"
    version = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    major = re.match(r"v(\d+)", version)
    if not major or int(major.group(1)) < MIN_NODE_MAJOR:
        return f"node {version or '(unknown version)'} is older than jsforce {JSFORCE_VERSION} needs"
    return None


@pytest.fixture(scope="module")
def jsforce_prefix():
    reason = _unusable_node()
    if reason:
        # CI must not lose this test quietly because its image changed: a node without npm there is a failure
        # (tests/admin does the same for Chromium).
        if os.environ.get("CI") and shutil.which("node"):
            pytest.fail(f"CI has node but cannot run jsforce: {reason}")
        pytest.skip(f"jsforce cannot run: {reason}")
    installed = NODE_PREFIX / "node_modules" / "jsforce" / "package.json"
    if not installed.exists() or json.loads(installed.read_text())["version"] != JSFORCE_VERSION:
        NODE_PREFIX.mkdir(parents=True, exist_ok=True)
        completed = subprocess.run(
            ["npm", "install", "--prefix", str(NODE_PREFIX), "--save-exact", "--no-audit", "--no-fund",
             f"jsforce@{JSFORCE_VERSION}"], capture_output=True, text=True, timeout=600, check=False)
        if completed.returncode != 0:
            pytest.fail(f"npm could not install jsforce@{JSFORCE_VERSION}:\n{completed.stderr[-3000:]}")
    return NODE_PREFIX


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    # Accounts only: the page count of one query is what matters, and seeding stays quick.
    seed_args = {"accounts": ACCOUNTS, "contacts_per_account": 0, "applications": 0, "random_seed": 11}
    with run_salesforce_sandbox(tmp_path_factory.mktemp("salesforce-jsforce"), seed_args=seed_args) as running:
        yield running


@pytest.fixture(scope="module")
def run_tag():
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="module")
def jsforce(jsforce_prefix, sandbox, run_tag):
    """What jsforce_check.mjs saw, one entry per step; the sandbox's stats before and after."""
    before = sandbox.stats()
    env = dict(os.environ, JSFORCE_PREFIX=str(jsforce_prefix), SF_LOGIN_URL=sandbox.url, SF_USERNAME=sandbox.username,
               SF_PASSWORD=sandbox.password + sandbox.security_token, SF_CLIENT_ID=sandbox.consumer_key,
               SF_CLIENT_SECRET=sandbox.consumer_secret, SF_RUN=run_tag,
               # Node's TLS trusts its built-in roots plus these: jsforce itself is not told about the sandbox.
               NODE_EXTRA_CA_CERTS=sandbox.ca_cert)
    completed = subprocess.run(["node", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=300,
                               check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    assert results["jsforceVersion"] == JSFORCE_VERSION
    return {"results": results, "before": before, "after": sandbox.stats()}


def step(jsforce, name) -> dict:
    result = jsforce["results"][name]
    assert not (isinstance(result, dict) and "error" in result), f"jsforce {name} failed: {result}"
    return result


def routes_used(jsforce, route) -> int:
    return jsforce["after"]["by_route"].get(route, 0) - jsforce["before"]["by_route"].get(route, 0)


def test_it_logs_jsforce_in_over_soap_and_points_it_at_the_sandbox(jsforce, sandbox):
    login = step(jsforce, "soapLogin")
    assert login["hasToken"] is True
    assert login["instanceUrl"] == sandbox.url
    assert login["userInfo"]["id"].startswith("005") and login["userInfo"]["organizationId"].startswith("00D")


def test_it_logs_jsforce_in_with_the_oauth_password_and_client_credentials_grants(jsforce, sandbox):
    for name in ("oauthPasswordLogin", "clientCredentialsLogin"):
        login = step(jsforce, name)
        assert login["instanceUrl"] == sandbox.url, name
        assert login["userInfo"]["organizationId"].startswith("00D"), name
        assert login["accountCount"] == ACCOUNTS, name
    # Three logins: SOAP, the password grant and the client-credentials grant.
    assert jsforce["after"]["counts"]["logins"] - jsforce["before"]["counts"].get("logins", 0) == 3


def test_it_lets_jsforce_auto_fetch_every_page_of_a_query_over_2000_rows(jsforce):
    query = step(jsforce, "autoFetchQuery")
    # The query ran before the collection writes, so the seeded accounts are all there is.
    assert query["totalSize"] == ACCOUNTS and query["done"] is True
    assert query["fetched"] == query["distinct"] == ACCOUNTS
    # Two pages of at most 2,000: the first query and one queryMore over nextRecordsUrl.
    assert query["fetches"] == 2


def test_it_lets_jsforce_create_and_update_through_sobject_collections(jsforce, sandbox, run_tag):
    created = step(jsforce, "collectionCreate")
    assert [saved["success"] for saved in created["saved"]] == [True] * 5
    ids = [saved["id"] for saved in created["saved"]]
    assert [(row["Id"], row["Name"]) for row in created["readBack"]] == list(zip(ids, created["names"]))
    updated = step(jsforce, "collectionUpdate")
    assert [saved["id"] for saved in updated["saved"]] == ids and all(s["success"] for s in updated["saved"])
    # One create and one update, each a single collection call rather than a request per record.
    assert routes_used(jsforce, "composite") == 2
    # What a second client reads back is what jsforce wrote.
    rows = sandbox.client().query_all(
        f"SELECT Name, Type FROM Account WHERE Name LIKE 'jsforce {run_tag} %' ORDER BY Phone")["records"]
    assert [(row["Name"], row["Type"]) for row in rows] == [(name, "Broker") for name in created["names"]]


def test_it_gives_jsforce_the_same_describe_as_the_rest_api(jsforce, sandbox):
    described = step(jsforce, "describe")
    assert (described["name"], described["label"], described["keyPrefix"]) == ("Account", "Account", "001")
    expected = sandbox.client().Account.describe()["fields"]
    assert described["fields"] == [{"name": field["name"], "type": field["type"]} for field in expected]
    assert {"Name", "Legacy_Id__c", "SystemModstamp"} <= {field["name"] for field in described["fields"]}
