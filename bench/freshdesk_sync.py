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

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from connectors.freshdesk.adapter import FreshdeskAdapter
from connectors.freshdesk.client import FreshdeskClient
from connectors.freshdesk.rate_budget import RateBudget
from connectors.freshdesk.simulator.account import SimulatedAccount
from connectors.freshdesk.simulator.demo import generate_tickets
from connectors.freshdesk.simulator.server import SIMULATOR, SimulatorConfig, create_simulator_app
from connectors.poller import TenantPoller
from connectors.publisher import KafkaPublisher
from connectors.sync_state import SyncState
from copilot.sandbox import machine, sandbox
from copilot.settings import KafkaSettings
from copilot.topics import TopicNames, ensure_topics

PRO_LIMIT = 400


async def backfill(env: dict[str, str], count: int) -> dict[str, float]:
    kafka = KafkaSettings(COPILOT_KAFKA_BOOTSTRAP=env["COPILOT_KAFKA_BOOTSTRAP"], COPILOT_NAMESPACE="sandbox",
                          COPILOT_KAFKA_PARTITIONS=2)
    ensure_topics(kafka)
    account = SimulatedAccount()
    account.load_tickets(generate_tickets(count, seed=21))
    server = TestServer(create_simulator_app(account, SimulatorConfig("pro", "k", rate_limit_per_minute=PRO_LIMIT)))
    await server.start_server()
    redis = Redis.from_url(env["COPILOT_REDIS_URL"], decode_responses=True)
    publisher = KafkaPublisher(kafka.bootstrap_servers)
    budget = RateBudget(redis, "sandbox", "pro", reserve_share=0.1)
    start = time.monotonic()
    async with FreshdeskClient(str(server.make_url("")), "k", budget=budget) as client:
        poller = TenantPoller("pro", FreshdeskAdapter("pro", client), publisher, SyncState(redis, "sandbox", "pro"),
                              TopicNames("sandbox"))
        result = await poller.sync_tickets()
    elapsed = time.monotonic() - start
    simulator = server.app[SIMULATOR]
    served, windows = simulator.calls, simulator.window.closed
    publisher.close()
    await redis.aclose()
    await server.close()
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
