"""Run the NetSuite sandbox as its own process, for the hub's tests and benchmarks.

    with run_netsuite_sandbox(tmp_path / "netsuite", latency_ms=0) as netsuite:
        service = client.create_service(BINDING, netsuite.endpoint)
        service.getServerTime(_soapheaders={"tokenPassport": netsuite.token_passport()})
        netsuite.control(lost_response_next=1)
        netsuite.stats()["requests"]["upsertList"]

The sandbox is a separate program, so this module only starts it and talks HTTP to it.
"""
from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ..processes import free_port, process_stop
from .cli import DEMO, DEMO_M2M

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SERVICE_PATH = "/services/NetSuitePort_2023_2"
BINDING = "{urn:platform_2023_2.webservices.netsuite.com}NetSuiteBinding"


def default_wsdl() -> str:
    """$NETSUITE_WSDL, else the shared offline copy that sits beside the project."""
    return os.environ.get("NETSUITE_WSDL") or str(
        PROJECT_ROOT.parent / "shared" / "netsuite-wsdl" / "2023_2" / "netsuite.wsdl")


def token_passport(*, account: str, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str,
                   nonce: str | None = None, timestamp: int | None = None) -> dict:
    """A fresh tokenPassport as the dict zeep accepts for the header (new nonce and timestamp each call)."""
    nonce = nonce or secrets.token_hex(16)
    timestamp = int(time.time()) if timestamp is None else timestamp
    key = f"{consumer_secret}&{token_secret}".encode()
    message = "&".join([account, consumer_key, token_id, nonce, str(timestamp)]).encode()
    signature = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    return {"account": account, "consumerKey": consumer_key, "token": token_id, "nonce": nonce,
            "timestamp": timestamp, "signature": {"_value_1": signature, "algorithm": "HMAC-SHA256"}}


class RunningSandbox:
    def __init__(self, data_dir: Path, port: int, options: dict):
        self.data_dir = Path(data_dir)
        self.port = port
        self.options = dict(options)
        # wsdl=False starts the sandbox without one: REST only.
        wsdl = self.options.pop("wsdl", None)
        self.wsdl = None if wsdl is False else (wsdl or default_wsdl())
        self.client_id = self.options.pop("client_id", DEMO_M2M["client_id"])
        self.certificate_id = self.options.pop("certificate_id", DEMO_M2M["certificate_id"])
        # Without a certificate of its own the sandbox makes the demo key pair in its data dir.
        self.certificate = self.options.pop("certificate", None)
        self.private_key_path = self.data_dir / "m2m_private.pem" if self.certificate is None else None
        self.account = self.options.pop("account", DEMO["account"])
        self.consumer_key = self.options.pop("consumer_key", DEMO["consumer_key"])
        self.consumer_secret = self.options.pop("consumer_secret", DEMO["consumer_secret"])
        self.token_id = self.options.pop("token_id", DEMO["token_id"])
        self.token_secret = self.options.pop("token_secret", DEMO["token_secret"])
        self.url = f"http://127.0.0.1:{port}"
        self.endpoint = self.url + SERVICE_PATH
        self.rest_url = self.url + "/services/rest"
        self.token_url = self.rest_url + "/auth/oauth2/v1/token"
        self.wsdl_url = self.url + "/wsdl/v2023_2_0/netsuite.wsdl"
        self.log_path = self.data_dir / "sandbox.log"
        self.process: subprocess.Popen | None = None

    # -- process -----------------------------------------------------------------------------------
    def command(self) -> list[str]:
        command = [sys.executable, "-m", "sandboxes.netsuite", "serve", "--port", str(self.port),
                   "--data-dir", str(self.data_dir), "--account", self.account,
                   "--consumer-key", self.consumer_key, "--consumer-secret", self.consumer_secret,
                   "--token-id", self.token_id, "--token-secret", self.token_secret,
                   "--client-id", self.client_id, "--certificate-id", self.certificate_id]
        if self.wsdl:
            command += ["--wsdl", self.wsdl]
        if self.certificate:
            command += ["--certificate", str(self.certificate)]
        for key, value in self.options.items():
            if key == "settings":
                for setting, setting_value in value.items():
                    command += ["--set", f"{setting}={json.dumps(setting_value)}"]
            elif value is True:
                command.append(f"--{key.replace('_', '-')}")
            elif value is not None and value is not False:
                command += [f"--{key.replace('_', '-')}", str(value)]
        return command

    def start(self, timeout: float = 30.0) -> "RunningSandbox":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if self.wsdl is None:
            env.pop("NETSUITE_WSDL", None)
        log = open(self.log_path, "ab")
        # A session of its own: a terminal's Ctrl-C reaches only the starter, which stops the sandbox in order.
        self.process = subprocess.Popen(self.command(), cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True, env=env)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the NetSuite sandbox exited with {self.process.returncode}; see {self.log_path}:\n"
                                   + self.log_path.read_text(errors="replace")[-2000:])
            try:
                self._request("GET", "/_sandbox/health", timeout=1)
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the NetSuite sandbox did not answer within {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        process_stop(self.process)
        self.process = None

    def restart(self) -> "RunningSandbox":
        self.stop()
        return self.start()

    # -- control API -------------------------------------------------------------------------------
    def _request(self, method: str, path: str, payload: dict | None = None, timeout: float = 60):
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def control(self, **settings) -> dict:
        """Change settings of the running sandbox (latency_ms, concurrency_limit, lost_response_next ...)."""
        return self._request("POST", "/_sandbox/control", settings)["settings"]

    def stats(self) -> dict:
        return self._request("GET", "/_sandbox/stats")

    def pay(self, days: int = 30, per_day: int = 5, seed: int = 1, backdate: bool = True, modified_at: str | None = None) -> dict:
        payload = {"days": days, "per_day": per_day, "seed": seed, "backdate": backdate}
        if modified_at:
            payload["modified_at"] = modified_at
        return self._request("POST", "/_sandbox/pay", payload, timeout=600)

    def reset(self) -> None:
        self._request("POST", "/_sandbox/reset", {})

    def bill(self, sales_order: str, amount: float | None = None) -> dict:
        """An invoice created from the order: {internalId, tranId, total, salesOrder}."""
        payload = {"salesOrder": str(sales_order)}
        if amount is not None:
            payload["amount"] = amount
        return self._request("POST", "/_sandbox/bill", payload)

    def void(self, record_type: str, internal_id: str) -> dict:
        """Void a transaction as the account's void_mode says (control void_mode=direct|reversing_journal)."""
        return self._request("POST", "/_sandbox/void", {"type": record_type, "internalId": str(internal_id)})

    def declare_custom_fields(self, *fields: dict, replace: bool = False) -> list[dict]:
        """Declare custom fields in the account (plain definitions, see custom_fields.py); all of them with `replace`."""
        return self._request("POST", "/_sandbox/custom-fields", {"fields": list(fields), "replace": replace})["fields"]

    def custom_fields(self) -> list[dict]:
        return self._request("GET", "/_sandbox/custom-fields")["fields"]

    # -- REST --------------------------------------------------------------------------------------------
    def client_assertion(self, *, key_path=None, algorithm: str = "PS256", lifetime_s: int = 300,
                         **claims) -> str:
        """A JWT client assertion for the token endpoint, signed with the demo key (or key_path)."""
        import jwt

        now = int(time.time())
        payload = {"iss": self.client_id, "scope": ["rest_webservices"], "aud": self.token_url, "iat": now,
                   "exp": now + lifetime_s, **claims}
        key = Path(key_path or self.private_key_path).read_bytes()
        return jwt.encode(payload, key, algorithm=algorithm, headers={"kid": self.certificate_id, "typ": "JWT"})

    def access_token(self) -> str:
        """A fresh access token from the client credentials flow (valid 60 minutes)."""
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": self.client_assertion()}).encode()
        request = urllib.request.Request(self.token_url, data=form, method="POST",
                                         headers={"Content-Type": "application/x-www-form-urlencoded"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["access_token"]

    def token_passport(self, **overrides) -> dict:
        values = {"account": self.account, "consumer_key": self.consumer_key, "consumer_secret": self.consumer_secret,
                  "token_id": self.token_id, "token_secret": self.token_secret}
        values.update(overrides)
        return token_passport(**values)


@contextlib.contextmanager
def run_netsuite_sandbox(data_dir, *, port: int | None = None, **options):
    """Start `python -m sandboxes.netsuite serve` on a free port; yield a RunningSandbox; kill it on exit.

    options are serve's command-line options by keyword (timezone="UTC", concurrency_limit=5,
    latency_ms=200, latency_per_record_ms=2, wsdl=..., account=...), plus settings={...} for any
    control setting at start.
    """
    sandbox = RunningSandbox(Path(data_dir), port or free_port(), options)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
