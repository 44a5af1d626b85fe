"""The event store's own statements sent by psycopg alone: how fast the kernel figures could be with no Python.

``pg_insert`` is the physical limit of one row per commit. The kernel's commands send more than one row:
an event, an outbox row (the toy handler's), and for an existing aggregate a read of the stream first
(the aggregate cache's check). ``SqlFloor`` sends exactly those statements, built from the kernel's own
SQL (``eventstore.store``, ``eventstore.outbox``) and sent the way ``eventstore.backend`` sends them (ADR 35):
the read ahead of the transaction, the writes as one statement (``one_statement``), each a prepared
statement in autocommit, from one connection, and nothing else: no Django, no domain, no handlers. The ratio
of these figures to ``pg_insert`` is the most the kernel targets of quality.md §1.2 can reach with this schema
and these statements; the kernel's figures are measured in the same rounds.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import psycopg

from bench import payloads

TOY_STREAM = "toy.Counter"


class SqlFloor:
    """``append``, ``new`` and ``existing`` send one operation's messages; use as a context manager."""

    def __init__(self, conninfo: str):
        from eventstore import outbox, store
        from eventstore.backend.base import one_statement

        self.conninfo, self.one_statement = conninfo, one_statement
        self.insert_event = store._INSERT_PREFIX + store._ROW
        self.insert_outbox = outbox._INSERT
        self.load_since = store._LOAD_SINCE
        self.raw_payload = json.dumps(payloads.json_payload(300), separators=(",", ":"))
        self.metadata = {"correlation_id": str(uuid.uuid4()), "causation_id": str(uuid.uuid4()),
                         "traceparent": f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01", "actor": "system:bench"}
        self.streams: list[tuple[str, int]] = []

    def __enter__(self) -> "SqlFloor":
        self.conn = psycopg.connect(self.conninfo, autocommit=True, prepare_threshold=0)
        return self

    def __exit__(self, *exc) -> None:
        self.conn.close()

    def _read(self, sql: str, params: list) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    def _write(self, writes: list[tuple[str, list]]) -> None:
        self.conn.execute(*self.one_statement(writes))

    def _event(self, stream_type: str, stream_id: str, version: int, name: str, payload: str) -> tuple[str, list]:
        return self.insert_event, [str(uuid.uuid4()), stream_type, stream_id, version, name, 1, payload,
                                   json.dumps(self.metadata), dt.datetime.now(dt.UTC)]

    def _outbox(self, name: str, subject: str, payload: str, stream_id: str, version: int) -> tuple[str, list]:
        metadata = {**self.metadata, "aggregate_type": TOY_STREAM, "aggregate_id": stream_id,
                    "aggregate_version": version, "occurred_at": dt.datetime.now(dt.UTC).isoformat()}
        return self.insert_outbox, [str(uuid.uuid4()), name, subject, payload, json.dumps(metadata),
                                    dt.datetime.now(dt.UTC)]

    def append(self, _: int = 0) -> None:
        """``event_append``: one ~300-byte event on a new stream, one statement."""
        self._write([self._event("bench.Raw", str(uuid.uuid4()), 1, "bench.RawAppended", self.raw_payload)])

    def new(self, _: int = 0) -> None:
        """``command_new``: a new counter's event and its outbox row, one statement."""
        stream_id = str(uuid.uuid4())
        self._write([self._event(TOY_STREAM, stream_id, 1, "toy.CounterOpened", '{"title":"bench","limit":12.5}'),
                     self._outbox("toy.CounterOpened", "mallbots.toy.events.Counter",
                                  f'{{"id":"{stream_id}","title":"bench","limit":12.5}}', stream_id, 1)])
        self.streams.append((stream_id, 1))

    def existing(self, i: int) -> None:
        """``command_existing``: the cache's check (the stream's events from the cached version), then the next
        event and its outbox row as one statement — two round trips."""
        stream_id, version = self.streams[i % len(self.streams)]
        self._read(self.load_since, [TOY_STREAM, stream_id, version])
        self._write([self._event(TOY_STREAM, stream_id, version + 1, "toy.CounterIncremented", '{"by":1}'),
                     self._outbox("toy.CounterIncremented", "mallbots.toy.events.Counter",
                                  f'{{"id":"{stream_id}","by":1}}', stream_id, version + 1)])
        self.streams[i % len(self.streams)] = (stream_id, version + 1)

    def open(self, count: int) -> None:
        """``count`` new counters for ``existing`` to take turns on (the ones opened before are dropped)."""
        self.streams = []
        for _ in range(count):
            self.new()
