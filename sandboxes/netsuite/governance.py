"""What NetSuite's governance does to a client, and the failures the hub must survive, on demand.

Settings can be given at start (CLI) and changed while running (POST /_sandbox/control). Each
injectable failure has a "next N" counter and a rate; fault_operations narrows them to some
operations. The counters here are what tests and benchmarks read back from /_sandbox/stats.
"""
from __future__ import annotations

import collections
import random
import threading

INJECTIONS = ("http_500", "http_503", "slow", "record_changed", "lost_response")

DEFAULTS = {
    "concurrency_limit": 5,
    "latency_ms": 0.0,
    "latency_per_record_ms": 0.0,
    "slow_ms": 60000.0,
    "search_ttl_s": 15 * 60.0,
    # REST asynchronous jobs run in the account's REST async processors, whose number follows its SuiteCloud Plus
    # licences (article_0127092747.html); jobs beyond them wait in the queue.
    "rest_async_processors": 2,
    # How POST /_sandbox/void voids: "direct" (the total and every line set to zero, the transaction kept) or
    # "reversing_journal" (the account's "Void Transactions Using Reversing Journals" preference: amounts kept, a
    # journal entry reverses them). Oracle: section_4413162576.html, section_4483109897.html.
    "void_mode": "direct",
    "fault_operations": "",
    "record_changed_match": "",
    "fault_seed": 0,
    **{f"{kind}_next": 0 for kind in INJECTIONS},
    **{f"{kind}_rate": 0.0 for kind in INJECTIONS},
}


def coerce(key: str, value):
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}; known: {', '.join(sorted(DEFAULTS))}, clear_faults, reset_stats")
    default = DEFAULTS[key]
    if key == "void_mode" and value not in ("direct", "reversing_journal"):
        raise ValueError(f"void_mode is direct or reversing_journal, not {value!r}")
    if isinstance(default, str):
        return "" if value is None else str(value)
    if isinstance(default, int):
        return int(value)
    return float(value)


class Governance:
    def __init__(self, **settings):
        self._lock = threading.Lock()
        self.settings = dict(DEFAULTS)
        self._random = random.Random(0)
        self.in_flight = 0
        self.update(settings)
        self.reset_stats()

    def update(self, changes: dict) -> dict:
        """Apply settings; the flags clear_faults and reset_stats act once. All or nothing."""
        def flag(name):
            return changes.get(name) not in (None, False, 0, "0", "false", "")

        values = {key: coerce(key, value) for key, value in changes.items() if key not in ("clear_faults", "reset_stats")}
        with self._lock:
            if flag("clear_faults"):
                for kind in INJECTIONS:
                    self.settings[f"{kind}_next"], self.settings[f"{kind}_rate"] = 0, 0.0
            self.settings.update(values)
            if "fault_seed" in values:
                self._random = random.Random(values["fault_seed"])
        if flag("reset_stats"):
            self.reset_stats()
        return dict(self.settings)

    def reset_stats(self) -> None:
        with self._lock:
            self.max_in_flight = self.in_flight
            self.requests = collections.Counter()
            self.faults = collections.Counter()
            self.injected = collections.Counter()
            self.server_ms = {}

    # -- concurrency -------------------------------------------------------------------------------
    def enter(self) -> bool:
        """Claim a request slot; False means NetSuite would block this request (WS_REQUEST_BLOCKED)."""
        with self._lock:
            if self.in_flight >= self.settings["concurrency_limit"]:
                return False
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return True

    def leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    # -- injected failures -------------------------------------------------------------------------
    def take(self, kind: str, operation: str, keys: tuple = ()) -> bool:
        with self._lock:
            allowed = [o.strip() for o in self.settings["fault_operations"].split(",") if o.strip()]
            if allowed and operation not in allowed:
                return False
            if kind == "record_changed" and self.settings["record_changed_match"]:
                wanted = {k.strip() for k in self.settings["record_changed_match"].split(",")}
                if not wanted.intersection(k for k in keys if k):
                    return False
            hit = False
            if self.settings[f"{kind}_next"] > 0:
                self.settings[f"{kind}_next"] -= 1
                hit = True
            elif self.settings[f"{kind}_rate"] > 0 and self._random.random() < self.settings[f"{kind}_rate"]:
                hit = True
            if hit:
                self.injected[kind] += 1
            return hit

    def latency_s(self, records: int) -> float:
        return (self.settings["latency_ms"] + self.settings["latency_per_record_ms"] * records) / 1000.0

    # -- accounting --------------------------------------------------------------------------------
    def count(self, operation: str, fault_code: str | None = None, server_ms: float | None = None) -> None:
        with self._lock:
            self.requests[operation] += 1
            if fault_code:
                self.faults[fault_code] += 1
            if server_ms is not None:
                self.server_ms[operation] = round(server_ms, 3)

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "requests_total": sum(self.requests.values()),
                "faults": dict(self.faults),
                "injected": dict(self.injected),
                "max_concurrency": self.max_in_flight,
                "in_flight": self.in_flight,
                "last_server_ms": dict(self.server_ms),
                "settings": dict(self.settings),
            }
