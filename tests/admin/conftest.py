"""Browser tests of the console: Debian's Chromium driven by Playwright against a live server, with both sandboxes
running as processes (the fixtures of tests/syncs/conftest.py) and the hub pointed at them."""
import os
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.syncs.conftest import hub_on_sandboxes, netsuite_sandbox, salesforce_sandbox, transport  # noqa: F401

CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = PROJECT_ROOT / "artifacts" / "admin"


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium for one test module. CI installs it, and there a missing browser fails the tests; on a
    machine without it they are skipped with the reason (HUB_CHROMIUM names another Chromium binary).

    Playwright's sync API keeps an event loop running in the test thread while it is started, and Django takes any
    ORM call under a running loop for async code, fixtures' flushes included; hence DJANGO_ALLOW_ASYNC_UNSAFE, for
    exactly that long (a subprocess started later must not inherit it: the deploy check refuses it)."""
    if not Path(CHROMIUM).exists():
        reason = f"Chromium is missing at {CHROMIUM} (Debian: apt-get install -y chromium; or set HUB_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
            yield browser
            browser.close()
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def staff_groups(db):
    """Transactional tests start from an emptied database: put back the two groups the migration creates."""
    from django.apps import apps

    from syncs.permissions import seed_groups

    seed_groups(apps)


@pytest.fixture
def console(live_server, chromium):
    """A fresh browser context (no cookies) with one page on the live hub."""
    context = chromium.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base = live_server.url
    yield page
    context.close()


@pytest.fixture
def enqueued_runs(monkeypatch):
    """Runs the console hands to the workers, recorded instead of sent to a broker; the test then runs them itself,
    as a worker would."""
    calls = []
    monkeypatch.setattr("syncs.tasks.run_sync_job.delay", lambda name, trigger="schedule": calls.append((name, trigger)))
    return calls


def log_in(page, username: str) -> None:
    page.goto(page.base + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-" + username)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


