"""Searches the neighbourhoods of open and pending tickets right after they are indexed, so an agent opening
one gets /init from Redis instead of waiting for four Milvus searches.

Best effort, because it is a cache: warm-ups run one at a time in the background (never holding up an agent
or its commits), at most QUEUE_LIMIT tickets wait (more are left to /init's own search), and an entry that
lost a race with a write to its tenant (copilot.result_cache stores nothing then) is searched again after a
growing pause (other tickets go first meanwhile), up to RETRIES times.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from copilot.metrics import NEIGHBOURHOODS_WARMED

log = logging.getLogger(__name__)

WARM_STATUSES = frozenset({2, 3})  # open and pending: the tickets agents are working on
QUEUE_LIMIT = 10_000
RETRIES = 5

# (tenant, ticket_id) -> the neighbourhood, stored or not (False: the tenant's index changed meanwhile); None
# when the ticket is no longer indexed
WarmOne = Callable[[str, int], Awaitable[bool | None]]


class Warmer:
    def __init__(self, warm_one: WarmOne, enabled: bool = True, first_pause: float = 1.0) -> None:
        self._warm_one = warm_one
        self._enabled = enabled
        self._first_pause = first_pause
        # ticket -> (attempts so far, not before this monotonic time); insertion order is the queue
        self._waiting: dict[tuple[str, int], tuple[int, float]] = {}
        self._task: asyncio.Task[None] | None = None

    def add(self, tenant: str, ticket_ids: Iterable[int]) -> None:
        if not self._enabled:
            return
        for ticket_id in ticket_ids:
            if len(self._waiting) >= QUEUE_LIMIT:
                NEIGHBOURHOODS_WARMED.labels("dropped").inc()
                continue
            self._waiting[(tenant, ticket_id)] = (0, 0.0)  # a ticket changed again starts its retries afresh
        if self._waiting and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._run())

    def busy(self) -> bool:
        """Tickets wait, or one is being searched."""
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while self._waiting:
            now = time.monotonic()
            ticket = next((t for t, (_, due) in self._waiting.items() if due <= now), None)
            if ticket is None:
                await asyncio.sleep(min(due for _, due in self._waiting.values()) - now)
                continue
            attempts, _ = self._waiting.pop(ticket)
            try:
                stored = await self._warm_one(*ticket)
            except Exception:  # noqa: BLE001 - a cache: log, count, and go on with the next ticket
                log.exception("warming the neighbourhood of %s failed", ticket)
                NEIGHBOURHOODS_WARMED.labels("failed").inc()
                continue
            if stored:
                NEIGHBOURHOODS_WARMED.labels("stored").inc()
            elif stored is False:
                NEIGHBOURHOODS_WARMED.labels("raced").inc()
                if attempts + 1 < RETRIES:
                    pause = self._first_pause * 2 ** attempts
                    self._waiting.setdefault(ticket, (attempts + 1, time.monotonic() + pause))

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

