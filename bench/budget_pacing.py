"""How long a change waits for the poller when polling asks for more calls than the account's budget allows.

A simulated trial account (50 calls a minute, 45 after the 10% reserve) and a poller polling every second (three
listings a poll: 180 calls a minute wanted), in real time, against a sandboxed Kafka. Every few seconds a
customer replies to one of the account's tickets; reported is the time from the reply to the poller publishing
the ticket again, with the calls of each account window and any 429.

    python -m bench.budget_pacing --minutes 4
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import time
from collections.abc import Sequence

from bench.budgeted_poller import NAMESPACE, budgeted_poller
from connectors.freshdesk.simulator.account import SimulatedAccount
from connectors.freshdesk.simulator.demo import generate_tickets
from connectors.publisher import KafkaPublisher, OutgoingMessage
from copilot.sandbox import machine, sandbox
from copilot.topics import TopicNames

TRIAL_LIMIT = 50
POLL_SECONDS = 1.0
TICKETS = 20


class TimedPublisher(KafkaPublisher):
    """Remembers when each ticket was last published."""

    def __init__(self, bootstrap_servers: str) -> None:
        super().__init__(bootstrap_servers)
        self._tickets_topic = TopicNames(NAMESPACE).tickets
        self.published: dict[int, float] = {}
        self.changed = asyncio.Condition()

    async def publish(self, messages: Sequence[OutgoingMessage], ack_seconds: float = 60.0) -> None:
        await super().publish(messages, ack_seconds)
        now = time.time()
        for m in messages:
            if m.topic == self._tickets_topic:
                self.published[int(m.key.rsplit("/", 1)[1])] = now
        async with self.changed:
            self.changed.notify_all()

    async def wait_for(self, ticket_id: int, after: float) -> float:
        """When the ticket was last published, once that is after `after` (a ticket is published once a poll at
        most, and polls are a second apart, so this is its first publication after `after`)."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.published.get(ticket_id, 0) >= after)
        return self.published[ticket_id]


async def measure(env: dict[str, str], minutes: float, seed: int) -> tuple[list[float], list[int], int, list[str]]:
    """(each reply's wait in seconds, calls in each finished account window, 429 responses, failed polls)"""
    account = SimulatedAccount()
    account.load_tickets(generate_tickets(TICKETS, seed=seed))
    waits: list[float] = []
    failures: list[str] = []
    async with budgeted_poller(env, "trial", account, TRIAL_LIMIT, TimedPublisher) as (poller, client, simulator):
        publisher = poller.publisher
        assert isinstance(publisher, TimedPublisher)
        await poller.sync_tickets()  # the backfill

        stop = asyncio.Event()

        async def poll() -> None:  # stopped as the sync service stops its pollers: between polls
            while not stop.is_set():
                try:
                    await poller.sync_tickets()
                except Exception as exc:  # noqa: BLE001 - as the sync service does: report, poll again
                    failures.append(repr(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), POLL_SECONDS)

        polling = asyncio.create_task(poll())
        rng = random.Random(seed)  # noqa: S311 - a benchmark's schedule
        end = time.monotonic() + minutes * 60
        while time.monotonic() < end:
            await asyncio.sleep(rng.uniform(3, 9))
            ticket_id = rng.choice(sorted(account.tickets))
            replied = time.time()
            account.add_conversation(ticket_id, "Any news on this?", private=False, incoming=True)
            waits.append(await asyncio.wait_for(publisher.wait_for(ticket_id, replied), 300) - replied)
        stop.set()
        await polling
    windows = simulator.window.closed
    return waits, windows, client.rate.throttled, failures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    with sandbox() as box:
        waits, windows, throttled, failures = asyncio.run(measure(box.env, args.minutes, args.seed))
    waits.sort()
    print(f"machine: {machine()}")
    p95 = statistics.quantiles(waits, n=20, method="inclusive")[-1]
    print(f"{len(waits)} replies, reply -> published again: mean {statistics.mean(waits):.1f} s, "
          f"p50 {statistics.median(waits):.1f} s, p95 {p95:.1f} s, max {waits[-1]:.1f} s")
    print(f"account windows (limit {TRIAL_LIMIT}, 45 after the reserve): {windows} calls; 429 responses: {throttled}; "
          f"failed polls: {len(failures)} {sorted(set(failures))[:3]}")


if __name__ == "__main__":
    main()
