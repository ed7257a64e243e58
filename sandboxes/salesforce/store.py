"""The org's storage: one sqlite database (WAL) in the data dir, one table per object with a column per field.

Real columns and indexes let a filtered, ordered SOQL query over 100k rows run as indexed SQL instead of a scan in
Python. Writes are serialised by one process-wide lock so that timestamps taken inside it never go backwards
between commits: a watermark reader must not see a later SystemModstamp commit before an earlier one.

A write transaction also collects the records it created or updated (`record_change`); once it has committed, they
are handed to the commit listeners (the outbound messages), and a rolled-back savepoint takes its own back.
"""
import contextlib
import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path

from . import ids, schema

DB_NAME = "org.sqlite3"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def column_type(f: schema.Field) -> str:
    if f.type in (schema.ID, schema.REFERENCE):
        return "TEXT"
    if f.is_text:
        # SOQL compares and sorts text case-insensitively; the collation also applies to the column's index.
        return "TEXT COLLATE NOCASE"
    if f.type == schema.BOOLEAN:
        return "INTEGER NOT NULL DEFAULT 0"
    if f.type in schema.NUMBER_TYPES:
        return "REAL"
    return "TEXT"


def now_stamp(moment: dt.datetime | None = None) -> str:
    """The platform's timestamp precision is the millisecond; every record written in one call shares one stamp."""
    moment = moment or dt.datetime.now(dt.timezone.utc)
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


class Store:
    def __init__(self, data_dir):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / DB_NAME
        self._local = threading.local()
        self.write_lock = threading.RLock()
        # Called with [(object name, record id, "create" | "update"), ...] after each outermost commit.
        self.commit_listeners = []
        self._migrate()

    # -- connections ------------------------------------------------------------------------------------------------
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA temp_store=MEMORY")
            self._local.conn = conn
        return conn

    def close(self):
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextlib.contextmanager
    def transaction(self):
        """One write transaction; inside another on this thread it is a savepoint of the outer one, so that a
        composite request with allOrNone can run each subrequest's own transaction and still roll them all back."""
        with self.write_lock:
            conn = self.conn()
            depth = getattr(self._local, "depth", 0)
            if depth:
                self._local.depth = depth + 1
                try:
                    with self.savepoint(conn, f"nested{depth}"):
                        yield conn
                finally:
                    self._local.depth = depth
                return
            conn.execute("BEGIN IMMEDIATE")
            self._local.depth = 1
            self._local.changes = changes = []
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")
            finally:
                self._local.depth = 0
                self._local.changes = None
        # Outside the write lock: a listener never holds up the next writer.
        if changes:
            for listener in self.commit_listeners:
                listener(changes)

    def record_change(self, object_name: str, record_id: str, event: str):
        """Note a record created or updated in the open transaction (told to the listeners once it commits)."""
        changes = getattr(self._local, "changes", None)
        if changes is not None:
            changes.append((object_name, record_id, event))

    @contextlib.contextmanager
    def savepoint(self, conn, name="record"):
        changes = getattr(self._local, "changes", None)
        mark = len(changes) if changes is not None else 0
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            conn.execute(f"ROLLBACK TO {name}")
            conn.execute(f"RELEASE {name}")
            if changes is not None:
                del changes[mark:]
            raise
        else:
            conn.execute(f"RELEASE {name}")

    # -- schema -----------------------------------------------------------------------------------------------------
    def _migrate(self):
        conn = self.conn()
        with self.write_lock:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("CREATE TABLE IF NOT EXISTS _meta (key TEXT PRIMARY KEY, value TEXT)")
            conn.execute("CREATE TABLE IF NOT EXISTS _session (token TEXT PRIMARY KEY, created REAL NOT NULL, "
                         "revoked INTEGER NOT NULL DEFAULT 0)")
            for obj in schema.OBJECTS:
                table = quote(obj.name)
                existing = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
                if not existing:
                    columns = ", ".join(f"{quote(f.name)} {column_type(f)}" for f in obj.fields)
                    conn.execute(f"CREATE TABLE {table} ({columns})")
                else:
                    # Fields added to the schema after the data dir was made: keep old data, add the columns.
                    for f in obj.fields:
                        if f.name not in existing:
                            conn.execute(f"ALTER TABLE {table} ADD COLUMN {quote(f.name)} {column_type(f)}")
                conn.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {quote(obj.name + '_Id')} ON {table} (\"Id\")")
                for f in obj.fields:
                    if (f.indexed or f.external_id) and f.name != "Id":
                        index = quote(f"{obj.name}_{f.name}")
                        conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} ({quote(f.name)})")
            conn.execute("COMMIT")

    # -- meta -------------------------------------------------------------------------------------------------------
    def meta_get(self, key, default=None, conn=None):
        row = (conn or self.conn()).execute("SELECT value FROM _meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def meta_set(self, conn, key, value):
        conn.execute("INSERT INTO _meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     (key, json.dumps(value)))

    def next_counter(self, conn, key: str, count: int = 1) -> int:
        """Reserve `count` numbers of a counter; returns the first."""
        first = self.meta_get(key, 0, conn) + 1
        self.meta_set(conn, key, first + count - 1)
        return first

    def new_ids(self, conn, obj: schema.SObject, count: int = 1) -> list:
        first = self.next_counter(conn, "ids:" + obj.key_prefix, count)
        return [ids.make_id(obj.key_prefix, n) for n in range(first, first + count)]

    # -- rows -------------------------------------------------------------------------------------------------------
    def row_from_db(self, obj: schema.SObject, names, values) -> dict:
        row = {}
        for name, value in zip(names, values):
            f = obj.field(name)
            row[f.name] = bool(value) if f.type == schema.BOOLEAN else value
        return row

    def get(self, obj: schema.SObject, record_id: str, *, conn=None, include_deleted=False) -> dict | None:
        conn = conn or self.conn()
        names = [f.name for f in obj.fields]
        sql = f"SELECT {', '.join(map(quote, names))} FROM {quote(obj.name)} WHERE \"Id\" = ?"
        if not include_deleted:
            sql += ' AND "IsDeleted" = 0'
        values = conn.execute(sql, (record_id,)).fetchone()
        return self.row_from_db(obj, names, values) if values else None

    def find(self, obj: schema.SObject, field_name: str, value, *, conn=None, limit=3) -> list:
        """Live rows whose field equals value (text compares case-insensitively, like external id matching)."""
        conn = conn or self.conn()
        names = [f.name for f in obj.fields]
        sql = (f"SELECT {', '.join(map(quote, names))} FROM {quote(obj.name)} "
               f"WHERE {quote(field_name)} = ? AND \"IsDeleted\" = 0 LIMIT ?")
        return [self.row_from_db(obj, names, values) for values in conn.execute(sql, (value, limit))]

    def insert(self, conn, obj: schema.SObject, row: dict):
        names = list(row)
        values = [int(v) if isinstance(v, bool) else v for v in row.values()]
        conn.execute(f"INSERT INTO {quote(obj.name)} ({', '.join(map(quote, names))}) "
                     f"VALUES ({', '.join('?' * len(names))})", values)

    def insert_many(self, conn, obj: schema.SObject, rows: list):
        if not rows:
            return
        names = [f.name for f in obj.fields]
        sql = (f"INSERT INTO {quote(obj.name)} ({', '.join(map(quote, names))}) "
               f"VALUES ({', '.join('?' * len(names))})")
        conn.executemany(sql, ([int(v) if isinstance(v, bool) else v for v in (r.get(n) for n in names)]
                               for r in rows))

    def update(self, conn, obj: schema.SObject, record_id: str, changes: dict):
        names = list(changes)
        values = [int(v) if isinstance(v, bool) else v for v in changes.values()]
        assignments = ", ".join(f"{quote(n)} = ?" for n in names)
        conn.execute(f"UPDATE {quote(obj.name)} SET {assignments} WHERE \"Id\" = ?", values + [record_id])

    def count(self, obj: schema.SObject) -> int:
        return self.conn().execute(f"SELECT COUNT(*) FROM {quote(obj.name)}").fetchone()[0]

    # -- sessions ---------------------------------------------------------------------------------------------------
    def session_add(self, token: str, created: float):
        with self.transaction() as conn:
            conn.execute("INSERT INTO _session (token, created) VALUES (?, ?)", (token, created))

    def session_get(self, token: str):
        return self.conn().execute("SELECT created, revoked FROM _session WHERE token = ?", (token,)).fetchone()

    def session_revoke(self, token: str) -> int:
        with self.transaction() as conn:
            return conn.execute("UPDATE _session SET revoked = 1 WHERE token = ? AND revoked = 0", (token,)).rowcount

    def sessions_revoke_all(self) -> int:
        with self.transaction() as conn:
            return conn.execute("UPDATE _session SET revoked = 1 WHERE revoked = 0").rowcount

    def reset(self):
        self.close()
        for suffix in ("", "-wal", "-shm"):
            path = Path(str(self.path) + suffix)
            if path.exists():
                path.unlink()
        self._migrate()
