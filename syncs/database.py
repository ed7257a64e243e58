"""The hub's database connections: a bounded pool per process on PostgreSQL, shared by a job's threads.

A push sends from twice as many threads as NetSuite has concurrency slots, and a thread that kept its own connection
for the whole run made the hub's connections grow with the limit a customer buys (three jobs at limit 25 wanted about
150 of PostgreSQL's 100). With Django's psycopg pool (DATABASES OPTIONS "pool", see integration_hub/settings.py) a
thread holds a connection only while it talks to the database: it gives it back before it waits for a NetSuite slot
and for the answer, and before it sleeps. On SQLite there is no pool and nothing changes: connections are files, not
server processes.
"""
from django.db import connections


def pooled(alias: str = "default") -> bool:
    return bool(connections[alias].settings_dict.get("OPTIONS", {}).get("pool"))


def connection_release() -> None:
    """Give this thread's pooled connections back to their pools, unless a transaction is open on one (then it is
    kept: the transaction needs it). Cheap: the pool keeps the connection open for the next thread that asks."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None and not connection.in_atomic_block and pooled(connection.alias):
            connection.close()


def pools_forget() -> None:
    """In a process just forked from one that had opened a pool: drop the inherited pools without touching their
    connections (they are the parent's sockets, and the pool's own threads did not survive the fork). The first
    query opens a pool of the child's own."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    DatabaseWrapper._connection_pools.clear()
    for connection in connections.all(initialized_only=True):
        connection.connection = None
