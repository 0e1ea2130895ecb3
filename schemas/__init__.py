"""The Avro contracts (`*.avsc`, the source of truth for every topic's values) and their codec."""

from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent
