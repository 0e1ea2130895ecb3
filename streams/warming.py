"""Searches the neighbourhoods of open and pending tickets right after they are indexed, so an agent opening
one gets /init from Redis instead of waiting for four Milvus searches.

Best effort, because it is a cache. Warm-ups run one at a time in the background (never holding up an agent
or its commits), and only for a tenant whose index has been quiet for SETTLE seconds: during a backfill every
search would race the next write (copilot.result_cache then stores nothing) and would slow the backfill
down, so its open tickets wait, cheaply, until it ends. An entry that still lost a race is searched again
after a growing pause, up to RETRIES times. At most QUEUE_LIMIT tickets wait; more are left to /init.
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
SETTLE = 1.0  # seconds a tenant's index generation must stay the same before its tickets are searched

# (tenant, ticket_id) -> whether the neighbourhood was stored (False: the tenant's index changed meanwhile),
# None when the ticket is no longer indexed
WarmOne = Callable[[str, int], Awaitable[bool | None]]
Generation = Callable[[str], Awaitable[str]]  # tenant -> its index generation (copilot.result_cache)


class Warmer:
    def __init__(self, warm_one: WarmOne, generation: Generation, enabled: bool = True, first_pause: float = 1.0,
                 settle: float = SETTLE) -> None:
        self._warm_one = warm_one
        self._generation = generation
        self._enabled = enabled
        self._first_pause = first_pause
        self._settle = settle
        # tenant -> ticket -> (attempts so far, not before this monotonic time); insertion order is the queue
        self._queues: dict[str, dict[int, tuple[int, float]]] = {}
        self._quiet_since: dict[str, tuple[str, float]] = {}  # tenant -> (generation, when it was first read)
        self._task: asyncio.Task[None] | None = None

    def add(self, tenant: str, ticket_ids: Iterable[int]) -> None:
        if not self._enabled:
            return
        queue = self._queues.setdefault(tenant, {})
        for ticket_id in ticket_ids:
            if sum(len(q) for q in self._queues.values()) >= QUEUE_LIMIT:
                NEIGHBOURHOODS_WARMED.labels("dropped").inc()
                continue
            queue.pop(ticket_id, None)
            queue[ticket_id] = (0, 0.0)  # a ticket changed again goes to the back, its retries afresh
        if not self.busy() and any(self._queues.values()):
            self._task = asyncio.create_task(self._run())

    def busy(self) -> bool:
        """Tickets wait, or one is being searched."""
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while any(self._queues.values()):
            searched = False
            for tenant in [t for t, q in self._queues.items() if q]:
                if await self._quiet(tenant):
                    searched = await self._warm_due(tenant) or searched
            if not searched:
                await asyncio.sleep(self._settle / 2)

    async def _quiet(self, tenant: str) -> bool:
        generation, now = await self._generation(tenant), time.monotonic()
        seen = self._quiet_since.get(tenant)
        if seen is None or seen[0] != generation:
            self._quiet_since[tenant] = (generation, now)
            return False
        return now - seen[1] >= self._settle

    async def _warm_due(self, tenant: str) -> bool:
        """Searches the tenant's tickets that are due, until one loses a race (the tenant writes again)."""
        queue, now = self._queues[tenant], time.monotonic()
        due = [ticket_id for ticket_id, (_, not_before) in queue.items() if not_before <= now]
        for ticket_id in due:
            attempts, _ = queue.pop(ticket_id)
            try:
                stored = await self._warm_one(tenant, ticket_id)
            except Exception:  # noqa: BLE001 - a cache: log, count, and go on with the next ticket
                log.exception("warming the neighbourhood of ticket %s of %s failed", ticket_id, tenant)
                NEIGHBOURHOODS_WARMED.labels("failed").inc()
                continue
            if stored:
                NEIGHBOURHOODS_WARMED.labels("stored").inc()
            elif stored is False:
                NEIGHBOURHOODS_WARMED.labels("raced").inc()
                if attempts + 1 < RETRIES:
                    pause = self._first_pause * 2 ** attempts
                    queue.setdefault(ticket_id, (attempts + 1, time.monotonic() + pause))
                break
        return bool(due)
