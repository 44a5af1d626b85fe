"""Baseline `pg_insert` (quality.md §1.1): one ~300-byte JSONB row committed per round trip, psycopg 3, one connection.

The physical limit of "one row per commit" on this box: the connection is in autocommit, so the INSERT is
its own transaction and the server commits it before it answers (one message each way, the same
durability as ``BEGIN; INSERT; COMMIT``). ``rep_three_round_trips`` measures that older shape —
``BEGIN``, ``INSERT`` and ``COMMIT`` as three round trips, what psycopg does by default — for the note:
it is not the limit, so it is no baseline. Measured by ``bench.kernel`` in the same rounds as the event
store figures compared with it.
"""

from __future__ import annotations

import json
import uuid

import psycopg

from bench import core, payloads

TABLE = "bench_pg_insert"
NOTE = ("psycopg 3, one connection in autocommit: INSERT of a ~300-byte JSONB row, committed by the server in the "
        "same round trip; unique (stream, version), new stream per row")
INSERT = f"INSERT INTO {TABLE} (stream, version, payload) VALUES (%s, %s, %s::jsonb)"


class PgInsert:
    """An append-only scratch table; ``rep(seconds)`` returns rows/s. Use as a context manager."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.payload = json.dumps(payloads.json_payload(300), separators=(",", ":"))

    def __enter__(self) -> "PgInsert":
        self.conn = psycopg.connect(self.conninfo, autocommit=True)
        self.conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        self.conn.execute(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, stream text NOT NULL,"
                          " version integer NOT NULL, payload jsonb NOT NULL, UNIQUE (stream, version))")
        core.run_for(60, self.insert, max_ops=100)
        return self

    def insert(self, _: int = 0) -> None:
        """One INSERT, one round trip: the server commits it before answering (autocommit)."""
        self.conn.execute(INSERT, (str(uuid.uuid4()), 1, self.payload))

    def insert_three_round_trips(self, _: int = 0) -> None:
        """``BEGIN``, ``INSERT``, ``COMMIT``: what a psycopg connection outside autocommit sends."""
        with self.conn.transaction():
            self.conn.execute(INSERT, (str(uuid.uuid4()), 1, self.payload))

    def rep(self, seconds: float) -> float:
        return core.run_for(seconds, self.insert)

    def rep_three_round_trips(self, seconds: float) -> float:
        return core.run_for(seconds, self.insert_three_round_trips)

    def __exit__(self, *exc) -> None:
        try:
            self.conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        finally:
            self.conn.close()
