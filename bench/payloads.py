"""Fixed-size payloads shared by the baselines, so each measures the same bytes."""

from __future__ import annotations

import json
import uuid


def json_payload(size: int) -> dict:
    """A realistic-looking JSON object whose compact encoding is ``size`` bytes long."""
    base = {"orderId": str(uuid.uuid4()), "customerId": str(uuid.uuid4()), "storeId": str(uuid.uuid4()),
            "total": "12.50", "items": 3, "note": ""}
    filler = size - len(json.dumps(base, separators=(",", ":")))
    if filler < 0:
        raise ValueError(f"payload size {size} is below the minimum")
    base["note"] = "x" * filler
    return base


def encoded(size: int) -> bytes:
    return json.dumps(json_payload(size), separators=(",", ":")).encode()
