from io import StringIO

import pytest
from django.core.management import call_command

from syncs.models import SyncJob, SyncRun

pytestmark = pytest.mark.django_db


def test_it_lists_nine_jobs_with_their_schedules():
    call_command("sync", "schedule")
    out = StringIO()
    call_command("sync", "status", stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert lines[0].split()[:3] == ["job", "enabled", "schedule"]
    assert len(lines) == 10
    assert any(line.startswith("pull_remittances") and "every 1440 minutes" in line for line in lines)


def test_it_has_a_spec_for_each_of_the_nine_jobs():
    from syncs.jobs.registry import job_specs

    assert {spec.name for spec in job_specs()} == set(SyncJob.objects.values_list("name", flat=True))
    assert len(job_specs()) == 9


def test_it_records_a_job_without_a_spec_as_not_implemented_never_as_success(monkeypatch):
    from syncs.jobs import registry

    monkeypatch.delitem(registry._SPECS, "pull_remittances")
    out = StringIO()
    call_command("sync", "run", "pull_remittances", stdout=out)
    run = SyncRun.objects.get(job__name="pull_remittances")
    assert run.outcome == "not_implemented" and run.finished_at is not None
    assert "not implemented" in out.getvalue().lower()
    assert SyncJob.objects.get(name="pull_remittances").last_outcome == "not_implemented"


def test_it_refuses_an_unknown_job():
    with pytest.raises(Exception):
        call_command("sync", "run", "push_everything")


def test_it_fails_outside_demo_mode_with_one_line_naming_the_missing_setting(tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    env = {k: v for k, v in os.environ.items() if k not in ("HUB_DEMO", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    env["HUB_VAR_DIR"] = str(tmp_path)
    result = subprocess.run([sys.executable, "manage.py", "sync", "status"], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Set the SECRET_KEY environment variable (or SECRET_KEY_FILE); it has no default. "
        "(Or set HUB_DEMO=1 to run against the demo sandboxes.)"]
