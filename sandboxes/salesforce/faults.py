"""Governance and fault injection: what makes the sandbox behave like a busy, limited, sometimes failing org.

Everything here can be set at start (CLI options) and changed while running (`POST /_sandbox/control`).
"""
import collections
import datetime as dt
import random
import threading
import time

from .ids import normalize_id

DEFAULTS = {
    "latency_ms": 0,
    "api_daily_limit": 100000,
    "session_minutes": 120.0,       # 0: sessions never expire
    "error_rate": 0.0,              # share of API requests answered with an injected 500/503
    "error_statuses": [500, 503],
    "locked_ids": [],               # writes touching these records fail with UNABLE_TO_LOCK_ROW
    "jwt_max_exp_seconds": 0.0,     # 0: any future JWT `exp` is accepted, as orgs do; e.g. 180 holds to the guide
}

INJECTED = {
    500: ("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId if you contact support: "
                               "1234567890-12345 (-1234567890)"),
    503: ("SERVER_UNAVAILABLE", "Server is temporarily unavailable. Please try again later."),
}


class Governor:
    def __init__(self, settings: dict | None = None, random_seed: int = 0):
        self.lock = threading.Lock()
        self.settings = dict(DEFAULTS)
        self.settings.update({k: v for k, v in (settings or {}).items() if v is not None})
        self.random = random.Random(random_seed)
        self.api_usage = 0
        self.usage_day = dt.datetime.now(dt.timezone.utc).date()
        self.fail_next = []              # statuses for the next API requests, deterministic faults for tests
        self.sessions_revoked_at = 0.0
        self.started = time.time()
        self.counts = collections.Counter()
        self.by_status = collections.Counter()
        self.by_route = collections.Counter()
        self.in_flight = 0
        self.max_in_flight = 0

    # -- settings ---------------------------------------------------------------------------------------------------
    def apply(self, changes: dict) -> dict:
        """Apply control settings; returns what was applied. Unknown keys raise KeyError."""
        applied = {}
        with self.lock:
            for key, value in changes.items():
                if key in ("latency_ms", "api_daily_limit"):
                    self.settings[key] = int(value)
                elif key in ("session_minutes", "error_rate", "jwt_max_exp_seconds"):
                    self.settings[key] = float(value)
                elif key == "error_statuses":
                    self.settings[key] = [int(v) for v in _as_list(value)]
                elif key == "locked_ids":
                    self.settings[key] = [str(v) for v in _as_list(value)]
                elif key == "lock":
                    self.settings["locked_ids"] = sorted(set(self.settings["locked_ids"]) | set(_as_list(value)))
                elif key == "unlock":
                    self.settings["locked_ids"] = [i for i in self.settings["locked_ids"] if i not in _as_list(value)]
                elif key == "api_usage":
                    self.api_usage = int(value)
                elif key == "fail_next":
                    # "3" -> three 503s; "500,503" -> one 500 then one 503
                    items = _as_list(value)
                    if len(items) == 1 and int(items[0]) < 100:
                        items = [503] * int(items[0])
                    self.fail_next = [int(v) for v in items]
                elif key == "expire_sessions":
                    if _truthy(value):
                        self.sessions_revoked_at = time.time()
                elif key == "reset_stats":
                    if _truthy(value):
                        self.counts.clear()
                        self.by_status.clear()
                        self.by_route.clear()
                else:
                    raise KeyError(key)
                applied[key] = value
        return applied

    def locked_ids(self) -> frozenset:
        return frozenset(normalize_id(i) or i for i in self.settings["locked_ids"])

    # -- per request ------------------------------------------------------------------------------------------------
    def latency(self):
        delay = self.settings["latency_ms"]
        if delay > 0:
            time.sleep(delay / 1000)

    def session_valid(self, created: float) -> bool:
        if created <= self.sessions_revoked_at:
            return False
        minutes = self.settings["session_minutes"]
        return minutes <= 0 or time.time() - created < minutes * 60

    def spend_api_request(self) -> tuple:
        """Count one API request; returns (allowed, usage, limit)."""
        with self.lock:
            today = dt.datetime.now(dt.timezone.utc).date()
            if today != self.usage_day:
                self.usage_day, self.api_usage = today, 0
            limit = self.settings["api_daily_limit"]
            if self.api_usage >= limit:
                return False, self.api_usage, limit
            self.api_usage += 1
            return True, self.api_usage, limit

    def usage(self) -> tuple:
        return self.api_usage, self.settings["api_daily_limit"]

    def injected_status(self) -> int | None:
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0)
            rate = self.settings["error_rate"]
            if rate > 0 and self.random.random() < rate:
                return self.random.choice(self.settings["error_statuses"])
        return None

    def record(self, route: str, status: int):
        with self.lock:
            self.counts["requests"] += 1
            self.by_status[str(status)] += 1
            self.by_route[route] += 1

    def enter(self):
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self):
        with self.lock:
            self.in_flight -= 1

    def count(self, name: str, amount: int = 1):
        with self.lock:
            self.counts[name] += amount

    def stats(self) -> dict:
        with self.lock:
            return {
                "uptime_seconds": round(time.time() - self.started, 3),
                "requests": self.counts["requests"],
                "counts": dict(self.counts),
                "by_status": dict(self.by_status),
                "by_route": dict(self.by_route),
                "api_usage": self.api_usage,
                "api_daily_limit": self.settings["api_daily_limit"],
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "pending_failures": list(self.fail_next),
                "settings": dict(self.settings),
            }


def _as_list(value) -> list:
    if isinstance(value, (list, tuple, set)):
        return [str(v).strip() for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _truthy(value) -> bool:
    return value is True or str(value).lower() in ("1", "true", "yes", "on")
