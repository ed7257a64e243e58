"""Run the whole hub on this machine: migrate, make sure there is an admin login, apply the schedules, then start
the admin web server, Celery worker(s) and the single beat, and stop them all on Ctrl-C.

    python manage.py runhub [--port 8000] [--workers 1]
"""
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
                            help="Run every job at this interval (demo); production cadence otherwise")

    def handle(self, *args, host, port, workers, every_minutes, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        schedules_apply(every_minutes_override=every_minutes)
        username, password = self._admin_login()

        log_dir = settings.VAR_DIR / "log"
        log_dir.mkdir(parents=True, exist_ok=True)
        python = sys.executable
        commands = {
            "web": [python, "-m", "gunicorn", "integration_hub.wsgi", "--bind", f"{host}:{port}", "--workers", "2",
                    "--access-logfile", "-"],
            "beat": [python, "-m", "celery", "-A", "integration_hub", "beat", "--loglevel", "INFO",
                     "--pidfile", str(settings.VAR_DIR / "celerybeat.pid")],
        }
        for number in range(1, workers + 1):
            commands[f"worker{number}"] = [python, "-m", "celery", "-A", "integration_hub", "worker", "--loglevel", "INFO",
                                           "--concurrency", "1", "--hostname", f"worker{number}@%h"]
        processes = self._start(commands, log_dir)
        try:
            self._wait_for_port(host, port, processes["web"])
            self.stdout.write(self.style.SUCCESS(f"\nThe hub is running: http://{host}:{port}/admin/"))
            self.stdout.write(f"  login: {username} / {password}")
            self.stdout.write(f"  processes: {', '.join(processes)}; logs in {log_dir}")
            self.stdout.write("  Press Ctrl-C to stop everything.\n")
            self._supervise(processes)
        except KeyboardInterrupt:
            pass
        finally:
            self._stop(processes)

    def _admin_login(self) -> tuple[str, str]:
        """An admin login for this installation. The password comes from HUB_ADMIN_PASSWORD, or is made once and kept
        in var/ so that it stays the same across restarts."""
        username = os.environ.get("HUB_ADMIN_USERNAME", "admin")
        password = os.environ.get("HUB_ADMIN_PASSWORD")
        password_file = Path(settings.VAR_DIR) / "admin-password.txt"
        if not password:
            if not password_file.exists():
                password_file.write_text(secrets.token_urlsafe(12))
                password_file.chmod(0o600)
            password = password_file.read_text().strip()
        user, _ = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True, "is_superuser": True})
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return username, password

    def _start(self, commands: dict, log_dir: Path) -> dict:
        processes = {}
        for name, command in commands.items():
            log = open(log_dir / f"{name}.log", "ab")
            # A session of its own: Ctrl-C reaches only this supervisor, which then stops the children in order.
            processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=settings.BASE_DIR,
                                               start_new_session=True)
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
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
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
        self.stdout.write("Stopped.")
