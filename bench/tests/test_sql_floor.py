"""The SQL floor sends the statements the kernel's command path sends, in the same messages."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import database
from bench.kernel import Kernel
from bench.sql_floor import SqlFloor

pytestmark = pytest.mark.django_db(transaction=True)
LITERAL = re.compile(r"'(?:[^']|'')*'(?:::\w+)?|\b\d+\b")


def shape(sql: str) -> str:
    return LITERAL.sub("?", sql.strip())


def kernel_statements(operation) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        operation()
    return [shape(query["sql"]) for query in captured.captured_queries if query["sql"] not in ("BEGIN", "COMMIT")]


def floor_statements(floor: SqlFloor, operation) -> list[str]:
    sent: list[str] = []
    floor._send = lambda statements: sent.extend(shape(s) for s in statements if s not in ("BEGIN", "COMMIT")) or []
    operation()
    return sent


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
