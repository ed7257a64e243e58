"""Run the whole hub on this machine: migrate, make sure there are logins, apply the schedules, then start the admin
web server, Celery worker(s) and the single beat, and stop them all on Ctrl-C.

In demo mode (HUB_DEMO=1 and no real org configured) it also starts both sandboxes, seeded on first start, points
the hub at them, and tells them a business story, so every job has something to move within minutes.

    python manage.py runhub [--port 8000] [--workers 1] [--every-minutes 1] [--no-sandboxes]
"""
import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from syncs.schedules import schedules_apply


class Command(BaseCommand):
    help = "Start the admin, Celery worker(s) and beat together; Ctrl-C stops them all."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HUB_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("HUB_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=int(os.environ.get("WORKERS", "1")), help="Celery worker processes")
        parser.add_argument("--every-minutes", type=int, default=int(os.environ.get("HUB_EVERY_MINUTES", "0")) or None,
                            help="Run every job at this interval (demo default 1); production cadence otherwise")
        demo = settings.DEMO_MODE and not (os.environ.get("SALESFORCE_LOGIN_URL") or os.environ.get("SALESFORCE_INSTANCE_URL")
                                           or os.environ.get("NETSUITE_ENDPOINT") or os.environ.get("NETSUITE_REST_URL"))
        parser.add_argument("--sandboxes", action=argparse.BooleanOptionalAction, default=demo,
                            help="Start both sandboxes and the demo story (default in demo mode)")
        parser.add_argument("--story-every", type=float, default=float(os.environ.get("HUB_STORY_EVERY", "15")),
                            help="Seconds between steps of the demo story")

    def handle(self, *args, host, port, workers, every_minutes, sandboxes, story_every, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if sandboxes and every_minutes is None:
            every_minutes = 1
        schedules_apply(every_minutes_override=every_minutes)
        logins = self._logins()

        log_dir = settings.VAR_DIR / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        python = sys.executable
        env = dict(os.environ)
        remote = []
        if sandboxes:
            remote = self._start_sandboxes(env)
            # Salesforce tells the hub of each change within seconds (outbound messages); the beat stays the safety net.
            env["HUB_OUTBOUND_TOKEN"] = self._outbound_token()
        commands = {
            "web": [python, "-m", "gunicorn", "integration_hub.wsgi", "--bind", f"{host}:{port}", "--workers", "2",
                    "--access-logfile", "-"],
            "beat": [python, "-m", "celery", "-A", "integration_hub", "beat", "--loglevel", "INFO",
                     "--pidfile", str(settings.VAR_DIR / "celerybeat.pid")],
        }
        for number in range(1, workers + 1):
            commands[f"worker{number}"] = [python, "-m", "celery", "-A", "integration_hub", "worker", "--loglevel", "INFO",
                                           "--concurrency", "1", "--hostname", f"worker{number}@%h"]
        if sandboxes:
            commands["story"] = [python, "-m", "demo.story", "--salesforce", remote[0].url, "--ca-cert", remote[0].ca_cert,
                                 "--netsuite", remote[1].url, "--every", str(story_every)]
        processes = {}
        try:
            processes = self._start(commands, log_dir, env)
            self._wait_for_port(host, port, processes["web"])
            if sandboxes:
                self._outbound_messages_point(remote[0], f"http://{host}:{port}", env["HUB_OUTBOUND_TOKEN"])
            self.stdout.write(self.style.SUCCESS(f"\nThe hub is running: http://{host}:{port}/admin/"))
            for role, (username, password) in logins.items():
                self.stdout.write(f"  {role} login: {username} / {password}")
            if sandboxes:
                self.stdout.write(f"  Salesforce sandbox: {remote[0].url}   NetSuite sandbox: {remote[1].url} "
                                  f"(the hub on {env['NETSUITE_TRANSPORT'].upper()})")
                self.stdout.write(f"  demo: every job runs every {every_minutes} min; the story acts every {story_every:.0f} s")
            self.stdout.write(f"  health: http://{host}:{port}/healthz")
            self.stdout.write(f"  processes: {', '.join(processes)}; logs in {log_dir}")
            self.stdout.write("  Press Ctrl-C to stop everything.\n")
            self._supervise(processes)
        except KeyboardInterrupt:
            pass
        finally:
            self._stop(processes)
            for sandbox in reversed(remote):
                sandbox.stop()
            if sandboxes and settings.DEMO_ENV_FILE:
                Path(settings.DEMO_ENV_FILE).unlink(missing_ok=True)
            self.stdout.write("Stopped.")

    def _logins(self) -> dict[str, tuple[str, str]]:
        """An admin, an ops and a finance login for this installation. Passwords come from HUB_<ROLE>_PASSWORD, or
        are made once and kept in var/ so that they stay the same across restarts."""
        from django.contrib.auth.models import Group

        logins = {}
        for role, group in (("admin", None), ("ops", "ops"), ("finance", "finance")):
            username = os.environ.get(f"HUB_{role.upper()}_USERNAME", role)
            password = os.environ.get(f"HUB_{role.upper()}_PASSWORD")
            password_file = Path(settings.VAR_DIR) / f"{role}-password.txt"
            if not password:
                if not password_file.exists():
                    password_file.write_text(secrets.token_urlsafe(12))
                    password_file.chmod(0o600)
                password = password_file.read_text().strip()
            user, _ = get_user_model().objects.get_or_create(username=username)
            user.is_staff = True
            user.is_superuser = group is None
            user.set_password(password)
            user.save()
            if group:
                user.groups.add(Group.objects.get(name=group))
            logins[role] = (username, password)
        return logins

    def _start_sandboxes(self, env: dict) -> list:
        """Both sandboxes on their usual ports, seeded on first start; the hub's processes are pointed at them
        through the same environment variables an operator would set for a real org."""
        from sandboxes.netsuite.process import RunningSandbox
        from sandboxes.salesforce import signing_keys
        from sandboxes.salesforce.process import RunningSalesforceSandbox, seed

        base = Path(settings.VAR_DIR) / "sandboxes"
        salesforce_dir, netsuite_dir = base / "salesforce", base / "netsuite"
        if not (salesforce_dir / "org.sqlite3").exists():
            self.stdout.write("Seeding the Salesforce sandbox…")
            seed(salesforce_dir, {"accounts": 60, "contacts_per_account": 2, "remittances_per_funded": 0, "random_seed": 7})
        # The hub logs in with the OAuth 2.0 JWT bearer flow, as in production: its key pair is made on first start
        # and the sandbox's connected app gets the certificate, as an operator uploads it to a real org's app.
        jwt_keys = signing_keys.ensure_key_pair(Path(settings.VAR_DIR) / "salesforce-jwt")
        salesforce = RunningSalesforceSandbox(salesforce_dir, int(os.environ.get("HUB_SALESFORCE_SANDBOX_PORT", "8101")),
                                              {"jwt_certificate": str(jwt_keys["certificate"])})
        # The hub reaches NetSuite over REST with OAuth 2.0 client credentials, as in production: the sandbox makes its
        # M2M key pair in its data dir on first start and maps the certificate, as an operator maps one to a real
        # integration. Its WSDL serves SOAP only (a hub set to NETSUITE_TRANSPORT=soap); without one it runs REST alone.
        netsuite = RunningSandbox(netsuite_dir, int(os.environ.get("HUB_NETSUITE_SANDBOX_PORT", "8102")),
                                  {"wsdl": self._netsuite_wsdl_source()})
        started = []
        try:
            for sandbox in (salesforce, netsuite):
                sandbox.start()
                started.append(sandbox)
        except Exception:
            for sandbox in started:
                sandbox.stop()
            raise
        pointers = {"SALESFORCE_LOGIN_URL": salesforce.url, "SALESFORCE_CA_BUNDLE": salesforce.ca_cert,
                    "SALESFORCE_CONSUMER_KEY": salesforce.consumer_key, "SALESFORCE_USERNAME": salesforce.username,
                    "SALESFORCE_PRIVATE_KEY_FILE": str(jwt_keys["key"]),
                    "NETSUITE_TRANSPORT": os.environ.get("NETSUITE_TRANSPORT", "rest"),
                    "NETSUITE_REST_URL": netsuite.url, "NETSUITE_ACCOUNT": netsuite.account,
                    "NETSUITE_CLIENT_ID": netsuite.client_id, "NETSUITE_CERTIFICATE_ID": netsuite.certificate_id,
                    "NETSUITE_PRIVATE_KEY_FILE": str(netsuite.private_key_path),
                    "NETSUITE_ENDPOINT": netsuite.endpoint, "NETSUITE_WSDL": netsuite.wsdl_url}
        env.update(pointers)
        if settings.DEMO_ENV_FILE:
            # So that `manage.py sync run …` in another terminal reaches these sandboxes too (read in demo mode only).
            Path(settings.DEMO_ENV_FILE).write_text("".join(f"{name}={value}\n" for name, value in pointers.items()))
        return started

    def _outbound_token(self) -> str:
        """The secret in the hook's URL: HUB_OUTBOUND_TOKEN, or made once and kept in var/ like the logins."""
        token = os.environ.get("HUB_OUTBOUND_TOKEN")
        if token:
            return token
        token_file = Path(settings.VAR_DIR) / "outbound-token.txt"
        if not token_file.exists():
            token_file.write_text(secrets.token_urlsafe(24))
            token_file.chmod(0o600)
        return token_file.read_text().strip()

    def _outbound_messages_point(self, salesforce, base_url: str, token: str) -> None:
        """Set up the sandbox org's outbound messages to the hub's hook, as an admin does in a real org's Setup."""
        from demo.outbound import hook_url, outbound_messages

        salesforce.control(outbound_messages=outbound_messages(hook_url(base_url, token)))
        self.stdout.write("  outbound messages: the Salesforce sandbox tells the hub of each change within seconds")

    def _netsuite_wsdl_source(self) -> str:
        """Where the NetSuite sandbox reads Oracle's WSDL: NETSUITE_WSDL, else an offline copy beside the project
        (as development machines have), else Oracle's published URL."""
        configured = os.environ.get("NETSUITE_WSDL")
        if configured:
            return configured
        offline = Path(settings.BASE_DIR).parent / "shared" / "netsuite-wsdl" / "2023_2" / "netsuite.wsdl"
        return str(offline) if offline.exists() else settings.NETSUITE["WSDL"]

    def _start(self, commands: dict, log_dir: Path, env: dict) -> dict:
        processes = {}
        for name, command in commands.items():
            log = open(log_dir / f"{name}.log", "ab")
            # A session of its own: Ctrl-C reaches only this supervisor, which then stops the children in order.
            processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR,
                                               env=env, start_new_session=True)
        return processes

    def _wait_for_port(self, host: str, port: int, process: subprocess.Popen, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit("The web server stopped at start-up; see var/log/web.log.")
            try:
                with socket.create_connection((host, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"The web server did not answer on {host}:{port} within {timeout:.0f} s.")

    def _supervise(self, processes: dict) -> None:
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        # Started in the background of a script, a process may inherit an ignored SIGINT; Ctrl-C must always stop it.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        reported = set()
        while True:
            for name, process in processes.items():
                if process.poll() is None or name in reported:
                    continue
                if name == "story":  # the demo's story is not the hub: the hub goes on without it
                    self.stderr.write(f"The demo story stopped (code {process.returncode}); the hub keeps running.")
                    reported.add(name)
                    continue
                self.stderr.write(f"{name} exited with code {process.returncode}; stopping the hub (see its log).")
                return
            time.sleep(1)

    def _stop(self, processes: dict) -> None:
        self.stdout.write("Stopping…")
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in processes.values():
            remaining = max(0.1, deadline - time.monotonic())
            try:
                process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
