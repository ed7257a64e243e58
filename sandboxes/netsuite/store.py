"""The sandbox account's storage: one sqlite file in WAL mode, a table per record family.

Indexed columns (internal id, type, external id, lastModifiedDate in UTC epoch ms, parent entity)
carry what searches filter and order on; the record itself is a JSON body in the shape of
schema.Codec. Internal ids come from one counter per record family (entities, transactions, items), as NetSuite's
are shared within a record group and not across groups ("Shared Internal and External IDs", section_N3436356.html):
a customer and a sales order may have the same internal id, two transactions never do.
"""
from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

RECORD_FAMILIES = ("entities", "transactions", "items")
# The account's setup: its subsidiaries, currencies and custom field definitions (not counted in the stats).
SETUP_FAMILIES = ("subsidiaries", "currencies", "customizations")
FAMILIES = RECORD_FAMILIES + SETUP_FAMILIES
DB_NAME = "netsuite.sqlite3"

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (nonce TEXT NOT NULL, timestamp INTEGER NOT NULL, PRIMARY KEY (nonce, timestamp));
CREATE TABLE IF NOT EXISTS searches (
    search_id TEXT PRIMARY KEY, criteria TEXT NOT NULL, page_size INTEGER NOT NULL,
    body_fields_only INTEGER NOT NULL, created_ms INTEGER NOT NULL, last_used_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS deleted_records (
    internal_id INTEGER NOT NULL, type TEXT NOT NULL, external_id TEXT, name TEXT, deleted_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS deleted_records_deleted ON deleted_records (deleted_ms, internal_id);
CREATE TABLE IF NOT EXISTS rest_tokens (token TEXT PRIMARY KEY, expires_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS rest_jobs (
    job_id INTEGER PRIMARY KEY, idempotency_key TEXT UNIQUE, request TEXT NOT NULL, state TEXT NOT NULL,
    created_ms INTEGER NOT NULL, started_ms INTEGER, ended_ms INTEGER);
CREATE TABLE IF NOT EXISTS rest_tasks (
    job_id INTEGER NOT NULL, task_id INTEGER NOT NULL, started_ms INTEGER, ended_ms INTEGER, result TEXT,
    PRIMARY KEY (job_id, task_id));
"""
FAMILY_SCHEMA = """
CREATE TABLE IF NOT EXISTS {family} (
    internal_id INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    external_id TEXT,
    last_modified_ms INTEGER NOT NULL,
    created_ms INTEGER NOT NULL,
    tran_id TEXT,
    parent_id INTEGER,
    body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS {family}_external ON {family} (type, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS {family}_modified ON {family} (last_modified_ms, internal_id);
CREATE INDEX IF NOT EXISTS {family}_type_modified ON {family} (type, last_modified_ms, internal_id);
CREATE INDEX IF NOT EXISTS {family}_type_created ON {family} (type, created_ms, internal_id);
CREATE INDEX IF NOT EXISTS {family}_parent ON {family} (parent_id);
"""

FIRST_INTERNAL_ID = 1001
# The counter that used to number every record of the account; a data dir that still has it is moved to one
# counter per family when opened (each family continues from it, so no id already given is given again).
LEGACY_ID_COUNTER = "internal_id"


def id_counter(family: str) -> str:
    """The counter that numbers a record family's internal ids."""
    return f"internal_id_{family}"
FIRST_TRAN_NUMBER = 1001


@dataclass
class StoredRecord:
    internal_id: int
    type: str
    external_id: str | None
    last_modified_ms: int
    created_ms: int
    tran_id: str | None
    parent_id: int | None
    body: dict

    @classmethod
    def from_row(cls, row) -> "StoredRecord":
        return cls(row[0], row[1], row[2], row[3], row[4], row[5], row[6], json.loads(row[7]))


COLUMNS = "internal_id, type, external_id, last_modified_ms, created_ms, tran_id, parent_id, body"


class Store:
    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / DB_NAME
        self._local = threading.local()
        # sqlite serialises writers anyway; queueing them here avoids busy-retry loops between our own
        # threads. Other processes (the `pay` command) are handled by busy_timeout.
        self._write_lock = threading.Lock()
        self._claims = 0
        with self._write_lock:
            connection = self.connection()
            connection.executescript(SCHEMA + "".join(FAMILY_SCHEMA.format(family=f) for f in FAMILIES))
            self._migrate_id_counter(connection)

    @staticmethod
    def _migrate_id_counter(connection) -> None:
        row = connection.execute("SELECT value FROM counters WHERE name = ?", (LEGACY_ID_COUNTER,)).fetchone()
        if row is None:
            return
        connection.execute("BEGIN IMMEDIATE")
        for family in FAMILIES:
            connection.execute("INSERT OR IGNORE INTO counters (name, value) VALUES (?, ?)", (id_counter(family), row[0]))
        connection.execute("DELETE FROM counters WHERE name = ?", (LEGACY_ID_COUNTER,))
        connection.execute("COMMIT")

    @staticmethod
    def next_internal_id(connection, family: str, count: int = 1) -> int:
        """The first of `count` new internal ids of a record family."""
        return Store.next_value(connection, id_counter(family), FIRST_INTERNAL_ID, count)

    def connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            # NORMAL keeps WAL durable across a process crash (only an OS crash can lose the last commits).
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA busy_timeout=30000")
            connection.execute("PRAGMA cache_size=-65536")
            self._local.connection = connection
        return connection

    @contextlib.contextmanager
    def write(self):
        connection = self.connection()
        with self._write_lock:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    @contextlib.contextmanager
    def read(self):
        connection = self.connection()
        # One snapshot per request, so a page and its totalRecords agree.
        connection.execute("BEGIN")
        try:
            yield connection
        finally:
            connection.execute("COMMIT")

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # -- counters ----------------------------------------------------------------------------------
    @staticmethod
    def next_value(connection, name: str, first: int, count: int = 1) -> int:
        row = connection.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        value = row[0] if row else first
        connection.execute("INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)", (name, value + count))
        return value

    # -- records -----------------------------------------------------------------------------------
    @staticmethod
    def get(connection, family: str, internal_id: int) -> StoredRecord | None:
        row = connection.execute(f"SELECT {COLUMNS} FROM {family} WHERE internal_id = ?", (internal_id,)).fetchone()
        return StoredRecord.from_row(row) if row else None

    @staticmethod
    def get_by_external_id(connection, family: str, record_type: str, external_id: str) -> StoredRecord | None:
        row = connection.execute(
            f"SELECT {COLUMNS} FROM {family} WHERE type = ? AND external_id = ?", (record_type, external_id)
        ).fetchone()
        return StoredRecord.from_row(row) if row else None

    @staticmethod
    def save(connection, family: str, record: StoredRecord) -> None:
        connection.execute(
            f"INSERT OR REPLACE INTO {family} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (record.internal_id, record.type, record.external_id, record.last_modified_ms, record.created_ms,
             record.tran_id, record.parent_id, json.dumps(record.body, separators=(",", ":"))),
        )

    @staticmethod
    def delete(connection, family: str, record: StoredRecord, name: str, now_ms: int) -> None:
        """Remove a record and remember it, as NetSuite's deleted record list does."""
        connection.execute(f"DELETE FROM {family} WHERE internal_id = ?", (record.internal_id,))
        connection.execute("INSERT INTO deleted_records VALUES (?, ?, ?, ?, ?)",
                           (record.internal_id, record.type, record.external_id, name, now_ms))

    def counts(self) -> dict[str, int]:
        result = {}
        with self.read() as connection:
            for family in RECORD_FAMILIES:
                for record_type, count in connection.execute(f"SELECT type, COUNT(*) FROM {family} GROUP BY type"):
                    result[record_type] = count
        return result

    # -- nonces ------------------------------------------------------------------------------------
    def claim_nonce(self, nonce: str, timestamp: int) -> bool:
        with self.write() as connection:
            try:
                connection.execute("INSERT INTO nonces (nonce, timestamp) VALUES (?, ?)", (nonce, timestamp))
            except sqlite3.IntegrityError:
                return False
            # Pairs older than the accepted clock skew can never be replayed successfully; forget them.
            self._claims += 1
            if self._claims % 500 == 0:
                connection.execute("DELETE FROM nonces WHERE timestamp < ?", (int(time.time()) - 900,))
        return True

    # -- search sessions ---------------------------------------------------------------------------
    def save_search(self, search_id: str, criteria: dict, page_size: int, body_fields_only: bool, now_ms: int) -> None:
        with self.write() as connection:
            connection.execute(
                "INSERT INTO searches VALUES (?, ?, ?, ?, ?, ?)",
                (search_id, json.dumps(criteria), page_size, int(body_fields_only), now_ms, now_ms),
            )
            connection.execute("DELETE FROM searches WHERE last_used_ms < ?", (now_ms - 24 * 3600 * 1000,))

    def load_search(self, search_id: str):
        row = self.connection().execute(
            "SELECT criteria, page_size, body_fields_only, last_used_ms FROM searches WHERE search_id = ?", (search_id,)
        ).fetchone()
        if not row:
            return None
        return json.loads(row[0]), row[1], bool(row[2]), row[3]

    def touch_search(self, search_id: str, now_ms: int) -> None:
        with self.write() as connection:
            connection.execute("UPDATE searches SET last_used_ms = ? WHERE search_id = ?", (now_ms, search_id))

    def wipe(self) -> None:
        with self.write() as connection:
            for family in FAMILIES:
                connection.execute(f"DELETE FROM {family}")
            connection.execute("DELETE FROM counters")
            for table in ("searches", "deleted_records", "rest_jobs", "rest_tasks"):
                connection.execute(f"DELETE FROM {table}")
