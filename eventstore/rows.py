"""Reads of model rows on hot paths without building a queryset each time (ADR 27).

Django compiles a queryset into SQL on every evaluation; for ``Model.objects.filter(id=x).first()`` that
costs several times the round trip it leads to. ``first(Model, "id = %s", [x])`` sends
``SELECT <every concrete column> FROM <table> WHERE id = %s LIMIT 1`` (the column list built once per
model) and returns the row as the ORM would: a model instance from ``Model.from_db`` with each field's
``from_db_value`` applied (JSON fields decoded with their own decoder). ``exists`` and ``value`` are the
same for ``.exists()`` and ``.values_list(col, flat=True).first()``, ``all`` for an ordered ``filter()``.

Only for reads whose condition is a fixed SQL text; anything composed at run time stays a queryset. Such a
read is sent as a prepared statement when nothing waits to go with it (``fetch_prepared``: the server plans it
once per connection, ADR 29) or, locking no rows, ahead of a pending ``BEGIN`` (ADR 35); behind deferred writes,
or a locking read behind ``BEGIN``, it travels with them as text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

from django.db import connection, models


@lru_cache(maxsize=None)
def _columns(model: type[models.Model]) -> tuple[str, tuple[str, ...], tuple[tuple[int, Any], ...]]:
    """(``SELECT … FROM …`` text, attribute names, (index, field) of the fields with ``from_db_value``)."""
    fields = [f for f in model._meta.concrete_fields]
    select = "SELECT {} FROM {}".format(", ".join(connection.ops.quote_name(f.column) for f in fields),
                                        connection.ops.quote_name(model._meta.db_table))
    converters = tuple((i, f) for i, f in enumerate(fields) if hasattr(f, "from_db_value"))
    return select, tuple(f.attname for f in fields), converters


def _instance(model: type[models.Model], names: tuple[str, ...], converters, row: Sequence[Any]):
    if converters:
        row = list(row)
        for index, field in converters:
            row[index] = field.from_db_value(row[index], None, connection)
    return model.from_db(connection.alias, names, row)


def fetch(sql: str, params: Sequence[Any], *, locks: bool = False) -> list[tuple]:
    """The rows of a fixed read (``sql`` is never composed at run time): prepared when nothing is pending on the
    connection or when it may run ahead of a pending ``BEGIN`` (it takes no row ``locks``, ADR 35), else sent
    with what is pending."""
    fetch_prepared = getattr(connection, "fetch_prepared", None)
    if fetch_prepared is not None and (not connection.has_pending or (not locks and connection.reads_ahead)):
        return fetch_prepared(sql, params, locks=locks)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def first(model: type[models.Model], where: str, params: Sequence[Any], *, order_by: str = "",
          for_update: bool = False):
    """The first row of ``model`` matching ``where`` (``ORDER BY order_by`` if given), or ``None``.

    Without ``order_by`` the condition must single out one row (a primary or unique key), as the
    queryset's ``first()`` would then order by primary key.
    """
    select, names, converters = _columns(model)
    sql = f"{select} WHERE {where}" + (f" ORDER BY {order_by}" if order_by else "") + " LIMIT 1" + (
        " FOR UPDATE" if for_update else "")
    found = fetch(sql, list(params), locks=for_update)
    return _instance(model, names, converters, found[0]) if found else None


def all(model: type[models.Model], where: str, params: Sequence[Any], *, order_by: str) -> list:
    """Every row of ``model`` matching ``where`` in ``ORDER BY order_by`` order, as model instances."""
    select, names, converters = _columns(model)
    return [_instance(model, names, converters, row)
            for row in fetch(f"{select} WHERE {where} ORDER BY {order_by}", list(params))]


def exists(model: type[models.Model], where: str, params: Sequence[Any]) -> bool:
    """Whether a row of ``model`` matches ``where``."""
    return bool(fetch(f"SELECT 1 FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {where} LIMIT 1",
                       list(params)))


def value(model: type[models.Model], column: str, where: str, params: Sequence[Any], *, order_by: str = "") -> Any:
    """One column of the first row matching ``where`` (``ORDER BY order_by`` if given; raw, no
    ``from_db_value``), or ``None``."""
    found = fetch(f"SELECT {column} FROM {connection.ops.quote_name(model._meta.db_table)} WHERE {where}"
                   + (f" ORDER BY {order_by}" if order_by else "") + " LIMIT 1", list(params))
    return found[0][0] if found else None


@lru_cache(maxsize=None)
def _joined(model: type[models.Model], other: type[models.Model], on: str, order_by: str = "") -> str:
    """``SELECT`` every column of ``model`` (alias ``p``) and of ``other`` (alias ``o``, joined ``ON on``) for the
    ``model`` row whose primary key is the parameter."""
    quote = connection.ops.quote_name
    columns = [f"p.{quote(f.column)}" for f in model._meta.concrete_fields] + [
        f"o.{quote(f.column)}" for f in other._meta.concrete_fields]
    return (f"SELECT {', '.join(columns)} FROM {model._meta.db_table} p LEFT JOIN {other._meta.db_table} o"
            f" ON {on} WHERE p.{quote(model._meta.pk.column)} = %s" + (f" ORDER BY o.{quote(order_by)}" if order_by else ""))


def _split(model: type[models.Model], other: type[models.Model], found: list[tuple]) -> tuple[Any, list]:
    """The ``model`` instance of the first joined row and the ``other`` instances of every row that has one."""
    _, names, converters = _columns(model)
    _, other_names, other_converters = _columns(other)
    width, other_pk = len(names), other_names.index(other._meta.pk.attname)
    return (_instance(model, names, converters, found[0][:width]),
            [_instance(other, other_names, other_converters, row[width:]) for row in found
             if row[width + other_pk] is not None])


def first_with_all(model: type[models.Model], key: Any, child: type[models.Model], child_key: str, *,
                   order_by: str) -> tuple[Any, list]:
    """The row of ``model`` whose primary key is ``key`` (``None`` if none) and the rows of ``child`` whose
    ``child_key`` column holds that key, ordered by their column ``order_by``: ``first`` and ``all`` in one
    statement (a LEFT JOIN)."""
    quote = connection.ops.quote_name
    found = fetch(_joined(model, child, f"o.{quote(child_key)} = p.{quote(model._meta.pk.column)}", order_by), [key])
    return _split(model, child, found) if found else (None, [])


def first_with_related(model: type[models.Model], key: Any, related: type[models.Model], column: str) -> tuple[
        Any, Any]:
    """The row of ``model`` whose primary key is ``key`` and the row of ``related`` whose primary key its
    ``column`` holds (each ``None`` if missing): two ``first`` reads in one statement (a LEFT JOIN)."""
    quote = connection.ops.quote_name
    found = fetch(_joined(model, related, f"o.{quote(related._meta.pk.column)} = p.{quote(column)}"), [key])
    if not found:
        return None, None
    row, others = _split(model, related, found)
    return row, (others[0] if others else None)
