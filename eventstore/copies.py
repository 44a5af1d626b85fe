"""Rows a module keeps of another module's data (events.md §8): a version guard, tombstones, a read-through.

A copy has an ``id`` and the owner aggregate's ``version``, and may have ``removed`` (a tombstone: late events
cannot bring it back and its fields stay). An event changes a row only when its version is higher, and only a
live row. A row that does not exist yet is built from the owner's ``public`` facade (``build(id)``, ``None``
when the owner does not know the id) and inserted if still absent, so a concurrent insert wins and the
version guard then decides. Such a row carries the owner's current version, so a durable keeping a copy
handles every event of the owner's stream, an event that changes nothing it keeps with ``update`` and no
fields: the version then ends the same whichever way the row came (ADR 34). Every function runs inside the
caller's transaction.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from django.db import connection, models

from eventstore import codec, rows

Build = Callable[[str], "models.Model | None"]


def read(model: type[models.Model], key: str, build: Build, *, column: str = "") -> Any:
    """The row with id ``key`` (or only its ``column``), read through ``build`` on a miss; ``None`` if unknown."""

    def fetch() -> Any:
        return rows.value(model, column, "id = %s", [key]) if column else rows.first(model, "id = %s", [key])

    found = fetch()
    if found is None:
        row = build(key)
        if row is None:
            return None
        model.objects.bulk_create([row], ignore_conflicts=True)
        found = fetch()
    return found


def read_many_together(*wanted: tuple[type[models.Model], list[str], Build], before: str = "",
                        before_params: Sequence[Any] = ()) -> list[Any]:
    """``read`` for several ids of several tables in one statement: for each ``(model, keys, build)`` the
    ``{id: row}`` of the ids known here or to the owner, each table's rows coming as one JSON array; an id a
    table lacks is read through ``build`` as ``read`` does. ``before`` (with ``before_params``): SQL
    expressions selected in front of the arrays in the same statement, their values first in the result."""
    wanted_keys = [list(dict.fromkeys(keys)) for _, keys, _ in wanted]
    arrays = [f"(SELECT coalesce(json_agg(t), '[]')::text FROM {model._meta.db_table} t WHERE id = ANY(%s))"
              for model, _, _ in wanted]
    [values] = rows.fetch("SELECT " + ", ".join([before, *arrays] if before else arrays),
                          [*before_params, *wanted_keys])
    leading = len(values) - len(wanted)
    results = list(values[:leading])
    for (model, _, build), keys, array in zip(wanted, wanted_keys, values[leading:]):
        found = {row.pk: row for row in (_from_json(model, item) for item in codec.loads(array))}
        for key in keys:
            if key not in found and (row := read(model, key, build)) is not None:
                found[key] = row
        results.append(found)
    return results


def _from_json(model: type[models.Model], item: dict[str, Any]) -> models.Model:
    fields = model._meta.concrete_fields
    return model.from_db(connection.alias, [f.attname for f in fields], [f.to_python(item[f.column]) for f in fields])


def upsert(model: type[models.Model], key: str, version: int, **fields: Any) -> None:
    """Insert the row (an event that carries all of it), or update an older live one."""
    model.objects.bulk_create([model(id=key, version=version, **fields)], ignore_conflicts=True)
    _older_live(model, key, version).update(version=version, **fields)


def update(model: type[models.Model], key: str, version: int, build: Build, **fields: Any) -> None:
    """Set ``fields`` on the live row if ``version`` is newer; a missing row is first read through ``build``."""
    if not model.objects.filter(id=key).exists():
        read(model, key, build)
    _older_live(model, key, version).update(version=version, **fields)


def remove(model: type[models.Model], key: str, version: int, build: Build) -> None:
    """Turn the row into a tombstone keeping its fields; a missing row becomes one, from ``build`` if the owner
    still knows it, else with empty fields."""
    if not model.objects.filter(id=key).exists():
        row = build(key) or model(id=key, version=0)
        row.removed, row.version = True, max(version, row.version)
        model.objects.bulk_create([row], ignore_conflicts=True)
    model.objects.filter(id=key, removed=False).update(removed=True)
    model.objects.filter(id=key, version__lt=version).update(version=version)


def _older_live(model: type[models.Model], key: str, version: int) -> models.QuerySet:
    older = model.objects.filter(id=key, version__lt=version)
    return older.filter(removed=False) if any(f.name == "removed" for f in model._meta.concrete_fields) else older
