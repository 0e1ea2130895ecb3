"""One digest of JSON-like values for every content hash that decides what is done again (merged documents,
what the poller published, knowledge-base articles, cached results), so they cannot drift apart."""

from __future__ import annotations

import hashlib
import json


def json_digest(value: object) -> str:
    """SHA-256, in hex, of `value` as JSON with sorted keys; what JSON cannot carry (datetimes) counts as its
    `str()`."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
