"""/query results stay cached while unrelated tickets change, and are searched again as soon as a ticket they
list changes; the reverse index outlives every entry that uses it."""

import random

from api.keys import INDEX
from copilot.domain import ticket_key
from copilot.result_cache import ResultCache, index_changed
from tests.integration.harness import AREAS, index_areas, serving_api

TENANT = "qcache.freshdesk.test"
HEADERS = {"X-Freshdesk-Domain": TENANT, "X-Freshdesk-Api-Key": "key-qcache"}
QUESTION = {"query": "saml login error", "types": ["tickets"], "limit": 1}  # 7 candidates of 30 tickets


async def test_only_a_change_to_a_listed_ticket_drops_a_cached_question(service_env, namespace, monkeypatch):
    async with serving_api({TENANT: "key-qcache"}) as (api, redis):
        index = api.server.app[INDEX]
        await index_areas(api.server.app, TENANT, 30)
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
        listed = await redis.smembers(f"{namespace}:listed-in:{ticket_key(TENANT, first[0])}")
        assert len(listed) == 1

        unlisted = [tid for tid in range(1, 31)
                    if not await redis.exists(f"{namespace}:listed-in:{ticket_key(TENANT, tid)}")][0]
        await index_changed(redis, namespace, {TENANT: [ticket_key(TENANT, unlisted)]})
        assert await ask() == first and searches == 1  # still cached

        await index_changed(redis, namespace, {TENANT: [ticket_key(TENANT, first[0])]})
        assert await ask() == first and searches == 2  # searched again, then cached again
        assert await ask() == first and searches == 2


async def test_a_listed_in_set_lives_as_long_as_its_longest_lived_entry(redis):
    pk = ticket_key(TENANT, 1)
    for order in ((900, 60), (60, 900)):
        namespace = f"qcache{random.randrange(10**9)}"
        for n, ttl in enumerate(order):
            cache = ResultCache(redis, namespace, ttl_seconds=ttl)
            assert await cache.put(TENANT, cache.key(TENANT, "query", {"n": n}), {}, "0", [pk])
        assert 60 < await redis.ttl(f"{namespace}:listed-in:{pk}") <= 900

