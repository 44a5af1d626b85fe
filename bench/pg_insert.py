"""Baseline `pg_insert` (quality.md §1.1): one ~300-byte JSONB row per COMMIT, psycopg 3, one connection.

Measured by ``bench.kernel`` in the same rounds as the event store figures it is compared with.
"""

from __future__ import annotations

import json
import uuid

import psycopg

from bench import core, payloads

TABLE = "bench_pg_insert"
NOTE = "psycopg 3, one connection, INSERT of a ~300-byte JSONB row + COMMIT, unique (stream, version), new stream per row"


class PgInsert:
    """An append-only scratch table; ``rep(seconds)`` returns rows/s. Use as a context manager."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.payload = json.dumps(payloads.json_payload(300), separators=(",", ":"))

    def __enter__(self) -> "PgInsert":
        self.conn = psycopg.connect(self.conninfo)
        self.conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        self.conn.execute(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, stream text NOT NULL,"
                          " version integer NOT NULL, payload jsonb NOT NULL, UNIQUE (stream, version))")
        self.conn.commit()
        core.run_for(60, self.insert, max_ops=100)
        return self

    def insert(self, _: int = 0) -> None:
        self.conn.execute(f"INSERT INTO {TABLE} (stream, version, payload) VALUES (%s, %s, %s::jsonb)",
                          (str(uuid.uuid4()), 1, self.payload))
        self.conn.commit()

    def rep(self, seconds: float) -> float:
        return core.run_for(seconds, self.insert)

    def __exit__(self, *exc) -> None:
        try:
            self.conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
            self.conn.commit()
        finally:
            self.conn.close()
