"""The SQL floor sends the statements the kernel's command path sends, in the same shape (ADR 35)."""

from __future__ import annotations

import re

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import database
from bench.kernel import Kernel
from bench.sql_floor import SqlFloor
from eventstore.tests.test_backend import sent

pytestmark = pytest.mark.django_db(transaction=True)
LITERAL = re.compile(r"'(?:[^']|'')*'(?:::\w+)?|\b\d+\b")


def shape(sql: str) -> str:
    return LITERAL.sub("?", sql.split(" -- prepared, params ")[0].strip())


def kernel_statements(operation) -> list[tuple[str, list[str]]]:
    """What the kernel sent, as ``("read", [statement])`` and ``("write", [its parts])`` per round trip."""
    with CaptureQueriesContext(connection) as captured, sent() as messages:
        operation()
    assert not any(kind == "Query" for kind, _ in messages), "a literal message: not the prepared shape"
    logged = [shape(query["sql"]) for query in captured.captured_queries]
    trips: list[tuple[str, list[str]]] = []
    for statement in logged:
        if statement.startswith("SELECT"):
            trips.append(("read", [statement]))
        elif trips and trips[-1][0] == "write":
            trips[-1][1].append(statement)
        else:
            trips.append(("write", [statement]))
    return trips


def floor_statements(floor: SqlFloor, operation) -> list[tuple[str, list[str]]]:
    trips: list[tuple[str, list[str]]] = []
    with psycopg.ClientCursor(floor.conn) as cursor:
        floor._read = lambda sql, params: trips.append(("read", [shape(sql)])) or []
        floor._write = lambda writes: trips.append(("write", [shape(cursor.mogrify(s, p)) for s, p in writes]))
        operation()
    return trips


@pytest.fixture
def floor():
    with SqlFloor(database.conninfo(connection.settings_dict)) as opened:
        yield opened


def test_each_operation_sends_what_the_kernel_sends(floor):
    kernel = Kernel()
    [counter_id] = kernel.open(1)
    floor.streams = [(counter_id, 1)]

    assert floor_statements(floor, floor.append) == kernel_statements(kernel.raw_append)
    assert floor_statements(floor, floor.new) == kernel_statements(kernel.open)
    assert floor_statements(floor, lambda: floor.existing(0)) == kernel_statements(lambda: kernel.increment(counter_id))
