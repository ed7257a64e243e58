"""One NetSuite concurrency budget for every worker on every machine.

NetSuite counts requests in flight per account (Standard tier: 5) and refuses the one over the limit. Every hub
process takes a slot before a request and gives it back after. With Redis the slots are shared by all machines; on
the embedded default (one machine, no Redis) they are lock files, which the OS releases even when a worker is killed.
"""
import fcntl
import os
import random
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings

from .database import connection_release


class BudgetTimeout(Exception):
    pass


# Remove expired holders (a killed worker's slot frees itself after the lease), then take a slot if one is free.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
  return 1
end
return 0
"""


class RedisBudget:
    def __init__(self, url: str, limit: int, key: str = "hub:netsuite:concurrency", lease_seconds: int = 900):
        import redis

        self.redis = redis.Redis.from_url(url)
        self.limit, self.key, self.lease_seconds = limit, key, lease_seconds
        self.acquire_script = self.redis.register_script(_ACQUIRE)

    def in_use(self) -> int:
        """Slots held now (by live holders: an expired lease is a killed worker's)."""
        return int(self.redis.zcount(self.key, time.time(), "+inf"))

    @contextmanager
    def slot(self, timeout: float = 600):
        token = uuid.uuid4().hex
        deadline = time.monotonic() + timeout
        while True:
            now = time.time()
            if self.acquire_script(keys=[self.key], args=[now, self.limit, now + self.lease_seconds, token]):
                break
            if time.monotonic() > deadline:
                raise BudgetTimeout(f"No NetSuite concurrency slot free within {timeout:.0f} s")
            time.sleep(random.uniform(0.01, 0.05))
        try:
            yield
        finally:
            self.redis.zrem(self.key, token)


class FileBudget:
    def __init__(self, directory: Path, limit: int):
        self.directory, self.limit = directory, limit
        directory.mkdir(parents=True, exist_ok=True)

    def in_use(self) -> int:
        """Slots held now by any process on this machine (a lock that can't be taken is held)."""
        held = 0
        for number in range(self.limit):
            handle = os.open(self.directory / f"slot-{number}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(handle, fcntl.LOCK_UN)
            except BlockingIOError:
                held += 1
            finally:
                os.close(handle)
        return held

    @contextmanager
    def slot(self, timeout: float = 600):
        deadline = time.monotonic() + timeout
        while True:
            for number in random.sample(range(self.limit), self.limit):
                handle = os.open(self.directory / f"slot-{number}.lock", os.O_CREAT | os.O_RDWR, 0o600)
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(handle)
                    continue
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
                    os.close(handle)
                return
            if time.monotonic() > deadline:
                raise BudgetTimeout(f"No NetSuite concurrency slot free within {timeout:.0f} s")
            time.sleep(random.uniform(0.01, 0.05))


class ProcessGate:
    """A process's own share of the budget: its threads queue here without spinning, and at most `limit` of them
    at a time ask the shared budget (where they poll) for a slot."""

    def __init__(self, shared, limit: int):
        self.shared, self.limit = shared, limit
        self.gate = threading.BoundedSemaphore(limit)

    def in_use(self) -> int:
        return self.shared.in_use()

    @contextmanager
    def slot(self, timeout: float = 600):
        # The wait for a slot and the request that follows take far longer than the thread's database work: the
        # thread's pooled connection goes back to the pool meanwhile, for the other threads.
        connection_release()
        if not self.gate.acquire(timeout=timeout):
            raise BudgetTimeout(f"No NetSuite concurrency slot free within {timeout:.0f} s")
        try:
            with self.shared.slot(timeout=timeout):
                yield
        finally:
            self.gate.release()


_budget = None


def netsuite_budget():
    global _budget
    if _budget is None:
        limit = settings.NETSUITE["CONCURRENCY_LIMIT"]
        url = settings.NETSUITE.get("SEMAPHORE_URL", "")
        if url.startswith(("redis://", "rediss://")):
            # A slot outlives its holder by no more than one request's timeout: a killed worker's slots come back.
            lease = int(settings.NETSUITE["TIMEOUT"] * 2) + 30
            shared = RedisBudget(url, limit, key=f"hub:netsuite:{settings.NETSUITE['ACCOUNT']}:concurrency", lease_seconds=lease)
        else:
            shared = FileBudget(Path(settings.VAR_DIR) / "netsuite-slots", limit)
        _budget = ProcessGate(shared, limit)
    return _budget
