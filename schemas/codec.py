"""Avro single-object encoding of the contracts in this folder.

Each message starts with the marker C3 01 and the writer schema's CRC-64-AVRO fingerprint, so a reader can
pick the exact writer schema among the current and historical versions and resolve it to the current one.
"""

from __future__ import annotations

import io
import json
from functools import cache
from typing import Any

import fastavro
from fastavro.schema import fingerprint, to_parsing_canonical_form

from copilot.errors import SerializationError
from schemas import SCHEMA_DIR

MARKER = b"\xc3\x01"
NAMESPACE = "com.freshdeskcopilot"
# Named types must be parsed before the records that use them.
LOAD_ORDER = (
    "attachment", "ticket_event", "conversation_event", "article_event", "merged_conversation",
    "merged_document", "summary", "summarized_document", "dead_letter", "feedback_event",
)


class AvroCodec:
    """Encodes with the current schema of a record; decodes anything written with a known version."""

    def __init__(self) -> None:
        named: dict[str, Any] = {}
        self._current: dict[str, Any] = {}
        self._by_fingerprint: dict[bytes, Any] = {}
        self._fingerprint_of: dict[str, bytes] = {}
        for stem in LOAD_ORDER:
            parsed = fastavro.parse_schema(_load(f"{stem}.avsc"), named_schemas=named)
            self._register(parsed, current=True)
        for path in sorted((SCHEMA_DIR / "history").glob("*.avsc")):
            self._register(fastavro.parse_schema(_load(f"history/{path.name}"), named_schemas={**named}))

    def _register(self, parsed: Any, current: bool = False) -> None:
        fp = bytes.fromhex(fingerprint(to_parsing_canonical_form(parsed), "CRC-64-AVRO"))
        self._by_fingerprint[fp] = parsed
        if current:
            self._current[parsed["name"]] = parsed
            self._fingerprint_of[parsed["name"]] = fp

    def encode(self, record: str, value: dict[str, Any]) -> bytes:
        schema = self._current[_full(record)]
        buf = io.BytesIO()
        buf.write(MARKER + self._fingerprint_of[schema["name"]])
        try:
            fastavro.schemaless_writer(buf, schema, value)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SerializationError(f"cannot encode {record}: {exc}") from exc
        return buf.getvalue()

    def decode(self, record: str, data: bytes) -> dict[str, Any]:
        if len(data) < 10 or data[:2] != MARKER:
            raise SerializationError(f"not an Avro single-object message for {record} (bad marker)")
        writer = self._by_fingerprint.get(data[2:10])
        if writer is None:
            raise SerializationError(f"unknown writer schema fingerprint {data[2:10].hex()} for {record}")
        reader = self._current[_full(record)]
        try:
            return fastavro.schemaless_reader(io.BytesIO(data[10:]), writer, reader)  # type: ignore[return-value]
        except Exception as exc:  # fastavro raises many types on corrupt input
            raise SerializationError(f"cannot decode {record}: {exc}") from exc

    def fingerprint_of(self, record: str) -> bytes:
        return self._fingerprint_of[_full(record)]


def _full(record: str) -> str:
    return record if "." in record else f"{NAMESPACE}.{record}"


def _load(relative: str) -> Any:
    return json.loads((SCHEMA_DIR / relative).read_text())


@cache
def default_codec() -> AvroCodec:
    """One parsed set of contracts per process: parsing is not free and the files do not change."""
    return AvroCodec()
