"""Hub processes for end-to-end tests: Celery workers pointed at the two sandboxes, the manage command run as an
operator would, and waiting for records to reach NetSuite."""
import subprocess
import sys
import time

from tests.conftest import PROJECT_ROOT

PUSHES = ["push_accounts", "push_contacts", "push_sales_orders", "push_purchase_orders",
          "push_sales_order_lines", "push_purchase_order_lines"]


def worker_environment(env: dict, salesforce_sandbox, netsuite_sandbox) -> dict:
    """Point hub processes' environment (changed in place, and returned) at the two sandboxes, with retries, waits
    and leases short enough for a test to see them through."""
    env.update(
        SALESFORCE_LOGIN_URL=salesforce_sandbox.url, SALESFORCE_CA_BUNDLE=salesforce_sandbox.ca_cert,
        SALESFORCE_CONSUMER_KEY=salesforce_sandbox.consumer_key, SALESFORCE_USERNAME=salesforce_sandbox.username,
        SALESFORCE_PRIVATE_KEY_FILE=salesforce_sandbox.private_key_file,
        # The worker suites run on SOAP; the end-to-end modules cover both transports (tests/syncs).
        NETSUITE_TRANSPORT="soap", NETSUITE_ENDPOINT=netsuite_sandbox.endpoint, NETSUITE_WSDL=netsuite_sandbox.wsdl,
        NETSUITE_ACCOUNT=netsuite_sandbox.account, NETSUITE_CONSUMER_KEY=netsuite_sandbox.consumer_key,
        NETSUITE_CONSUMER_SECRET=netsuite_sandbox.consumer_secret, NETSUITE_TOKEN_ID=netsuite_sandbox.token_id,
        NETSUITE_TOKEN_SECRET=netsuite_sandbox.token_secret, NETSUITE_CONCURRENCY_LIMIT="5", NETSUITE_TIMEOUT="20",
        HUB_RETRY_BASE_SECONDS="0.5", HUB_RETRY_MAX_SECONDS="2", HUB_PARENT_WAIT_SECONDS="0.5",
        HUB_ATTEMPT_LEASE_SECONDS="4", HUB_RUN_LEASE_SECONDS="4",
    )
    return env


def manage(env, *args, timeout=60):
    """`python manage.py ARGS` as its own process, with the hub processes' environment."""
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env=env, check=True,
                          capture_output=True, timeout=timeout)


def start_worker(hub_processes, name, *, concurrency=1):
    return hub_processes.start(name, "-m", "celery", "-A", "integration_hub", "worker", "--loglevel", "INFO",
                               "--concurrency", str(concurrency), "--hostname", f"{name}@%h", "--without-heartbeat",
                               "--without-gossip", "--without-mingle")


def wait_until_synced(env, salesforce_ids: set, record_type: str, hub_processes, timeout=150):
    """Sweep (as beat would every minute) until every record is linked to NetSuite."""
    from syncs.models import RecordLink, SyncAttempt, SyncRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        linked = set(RecordLink.objects.filter(record_type=record_type, salesforce_id__in=salesforce_ids).values_list("salesforce_id", flat=True))
        if linked == salesforce_ids:
            return
        manage(env, "sync", "sweep")
        time.sleep(1)
    runs = "\n".join(f"{r.job.name} {r.trigger} {r.outcome}: {r.message}" for r in SyncRun.objects.select_related("job").order_by("id"))
    attempts = list(SyncAttempt.objects.values_list("status", "remote_code").distinct())
    logs = "\n".join(path.read_text(errors="replace")[-3000:] for path in sorted(hub_processes.log_dir.glob("worker*.log")))
    raise AssertionError(f"{len(salesforce_ids - linked)} {record_type} records not synced in {timeout}s\n{runs}\n{attempts}\n{logs}")
