"""`copilot sync --progress`: one rich progress bar per tenant while its history is being backfilled.

Freshdesk cannot say how many tickets an account holds without spending calls, so the bar measures time
instead: how far the cursor has moved from where the backfill started towards now. Tickets are listed in
`updated_at` order, so that fraction is the share of the history done, and rich derives the ETA from it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeRemainingColumn

from connectors.freshdesk.client import RateLimitState
from connectors.sync_state import SyncState
from copilot.domain import utcnow

REFRESH_SECONDS = 0.5


def history_done(start: datetime | None, cursor: datetime | None, now: datetime, finished: bool) -> float:
    """Share of the history from `start` (the first committed cursor) to `now` that the cursor has passed;
    1 once a poll went through every page, however old the newest ticket is."""
    if finished:
        return 1.0
    if start is None or cursor is None:
        return 0.0
    span = (now - start).total_seconds()
    return 1.0 if span <= 0 else min(1.0, max(0.0, (cursor - start).total_seconds() / span))


class BackfillProgress:
    """Renders each registered tenant's sync: share of history, tickets synced, calls used and left."""

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
            TextColumn("{task.fields[tickets]:>7,} tickets  {task.fields[calls]:>7,} calls  "
                       "{task.fields[left]} left this minute"),
            TimeRemainingColumn(), console=console, refresh_per_second=1 / REFRESH_SECONDS,
        )
        self._tenants: dict[str, tuple[TaskID, SyncState, RateLimitState]] = {}

    def add(self, tenant: str, state: SyncState, rate: RateLimitState) -> None:
        """Show a tenant; a tenant whose polling loop restarted keeps its bar, fed by the new client."""
        known = self._tenants.get(tenant)
        task = known[0] if known else self._progress.add_task(tenant, total=1000, tickets=0, calls=0, left="?")
        self._tenants[tenant] = (task, state, rate)

    async def refresh(self) -> None:
        now = utcnow()
        for task, state, rate in self._tenants.values():
            summary = await state.summary()
            finished = bool(summary["last_poll"]) and not summary["last_error"]
            done = history_done(_instant(summary["first_cursor"]), _instant(summary["cursor"]), now, finished)
            left = "?" if rate.remaining is None else f"{rate.remaining:,}"
            self._progress.update(task, completed=round(1000 * done), tickets=summary["tickets_seen"],
                                  calls=rate.calls, left=left)

    async def run(self, stop: asyncio.Event) -> None:
        with self._progress:
            while not stop.is_set():
                await self.refresh()
                try:
                    await asyncio.wait_for(stop.wait(), REFRESH_SECONDS)
                except TimeoutError:
                    pass
            await self.refresh()


def _instant(iso: object) -> datetime | None:
    return datetime.fromisoformat(str(iso)) if iso else None
