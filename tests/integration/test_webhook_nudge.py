"""A Freshdesk webhook through the API wakes the tenant's poller long before its next interval."""

import asyncio

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from api.app import create_app
from connectors.freshdesk.simulator.account import SimulatedAccount
from connectors.freshdesk.simulator.demo import generate_tickets
from connectors.freshdesk.simulator.server import SimulatorConfig, create_simulator_app
from connectors.sync_service import SyncService
from connectors.sync_state import SyncState
from copilot.settings import Settings
from copilot.tenants import TenantRegistry
from copilot.vault import KeyVault
from tests.helpers import read_topic

TENANT = "nudge.freshdesk.test"
SAMPLE = {"freshdesk_webhook": {"triggered_event": "{ticket_action:created}", "ticket_id": "3",
                                "ticket_subject": "Test ticket subject", "ticket_status": "Pending"}}


async def _until(condition, seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_webhook_nudges_the_poller_and_rejects_bad_calls(service_env, monkeypatch):
    monkeypatch.setenv("COPILOT_POLL_INTERVAL", "30")
    settings = Settings()
    account = SimulatedAccount()
    account.load_tickets(generate_tickets(20, seed=5))
    simulator = TestServer(create_simulator_app(account, SimulatorConfig(TENANT, "k", rate_limit_per_minute=10_000)))
    await simulator.start_server()
    redis = Redis.from_url(settings.redis.url, decode_responses=True)
    vault = KeyVault.from_settings(settings.security.fernet_keys, "test", settings.stack.data_dir)
    _, secret = await TenantRegistry(redis, vault, settings.kafka.namespace).add(
        TENANT, "k", str(simulator.make_url("")).rstrip("/"))
    state = SyncState(redis, settings.kafka.namespace, TENANT)
    stop = asyncio.Event()
    sync = asyncio.create_task(SyncService(settings).run(stop))
    api = TestClient(TestServer(create_app(settings)))
    await api.start_server()
    try:
        await _until(lambda: _seen(state, 20), seconds=30)
        account.add_conversation(3, "<p>A reply the poller has not seen.</p>", private=False, incoming=True)
        url = f"/webhooks/freshdesk/{TENANT}"
        assert (await api.post(url, json=SAMPLE)).status == 401
        assert (await api.post(url, json=SAMPLE, headers={"X-Copilot-Webhook-Secret": "wrong"})).status == 401
        bad = await api.post(url, json={"freshdesk_webhook": {"ticket_id": "three"}},
                             headers={"X-Copilot-Webhook-Secret": secret})
        assert bad.status == 400 and (await bad.json())["field"] == "freshdesk_webhook.ticket_id"
        ok = await api.post(url, json=SAMPLE, headers={"X-Copilot-Webhook-Secret": secret})
        assert ok.status == 202 and (await ok.json())["ticket_id"] == 3

        async def republished() -> bool:
            topic = f"{settings.kafka.namespace}.freshdesk.tickets"
            records = await asyncio.to_thread(read_topic, settings.kafka.bootstrap_servers, topic)
            return sum(k.endswith(b"/ticket/3") for k, _ in records) == 2

        await _until(republished, seconds=10)  # the poll interval is 30 s
    finally:
        stop.set()
        await asyncio.wait_for(sync, 30)
        await api.close()
        await simulator.close()
        await redis.aclose()


async def _seen(state: SyncState, count: int) -> bool:
    return (await state.summary())["tickets_seen"] == count
