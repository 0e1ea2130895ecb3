"""The poller of the Freshdesk benchmarks: a simulated account with a per-minute limit, served over HTTP, and a
poller with the Redis-shared budget (10% reserve) publishing to a sandbox's Kafka, in real time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from connectors.freshdesk.adapter import FreshdeskAdapter
from connectors.freshdesk.client import FreshdeskClient
from connectors.freshdesk.rate_budget import RateBudget
from connectors.freshdesk.simulator.account import SimulatedAccount
from connectors.freshdesk.simulator.server import SIMULATOR, Simulator, SimulatorConfig, create_simulator_app
from connectors.poller import TenantPoller
from connectors.publisher import KafkaPublisher
from connectors.sync_state import SyncState
from copilot.settings import KafkaSettings
from copilot.topics import TopicNames, ensure_topics

NAMESPACE = "sandbox"
RESERVE = 0.1


@asynccontextmanager
async def budgeted_poller(env: dict[str, str], tenant: str, account: SimulatedAccount, limit_per_minute: int,
                          publisher: type[KafkaPublisher] = KafkaPublisher
                          ) -> AsyncIterator[tuple[TenantPoller, FreshdeskClient, Simulator]]:
    """(the poller, its client, whose `rate` counts 429s, and the simulator, which counts each window's calls)"""
    kafka = KafkaSettings(COPILOT_KAFKA_BOOTSTRAP=env["COPILOT_KAFKA_BOOTSTRAP"], COPILOT_NAMESPACE=NAMESPACE,
                          COPILOT_KAFKA_PARTITIONS=2)
    ensure_topics(kafka)
    server = TestServer(create_simulator_app(account, SimulatorConfig(tenant, "k",
                                                                      rate_limit_per_minute=limit_per_minute)))
    await server.start_server()
    redis = Redis.from_url(env["COPILOT_REDIS_URL"], decode_responses=True)
    sink = publisher(kafka.bootstrap_servers)
    try:
        async with FreshdeskClient(str(server.make_url("")), "k",
                                   budget=RateBudget(redis, NAMESPACE, tenant, reserve_share=RESERVE)) as client:
            yield (TenantPoller(tenant, FreshdeskAdapter(tenant, client), sink, SyncState(redis, NAMESPACE, tenant),
                                TopicNames(NAMESPACE)), client, server.app[SIMULATOR])
    finally:
        sink.close()
        await redis.aclose()
        await server.close()
