"""The benchmark's own database, recreated on every run next to the configured one."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

BENCH_DATABASE = os.environ.get("BENCH_DATABASE_NAME", "mallbots_bench")


def conninfo(settings_dict: dict) -> str:
    """A libpq conninfo string for a Django ``DATABASES`` entry (host may be a unix socket directory)."""
    parts = {"dbname": settings_dict["NAME"], "user": settings_dict.get("USER") or None,
             "password": settings_dict.get("PASSWORD") or None, "host": settings_dict.get("HOST") or None,
             "port": str(settings_dict["PORT"]) if settings_dict.get("PORT") else None}
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in parts.items() if v is not None})


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def recreate(settings_dict: dict, name: str = BENCH_DATABASE) -> None:
    """Drop (forcibly) and create database ``name`` on the server of ``settings_dict``.

    Refuses to touch the configured database itself.
    """
    if name == settings_dict["NAME"]:
        raise RuntimeError(f"the benchmark database must differ from the configured one ({name})")
    with psycopg.connect(conninfo(settings_dict), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
