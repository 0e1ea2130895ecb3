"""Backfill efficiency against a simulated Freshdesk Pro account (400 calls per minute), in real time.

The poller (with the Redis-shared budget, 10% reserve) syncs N generated tickets from the simulator into a
sandboxed Kafka. Reports API calls per synced ticket, 429 responses, and the achieved call rate against the
account's limit.

    python -m bench.freshdesk_sync --tickets 1500
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench.budgeted_poller import budgeted_poller
from connectors.freshdesk.simulator.account import SimulatedAccount
from connectors.freshdesk.simulator.demo import generate_tickets
from copilot.sandbox import machine, sandbox

PRO_LIMIT = 400


async def backfill(env: dict[str, str], count: int) -> dict[str, float]:
    account = SimulatedAccount()
    account.load_tickets(generate_tickets(count, seed=21))
    async with budgeted_poller(env, "pro", account, PRO_LIMIT) as (poller, client, simulator):
        start = time.monotonic()
        result = await poller.sync_tickets()
        elapsed = time.monotonic() - start
    served, windows = simulator.calls, simulator.window.closed
    return {"tickets": result.tickets, "calls": served, "throttled": client.rate.throttled,
            "minutes": elapsed / 60, "busiest": max(windows, default=served),
            "full_windows": len(windows), "per_full_window": sum(windows) / max(1, len(windows))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1500)
    args = parser.parse_args()
    with sandbox() as box:
        r = asyncio.run(backfill(box.env, args.tickets))
    print(f"machine: {machine()}")
    share = PRO_LIMIT * 0.9
    print(f"synced {r['tickets']:.0f} tickets with {r['calls']:.0f} API calls = {r['calls'] / r['tickets']:.3f} "
          f"calls/ticket; 429 responses: {r['throttled']:.0f}; {r['minutes']:.2f} min")
    print(f"account windows: {r['full_windows']:.0f} complete, {r['per_full_window']:.0f} calls each on average "
          f"= {r['per_full_window'] / share:.0%} of the {share:.0f}-call share (limit {PRO_LIMIT}, 10% reserved); "
          f"busiest window {r['busiest']:.0f} calls = {r['busiest'] / PRO_LIMIT:.0%} of the limit")


if __name__ == "__main__":
    main()
