"""`copilot status`: per tenant, how far each stage got, and the worker's consumer lag."""

from __future__ import annotations

import asyncio
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from connectors.sync_state import SyncState
from copilot.progress import PipelineProgress
from copilot.redis_client import connect
from copilot.settings import Settings
from copilot.tenants import TenantRegistry
from copilot.topics import ALL, TopicNames
from copilot.vault import KeyVault


def consumer_lag(settings: Settings) -> dict[str, int]:
    """Messages the worker's consumer group has not committed yet, per topic it reads."""
    names = TopicNames(settings.kafka.namespace)
    consumer = Consumer({"bootstrap.servers": settings.kafka.bootstrap_servers,
                         "group.id": f"{settings.kafka.namespace}-worker", "enable.auto.commit": False})
    try:
        metadata = consumer.list_topics(timeout=10)
        lag: dict[str, int] = {}
        for spec in ALL:
            topic = names(spec)
            if topic not in metadata.topics or spec.suffix == "deadletter":
                continue
            parts = [TopicPartition(topic, p) for p in metadata.topics[topic].partitions]
            committed = consumer.committed(parts, timeout=10)
            total = 0
            for tp in committed:
                low, high = consumer.get_watermark_offsets(tp, timeout=10)
                total += high - (tp.offset if tp.offset >= 0 else low)
            lag[topic] = total
        return lag
    finally:
        consumer.close()


async def pipeline_status(settings: Settings) -> dict[str, Any]:
    redis = connect(settings.redis)
    try:
        vault = KeyVault.from_settings(settings.security.fernet_keys, settings.security.environment,
                                       settings.stack.data_dir)
        registry = TenantRegistry(redis, vault, settings.kafka.namespace)
        progress = PipelineProgress(redis, settings.kafka.namespace)
        tenants = {}
        for tenant in await registry.all():
            sync = await SyncState(redis, settings.kafka.namespace, tenant.tenant_id).summary()
            tenants[tenant.tenant_id] = {
                **sync,
                "documents_merged": await progress.count("merged", tenant.tenant_id),
                "documents_indexed": await progress.count("indexed", tenant.tenant_id),
            }
        lag = await asyncio.to_thread(consumer_lag, settings)
        return {"tenants": tenants, "consumer_lag": lag, "total_lag": sum(lag.values())}
    finally:
        await redis.aclose()
