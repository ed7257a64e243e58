"""Settings for the test suite: the embedded defaults plus demo secrets, unless the environment says otherwise.

CI sets DATABASE_URL and CELERY_BROKER_URL to PostgreSQL and Redis; without them the suite runs on SQLite.
"""
import os
from pathlib import Path

os.environ.setdefault("HUB_DEMO", "1")
# Tests and CI read Oracle's WSDL from the shared offline copy beside the project, never from the network.
_shared_wsdl = Path(__file__).resolve().parent.parent.parent / "shared" / "netsuite-wsdl" / "2023_2" / "netsuite.wsdl"
os.environ.setdefault("NETSUITE_WSDL", str(_shared_wsdl))
# Tests that reach no NetSuite check mappings against the offline WSDL's schema, which needs the SOAP transport; the
# sandbox fixtures (tests/syncs/conftest.py) choose the transport each test runs on.
os.environ.setdefault("NETSUITE_TRANSPORT", "soap")
# Never the sandboxes of a demo that may be running in this checkout.
os.environ.setdefault("HUB_DEMO_ENV_FILE", "")
# Under pytest-xdist (make test runs two test processes) each process gets a Redis database of its own, so one
# process's workers never take the other's tasks or its share of the NetSuite budget.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_broker = os.environ.get("CELERY_BROKER_URL", "")
if _xdist_worker.startswith("gw") and _broker.startswith("redis://"):
    _base, _, _db = _broker.rpartition("/")
    os.environ["CELERY_BROKER_URL"] = f"{_base}/{int(_db or 0) + 1 + int(_xdist_worker[2:])}"

from .settings import *  # noqa: E402,F401,F403

# The hub logs in to Salesforce with the OAuth 2.0 JWT bearer flow, as in production: the fixtures that point it at
# the sandbox give it a key. Without the demo password and secret no test can fall back to another login unseen.
SALESFORCE = {**SALESFORCE, "PASSWORD": "", "SECURITY_TOKEN": "", "CONSUMER_SECRET": ""}  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed: hashing is not under test here

# Worker and beat processes started by the tests must see the test database, so on SQLite it is a file, not memory.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # One file per test process, so two test runs in one checkout never share (and break) a database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-hub-{os.getpid()}.sqlite3")}  # noqa: F405
