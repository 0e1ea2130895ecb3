"""The poller's durable state in Redis: its cursor, what it published, and the KB content hashes.

A ticket listed again at the inclusive `updated_since` boundary is skipped only when we already published
that `updated_at` and saw it after its whole second had passed (plus a margin for clock skew): a later change
within the same second is then impossible, so nothing is lost and nothing is re-fetched needlessly. What was
published of each ticket (connectors.changes.Published) also says which of a re-fetch is new.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from connectors.changes import Published, epoch_ms
from copilot.domain import TicketEvent

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SETTLE = timedelta(seconds=2)


def _from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


class SyncState:
    def __init__(self, redis: Redis, namespace: str, tenant: str) -> None:
        """`redis` must be created with decode_responses=True."""
        self._redis = redis
        base = f"{namespace}:sync:{tenant}"
        self._cursor = f"{base}:cursor"  # live tickets' cursor, poll times and the KB poll time
        self._feeds = f"{base}:feeds"  # cursors of the deleted and spam feeds
        self._published = f"{base}:published"
        self._kb = f"{base}:kb"

    async def cursor(self, feed: str | None = None) -> datetime:
        if feed:
            raw = await self._redis.hget(self._feeds, feed)
        else:
            raw = await self._redis.hget(self._cursor, "updated_since_ms")
        return _from_ms(int(raw)) if raw else EPOCH

    async def published(self, tickets: list[TicketEvent]) -> dict[int, Published]:
        """What was last published of each of these tickets that was published before."""
        if not tickets:
            return {}
        stored = await self._redis.hmget(self._published, [str(t.ticket_id) for t in tickets])
        return {t.ticket_id: Published.load(raw) for t, raw in zip(tickets, map(_str, stored), strict=True) if raw}

    async def commit(self, checked: dict[int, Published], cursor: datetime, feed: str | None = None) -> None:
        """Record what the broker acknowledged (and when each ticket was last checked) and move the feed's
        cursor, atomically."""
        async with self._redis.pipeline(transaction=True) as pipe:
            for ticket_id, published in checked.items():
                pipe.hset(self._published, str(ticket_id), published.dump())
            if feed:
                pipe.hset(self._feeds, feed, epoch_ms(cursor))
            else:
                pipe.hset(self._cursor, "updated_since_ms", epoch_ms(cursor))
                pipe.hsetnx(self._cursor, "first_cursor_ms", epoch_ms(cursor))  # where the backfill started
            await pipe.execute()

    async def record_poll(self, error: str | None) -> None:
        """A poll ended; a successful one means everything changed up to its start is published."""
        now = epoch_ms(datetime.now(UTC))
        await self._redis.hset(self._cursor, mapping={"last_poll_ms": now, "error": error or "",
                                                      **({} if error else {"last_success_ms": now})})

    async def kb_hashes(self) -> dict[str, str]:
        return {_str(k) or "": _str(v) or "" for k, v in (await self._redis.hgetall(self._kb)).items()}

    async def commit_kb(self, changed: dict[str, str], removed: Iterable[str]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for article_id, content_hash in changed.items():
                pipe.hset(self._kb, article_id, content_hash)
            for article_id in removed:
                pipe.hdel(self._kb, article_id)
            pipe.hset(self._cursor, "kb_polled_ms", epoch_ms(datetime.now(UTC)))
            await pipe.execute()

    async def summary(self) -> dict[str, object]:
        cursor = await self._redis.hgetall(self._cursor)
        return {
            "tickets_seen": await self._redis.hlen(self._published),
            "articles_seen": await self._redis.hlen(self._kb),
            "cursor": _iso(_str(cursor.get("updated_since_ms"))),
            "first_cursor": _iso(_str(cursor.get("first_cursor_ms"))),  # where the backfill started
            "last_poll": _iso(_str(cursor.get("last_poll_ms"))),
            "last_success": _iso(_str(cursor.get("last_success_ms"))),
            "last_error": cursor.get("error") or None,
            "lag_seconds": _age(_str(cursor.get("last_success_ms"))),
        }


def settled(ticket: TicketEvent, previous: Published | None) -> bool:
    """Nothing of this listing can be new: we saw this `updated_at` after its second had passed."""
    if previous is None:
        return False
    current = epoch_ms(ticket.updated_at)
    if current != previous.updated_ms:
        return current < previous.updated_ms
    return previous.seen_ms >= epoch_ms(ticket.updated_at + timedelta(seconds=1) + SETTLE)


def _str(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _age(ms: str | None) -> float | None:
    """Seconds since a stored instant: how stale the index's view of the helpdesk may be."""
    return round((epoch_ms(datetime.now(UTC)) - int(ms)) / 1000, 1) if ms else None


def _iso(ms: str | None) -> str | None:
    return _from_ms(int(ms)).isoformat() if ms else None
