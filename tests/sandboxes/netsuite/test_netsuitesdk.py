"""netsuitesdk (PyPI, on zeep), a NetSuite client nobody here wrote, against the sandbox, unchanged.

It checks that the sandbox answers what SuiteTalk answers, not just what the hub's own client reads: netsuitesdk
signs its own tokenPassport, asks for the WSDL at /wsdl/v2023_2_0/ and posts to /services/NetSuitePort_2023_2 when
given wsdl_version="2023_2", pages a search with searchMoreWithId without sending searchPreferences again, and its
get_all() is an advanced CustomerSearch with no criteria. netsuitesdk_check.py makes the calls in a virtualenv of
its own and prints what it saw; the assertions here also check the sandbox's side.
"""
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sandboxes.netsuite.process import PROJECT_ROOT, run_netsuite_sandbox

pytestmark = pytest.mark.slow

NETSUITESDK_VERSION = "3.3.0"
# Kept across runs under var/ (ignored by git); one folder per version, so changing the pin installs afresh.
VENV = PROJECT_ROOT / "var" / "venvs" / f"netsuitesdk-{NETSUITESDK_VERSION}"
SCRIPT = Path(__file__).with_name("netsuitesdk_check.py")


def _installed_version(python: Path) -> str | None:
    if not python.exists():
        return None
    completed = subprocess.run([str(python), "-c", "import importlib.metadata as m; print(m.version('netsuitesdk'))"],
                               capture_output=True, text=True, timeout=60)
    return completed.stdout.strip() if completed.returncode == 0 else None


@pytest.fixture(scope="module")
def netsuitesdk_python():
    python = VENV / "bin" / "python"
    if _installed_version(python) != NETSUITESDK_VERSION:
        created = subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)],
                                 capture_output=True, text=True, timeout=120)
        if created.returncode != 0:
            pytest.skip(f"cannot create a virtualenv for netsuitesdk: {created.stderr[-2000:]}")
        installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                    f"netsuitesdk=={NETSUITESDK_VERSION}"], capture_output=True, text=True, timeout=600)
        if installed.returncode != 0:
            pytest.skip(f"pip could not install netsuitesdk=={NETSUITESDK_VERSION}: {installed.stderr[-2000:]}")
    return python


@pytest.fixture(scope="module")
def seen(netsuitesdk_python, tmp_path_factory):
    tag = f"SDK{uuid.uuid4().hex[:8]}"
    with run_netsuite_sandbox(tmp_path_factory.mktemp("netsuite-sdk"), check_responses=True) as sandbox:
        config = {"url": sandbox.url, "account": sandbox.account, "consumer_key": sandbox.consumer_key,
                  "consumer_secret": sandbox.consumer_secret, "token_id": sandbox.token_id,
                  "token_secret": sandbox.token_secret, "tag": tag}
        completed = subprocess.run([str(netsuitesdk_python), str(SCRIPT), json.dumps(config)],
                                   capture_output=True, text=True, timeout=120, cwd=tmp_path_factory.getbasetemp())
        assert completed.returncode == 0, completed.stderr[-4000:]
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        result["tag"] = tag
        result["stats"] = sandbox.stats()
        return result


def test_it_connects_with_token_based_authentication_and_upserts_customers(seen):
    tag = seen["tag"]
    assert [ref["externalId"] for ref in seen["upserted"]] == [f"{tag}-{n:02d}" for n in range(12)]
    assert len({ref["internalId"] for ref in seen["upserted"]}) == 12
    # A second upsert by the same external id updates the record, it does not add one.
    assert seen["upserted_again"] == seen["upserted"][0]["internalId"]
    assert seen["stats"]["records"]["customer"] == 12


def test_it_gets_a_customer_back_by_external_id_with_the_update_applied(seen):
    got = seen["got"]
    assert got["internalId"] == seen["upserted"][0]["internalId"]
    assert (got["externalId"], got["companyName"], got["email"], got["subsidiary"]) == (
        f"{seen['tag']}-00", f"SDK {seen['tag']} 00 renamed", "ap0@example.com", "1")
    assert got["lastModifiedDate"][-6:] in ("-08:00", "-07:00")   # the account's zone, America/Los_Angeles


def test_it_pages_a_customer_search_through_search_more_with_id(seen):
    tag = seen["tag"]
    assert seen["search"] == {"totalRecords": 12, "totalPages": 3, "pageSize": 5,
                              "first_page": [f"{tag}-{n:02d}" for n in range(5)]}
    # get_all() re-reads every page with searchMoreWithId, which carries no searchPreferences: the page size
    # stays the one the search was run with.
    assert seen["get_all"] == [f"{tag}-{n:02d}" for n in range(12)]
    assert seen["by_name"] == [f"{tag}-{n:02d}" for n in range(5)]
    requests = seen["stats"]["requests"]
    assert requests["search"] >= 3 and requests["searchMoreWithId"] >= 3


def test_it_answers_get_list_record_by_record(seen):
    tag = seen["tag"]
    assert seen["get_list_status"] is True
    assert seen["get_list"] == [
        {"isSuccess": True, "code": None, "externalId": f"{tag}-01"},
        {"isSuccess": True, "code": None, "externalId": f"{tag}-02"},
        {"isSuccess": False, "code": "RCRD_DSNT_EXIST", "externalId": None},
    ]


def test_it_refuses_a_wrong_secret_as_netsuite_does(seen):
    assert seen["wrong_secret"].startswith("code: soapenv:Server.userException, message: Invalid login attempt.")


def test_it_serves_no_wsdl_version_it_has_no_oracle_files_for(seen):
    # netsuitesdk's NetSuiteConnection defaults to 2024_1; the sandbox has only Oracle's 2023_2 files.
    assert seen["wsdl_2024_1"].startswith("HTTPError: 404")
