"""Start the Salesforce sandbox as its own process, for tests and demos that drive it over HTTPS.

    with run_salesforce_sandbox(tmp_path, seed_args={"accounts": 500}) as sandbox:
        sf = sandbox.client()
        sf.query("SELECT Id FROM Account")
        sandbox.control(expire_sessions=True)
"""
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from ..processes import free_port, process_stop
from . import signing_keys
from .auth import Credentials

PROJECT_ROOT = Path(__file__).resolve().parents[2]
API_VERSION = "59.0"
START_TIMEOUT = 30


def _cli_args(options: dict) -> list:
    args = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif isinstance(value, (list, tuple)):
            args += [flag, ",".join(str(v) for v in value)]
        else:
            args += [flag, str(value)]
    return args


def seed(data_dir, seed_args) -> dict:
    """Seed the data dir in a child process (the same code path as `sandbox salesforce seed`)."""
    args = list(seed_args) if isinstance(seed_args, (list, tuple)) else _cli_args(dict(seed_args))
    completed = subprocess.run([sys.executable, "-m", "sandboxes.salesforce", "seed", "--data-dir", str(data_dir),
                                *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"seeding the Salesforce sandbox failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


class RunningSalesforceSandbox:
    def __init__(self, data_dir, port: int, options: dict):
        self.data_dir = Path(data_dir)
        self.port = port
        self.options = dict(options)
        # The connected app's certificate: a key pair made in the data dir unless one is given (False: none, so
        # the JWT bearer grant is refused). `private_key_file` is what a client signs its assertions with.
        self.private_key_file = self.certificate_file = None
        if self.options.get("jwt_certificate") is None:
            keys = signing_keys.ensure_key_pair(self.data_dir / "jwt")
            self.options["jwt_certificate"] = str(keys["certificate"])
            self.private_key_file = str(keys["key"])
        if self.options["jwt_certificate"]:
            self.certificate_file = str(self.options["jwt_certificate"])
        self.process = None
        credentials = Credentials.from_env(**{k: options.get(k) for k in Credentials.__dataclass_fields__})
        self.username = credentials.username
        self.password = credentials.password
        self.security_token = credentials.security_token
        self.consumer_key = credentials.consumer_key
        self.consumer_secret = credentials.consumer_secret
        self.instance = f"127.0.0.1:{port}"
        self.url = f"https://{self.instance}"
        # simple-salesforce logs in at https://{domain}.salesforce.com/...; this domain makes that URL land on the
        # sandbox (https://127.0.0.1:PORT/login.salesforce.com/services/...), whose login routes match by suffix.
        self.domain = f"{self.instance}/login"
        self.ca_cert = str(self.data_dir / "tls" / "ca.pem")
        self.log_path = self.data_dir / "server.log"

    # -- process ----------------------------------------------------------------------------------------------------
    def start(self):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "sandboxes.salesforce", "serve", "--data-dir", str(self.data_dir),
                   "--port", str(self.port), *_cli_args(self.options)]
        log = open(self.log_path, "ab")
        # A session of its own: a terminal's Ctrl-C reaches only the starter, which stops the sandbox in order.
        self.process = subprocess.Popen(command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Salesforce sandbox exited at start:\n{self.log_path.read_text()}")
            try:
                if os.path.exists(self.ca_cert):
                    self.session().get(self.url + "/_sandbox/health", timeout=2).raise_for_status()
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the Salesforce sandbox did not answer within {START_TIMEOUT}s")

    def stop(self):
        process_stop(self.process)
        self.process = None

    def restart(self):
        self.stop()
        return self.start()

    # -- clients ----------------------------------------------------------------------------------------------------
    def session(self) -> requests.Session:
        session = requests.Session()
        session.verify = self.ca_cert
        # REQUESTS_CA_BUNDLE in the environment would otherwise replace `verify`.
        session.trust_env = False
        return session

    def client(self, **kwargs):
        """A simple-salesforce client logged in through the SOAP login, re-logging in on session expiry."""
        from simple_salesforce import Salesforce

        return Salesforce(username=self.username, password=self.password, security_token=self.security_token,
                          domain=self.domain, session=kwargs.pop("session", None) or self.session(),
                          version=kwargs.pop("version", API_VERSION), **kwargs)

    def jwt_client(self, **kwargs):
        """A simple-salesforce client logged in with the OAuth 2.0 JWT bearer grant (the hub's production login)."""
        from simple_salesforce import Salesforce

        return Salesforce(username=self.username, consumer_key=self.consumer_key,
                          privatekey_file=kwargs.pop("privatekey_file", None) or self.private_key_file,
                          domain=self.domain, session=kwargs.pop("session", None) or self.session(),
                          version=kwargs.pop("version", API_VERSION), **kwargs)

    def control(self, **settings) -> dict:
        response = self.session().post(self.url + "/_sandbox/control", json=settings, timeout=10)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict:
        response = self.session().get(self.url + "/_sandbox/stats", timeout=10)
        response.raise_for_status()
        return response.json()


@contextlib.contextmanager
def run_salesforce_sandbox(data_dir, *, port: int | None = None, seed_args=None, **options):
    """Seed (if asked), start the server on a free port, yield a RunningSalesforceSandbox, and always stop it.

    `seed_args`: a dict like {"accounts": 2500, "random_seed": 7} or a list of CLI arguments.
    `options`: serve options as keywords, e.g. latency_ms=50, api_daily_limit=100, session_minutes=0.1.
    """
    if seed_args:
        seed(data_dir, seed_args)
    sandbox = RunningSalesforceSandbox(data_dir, port or free_port(), options)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
