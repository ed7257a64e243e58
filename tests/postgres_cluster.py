"""A PostgreSQL cluster of a test's own: initdb into a temporary directory, started on a free port with the settings
the test asks for (e.g. a low max_connections), stopped and removed after it. For tests of what the hub does at the
edge of PostgreSQL's limits, which the shared server of the suite must not be brought to."""
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from sandboxes.processes import free_port


def postgres_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("pg_ctl") and shutil.which("initdb")
    return Path(found).parent if found else None


class PostgresCluster:
    def __init__(self, directory: Path, binaries: Path, settings: dict):
        self.directory, self.binaries, self.settings = directory, binaries, settings
        self.port = free_port()
        # initdb and the server refuse to run as root: as root (CI, containers), they run as the postgres user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self.as_user, *command], capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}\n{self.log()}")

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.directory, "postgres", "postgres")
        data = str(self.directory / "data")
        self._run(str(self.binaries / "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.directory}", "-c fsync=off",
                   *(f"-c {name}={value}" for name, value in self.settings.items())]
        self._run(str(self.binaries / "pg_ctl"), "-D", data, "-l", str(self.directory / "server.log"),
                  "-o", " ".join(options), "-w", "-t", "60", "start")

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.binaries / "pg_ctl"), "-D", str(self.directory / "data"),
                        "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def postgres_cluster(**settings):
    """Start a cluster in a temporary directory (a generator for a fixture); skip when PostgreSQL's server binaries
    aren't installed, except under CI, where the test must run."""
    binaries = postgres_binaries()
    if binaries is None or shutil.which("runuser") is None and os.geteuid() == 0:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL's server binaries (initdb, pg_ctl) are needed for this test under CI")
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
    # Not under pytest's tmp_path: its parents are private to the user running the tests, and the server may run as
    # another.
    directory = Path(tempfile.mkdtemp(prefix="hub-postgres-"))
    directory.chmod(0o755)
    cluster = PostgresCluster(directory, binaries, settings)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)
