"""Agents' ticket scopes: asked of the (simulated) Freshdesk agents API, cached in Redis, refused when unsure."""

import asyncio

import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from api.agent_scope import AgentScopes
from api.errors import RequestError
from connectors.freshdesk.simulator.account import SimulatedAccount
from connectors.freshdesk.simulator.server import SimulatorConfig, create_simulator_app
from copilot.agent_scope import GROUP, RESTRICTED
from copilot.settings import Settings
from copilot.tenants import TenantRegistry
from copilot.vault import KeyVault

TENANT, DOWN = "scopes.freshdesk.test", "down.freshdesk.test"


async def test_scopes_are_cached_for_their_ttl_and_uncertainty_refuses(service_env):
    settings = Settings()
    account = SimulatedAccount()
    agent = account.create_agent({"email": "a@scopes.example", "ticket_scope": 2, "group_ids": [5]})
    simulator = TestServer(create_simulator_app(account, SimulatorConfig(TENANT, "k")))
    await simulator.start_server()
    redis = Redis.from_url(settings.redis.url, decode_responses=True)
    registry = TenantRegistry(redis, KeyVault.from_settings(settings.security.fernet_keys, "test",
                                                            settings.stack.data_dir), settings.kafka.namespace)
    tenant, _ = await registry.add(TENANT, "k", str(simulator.make_url("")))
    scopes = AgentScopes(redis, registry, settings.kafka.namespace, ttl_seconds=1)
    try:
        first = await scopes.of(tenant, agent["id"])
        assert (first.kind, first.group_ids) == (GROUP, (5,))
        account.update_agent(agent["id"], {"ticket_scope": 3})
        assert await scopes.of(tenant, agent["id"]) == first  # from Redis: the helpdesk is not asked again
        await asyncio.sleep(1.2)
        assert (await scopes.of(tenant, agent["id"])).kind == RESTRICTED  # the change, once the TTL passed

        with pytest.raises(RequestError) as unknown:
            await scopes.of(tenant, 424242)
        assert unknown.value.response.status == 403
        down, _ = await registry.add(DOWN, "k", "http://127.0.0.1:9")  # nothing listens there
        with pytest.raises(RequestError) as unreachable:
            await scopes.of(down, agent["id"])
        assert unreachable.value.response.status == 502
    finally:
        await simulator.close()
        await redis.aclose()
