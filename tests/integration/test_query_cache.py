"""/query results stay cached while unrelated tickets change, and are searched again as soon as a ticket they
list changes; the reverse index outlives every entry that uses it."""

import random

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from api.app import create_app
from api.keys import EMBEDDER, INDEX
from copilot.domain import ticket_key
from copilot.result_cache import ResultCache, index_changed
from copilot.settings import Settings
from copilot.tenants import TenantRegistry
from copilot.vault import KeyVault

TENANT = "qcache.freshdesk.test"
HEADERS = {"X-Freshdesk-Domain": TENANT, "X-Freshdesk-Api-Key": "key-qcache"}
QUESTION = {"query": "saml login error", "types": ["tickets"], "limit": 1}  # 7 candidates of 30 tickets
AREAS = ["SSO login fails with a SAML error", "Invoice charged twice", "CSV export times out",
         "iOS app crashes on launch", "Emails land in spam"]


async def test_only_a_change_to_a_listed_ticket_drops_a_cached_question(service_env, monkeypatch):
    settings = Settings()
    redis = Redis.from_url(settings.redis.url, decode_responses=True)
    registry = TenantRegistry(redis, KeyVault.from_settings(settings.security.fernet_keys, "test",
                                                            settings.stack.data_dir), settings.kafka.namespace)
    await registry.add(TENANT, "key-qcache", "http://127.0.0.1:9")
    api = TestClient(TestServer(create_app(settings)))
    await api.start_server()
    try:
        index = api.server.app[INDEX]
        await _index(api.server.app)
        searches = 0
        real_search = index.search_tickets

        async def counted(*args, **kwargs):
            nonlocal searches
            searches += 1
            return await real_search(*args, **kwargs)

        monkeypatch.setattr(index, "search_tickets", counted)

        async def ask() -> list[int]:
            response = await api.post("/query", headers=HEADERS, json=QUESTION)
            assert response.status == 200
            return [hit["ticket_id"] for hit in (await response.json())["tickets"]]

        first = await ask()
        assert searches == 1 and first[0] % len(AREAS) == 0  # an SSO ticket
        listed = await redis.smembers(f"{settings.kafka.namespace}:listed-in:{ticket_key(TENANT, first[0])}")
        assert len(listed) == 1

        unlisted = next(tid for tid in range(1, 31) if tid % len(AREAS) == 2)  # a CSV export ticket
        await index_changed(redis, settings.kafka.namespace, {TENANT: [ticket_key(TENANT, unlisted)]})
        assert await ask() == first and searches == 1  # still cached

        await index_changed(redis, settings.kafka.namespace, {TENANT: [ticket_key(TENANT, first[0])]})
        assert await ask() == first and searches == 2  # searched again, then cached again
        assert await ask() == first and searches == 2

    finally:
        await api.close()
        await redis.aclose()


async def test_a_listed_in_set_lives_as_long_as_its_longest_lived_entry(redis):
    pk = ticket_key(TENANT, 1)
    for order in ((900, 60), (60, 900)):
        namespace = f"qcache{random.randrange(10**9)}"
        for n, ttl in enumerate(order):
            cache = ResultCache(redis, namespace, ttl_seconds=ttl)
            assert await cache.put(TENANT, cache.key(TENANT, "query", {"n": n}), {}, "0", [pk])
        assert 60 < await redis.ttl(f"{namespace}:listed-in:{pk}") <= 900


async def _index(app) -> None:
    texts = [f"{AREAS[tid % len(AREAS)]} (case {tid})" for tid in range(1, 31)]
    vectors = await app[EMBEDDER].embed(texts)
    await app[INDEX].upsert_tickets([{
        "pk": ticket_key(TENANT, tid), "tenant": TENANT, "ticket_id": tid, "subject": text, "text": text,
        "status": 4, "priority": 1, "problem": text, "cause": "", "solution": "restarted", "result": "",
        "summarizer": "local", "tags": [], "content_hash": "h", "source_updated_at": 1, "seen_at": 1,
        "indexed_at": 1, "group_id": 0, "responder_id": 0, "attachments": [], "dense": vector,
        "subject_dense": vector} for tid, text, vector in zip(range(1, 31), texts, vectors, strict=True)])
