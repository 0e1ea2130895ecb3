"""Freshdesk's timestamp format: UTC, whole seconds, `YYYY-MM-DDTHH:MM:SSZ`."""

from datetime import UTC, datetime

FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse(value: str) -> datetime:
    """Accepts Freshdesk's format and any ISO 8601 with an offset (clients send both)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def format_ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime(FORMAT)
