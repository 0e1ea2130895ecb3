"""`copilot sync`: one polling loop per registered tenant, picking up tenants registered later."""

from __future__ import annotations

import asyncio
import logging
import time

from connectors.backfill_progress import BackfillProgress
from connectors.freshdesk.adapter import FreshdeskAdapter
from connectors.freshdesk.client import FreshdeskClient
from connectors.freshdesk.rate_budget import RateBudget
from connectors.poller import TenantPoller
from connectors.publisher import KafkaPublisher
from connectors.sync_state import SyncState
from copilot.errors import CopilotError
from copilot.nudges import NudgeListener
from copilot.redis_client import connect
from copilot.settings import Settings
from copilot.tenants import Tenant, TenantRegistry
from copilot.topics import TopicNames, ensure_topics
from copilot.vault import KeyVault

log = logging.getLogger(__name__)


class SyncService:
    def __init__(self, settings: Settings, progress: BackfillProgress | None = None) -> None:
        self.settings = settings
        self.progress = progress
        self.redis = connect(settings.redis)
        vault = KeyVault.from_settings(settings.security.fernet_keys, settings.security.environment,
                                       settings.stack.data_dir)
        self.registry = TenantRegistry(self.redis, vault, settings.kafka.namespace)
        self.publisher = KafkaPublisher(settings.kafka.bootstrap_servers)
        self.topics = TopicNames(settings.kafka.namespace)
        self.nudges = NudgeListener(self.redis, settings.kafka.namespace)
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        await asyncio.to_thread(ensure_topics, self.settings.kafka)
        listener = asyncio.create_task(self.nudges.run(stop))
        helpers = [listener, *([asyncio.create_task(self.progress.run(stop))] if self.progress else [])]
        try:
            while not stop.is_set():
                for tenant in await self.registry.all():
                    if tenant.tenant_id not in self._tasks or self._tasks[tenant.tenant_id].done():
                        self._tasks[tenant.tenant_id] = asyncio.create_task(self._tenant_loop(tenant, stop))
                await _wait(stop, self.settings.poller.interval_seconds)
        finally:
            for task in [*self._tasks.values(), *helpers]:
                task.cancel()
            await asyncio.gather(*self._tasks.values(), *helpers, return_exceptions=True)
            self.publisher.close()
            await self.redis.aclose()

    async def _tenant_loop(self, tenant: Tenant, stop: asyncio.Event) -> None:
        p = self.settings.poller
        api_key = await self.registry.api_key(tenant)
        state = SyncState(self.redis, self.settings.kafka.namespace, tenant.tenant_id)
        budget = RateBudget(self.redis, self.settings.kafka.namespace, tenant.tenant_id, p.rate_reserve_share)
        async with FreshdeskClient(tenant.base_url, api_key, timeout=p.request_timeout_seconds,
                                   max_retries=p.max_retries, budget=budget) as client:
            if self.progress:
                self.progress.add(tenant.tenant_id, state, client.rate)
            poller = TenantPoller(tenant.tenant_id, FreshdeskAdapter(tenant.tenant_id, client), self.publisher,
                                  state, self.topics)
            kb_due = 0.0
            while not stop.is_set():
                error = None
                try:
                    result = await poller.sync_tickets()
                    if time.monotonic() >= kb_due:
                        await poller.sync_knowledge_base()
                        kb_due = time.monotonic() + p.kb_interval_seconds
                    if result.tickets:
                        log.info("%s: published %d tickets, %d conversations", tenant.tenant_id,
                                 result.tickets, result.conversations)
                except CopilotError as exc:  # retried next round; the cursor did not move past it
                    error = str(exc)
                    log.warning("%s: poll failed: %s", tenant.tenant_id, exc)
                await state.record_poll(error)
                nudged = self.nudges.events[tenant.tenant_id]
                await _wait_any(stop, nudged, p.interval_seconds)
                nudged.clear()


async def _wait_any(stop: asyncio.Event, nudged: asyncio.Event, seconds: float) -> None:
    """Until the next poll: the interval, or sooner when stopped or nudged by a webhook."""
    waiters = [asyncio.create_task(stop.wait()), asyncio.create_task(nudged.wait())]
    await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
