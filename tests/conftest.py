import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _make_staff(username: str, group_name: str) -> User:
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def staff_groups(db):
    """The ops and finance groups, which the migration creates (modules of transactional tests override this to put
    them back in their emptied database)."""


@pytest.fixture
def ops_user(staff_groups):
    return _make_staff("olivia-ops", "ops")


@pytest.fixture
def finance_user(staff_groups):
    return _make_staff("frank-finance", "finance")


def database_url_of_test_database() -> str:
    """The URL of the database the tests run on, for worker and beat processes the tests start."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def seeded_hub(transactional_db):
    """Transactional tests start from an emptied database: put back what every deploy applies."""
    from syncs.jobs.apply import jobs_apply

    jobs_apply()


@pytest.fixture
def hub_process_env(seeded_hub, tmp_path):
    """Environment for hub processes (celery worker, beat) that share this test's database and a private queue."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(
        DJANGO_SETTINGS_MODULE="integration_hub.settings",
        HUB_DEMO="1",
        DATABASE_URL=database_url_of_test_database(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_QUEUE=f"test-{os.getpid()}-{time.monotonic_ns()}",
        HUB_VAR_DIR=str(tmp_path / "var"),
        PYTHONUNBUFFERED="1",
    )
    return env


class HubProcesses:
    """Start hub processes for a test and make sure none outlives it."""

    def __init__(self, env: dict, log_dir: Path):
        self.env, self.log_dir, self.processes = env, log_dir, []

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")
        process = subprocess.Popen([sys.executable, *args], cwd=PROJECT_ROOT, env=self.env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait()


@pytest.fixture
def hub_processes(hub_process_env, tmp_path):
    processes = HubProcesses(hub_process_env, tmp_path)
    yield processes
    processes.stop_all()
