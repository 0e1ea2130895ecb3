"""The API in-process on the session's real services, and index rows for tests that write Milvus directly."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from api.app import create_app
from copilot.domain import ticket_key
from copilot.settings import Settings
from copilot.tenants import TenantRegistry
from copilot.vault import KeyVault


@asynccontextmanager
async def serving_api(tenants: Mapping[str, str]) -> AsyncIterator[tuple[TestClient, Redis]]:
    """(a client of the API, Redis) with `tenants` (domain -> API key) registered. No helpdesk answers for
    them, so nothing is fetched on demand. Needs the `service_env` fixture."""
    settings = Settings()
    redis = Redis.from_url(settings.redis.url, decode_responses=True)
    registry = TenantRegistry(redis, KeyVault.from_settings(settings.security.fernet_keys, "test",
                                                            settings.stack.data_dir), settings.kafka.namespace)
    for domain, key in tenants.items():
        await registry.add(domain, key, "http://127.0.0.1:9")
    api = TestClient(TestServer(create_app(settings)))
    await api.start_server()
    try:
        yield api, redis
    finally:
        await api.close()
        await redis.aclose()


def ticket_row(tenant: str, ticket_id: int, text: str, vector: list[float], **fields: Any) -> dict[str, Any]:
    """A resolved ticket whose subject, text and problem are `text`, with `vector` as both of its vectors."""
    return {
        "pk": ticket_key(tenant, ticket_id), "tenant": tenant, "ticket_id": ticket_id, "subject": text,
        "text": text, "status": 4, "priority": 1, "problem": text, "cause": "", "solution": "restarted",
        "result": "", "summarizer": "local", "tags": [], "content_hash": "h", "source_updated_at": 1, "seen_at": 1,
        "indexed_at": 1, "group_id": 0, "responder_id": 0, "attachments": [], "dense": vector,
        "subject_dense": vector, **fields,
    }


AREAS = ["SSO login fails with a SAML error", "Invoice charged twice", "CSV export times out",
         "iOS app crashes on launch", "Emails land in spam"]


async def index_areas(app: Any, tenant: str, count: int) -> None:
    """Tickets 1..count, ticket n about AREAS[n % 5] (so tickets 5, 10, ... are about SSO), embedded for real."""
    from api.keys import EMBEDDER, INDEX

    texts = [f"{AREAS[tid % len(AREAS)]} (case {tid})" for tid in range(1, count + 1)]
    vectors = await app[EMBEDDER].embed(texts)
    await app[INDEX].upsert_tickets([ticket_row(tenant, tid, text, vector)
                                     for tid, text, vector in zip(range(1, count + 1), texts, vectors, strict=True)])
