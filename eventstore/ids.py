"""Identifiers: server ids are UUID v4; any id is malformed if empty, > 64 chars or has odd characters."""

import re
import uuid

_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def new_id() -> str:
    return str(uuid.uuid4())


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and bool(_VALID.match(value))
