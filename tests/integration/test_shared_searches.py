"""A burst of identical requests that all miss the cache costs one search on real Milvus, not one each, and
every request gets the same answer."""

import asyncio

from prometheus_client import REGISTRY

from api.keys import INDEX
from tests.integration.harness import AREAS, index_areas, serving_api

TENANT = "burst.freshdesk.test"
HEADERS = {"X-Freshdesk-Domain": TENANT, "X-Freshdesk-Api-Key": "key-burst"}
BURST = 8


def _shared(route: str) -> float:
    return REGISTRY.get_sample_value("copilot_shared_searches_total", {"route": route}) or 0.0


async def test_a_burst_of_identical_misses_searches_once(service_env, monkeypatch):
    async with serving_api({TENANT: "key-burst"}) as (api, _):
        index = api.server.app[INDEX]
        await index_areas(api.server.app, TENANT, 10)
        searched: list[str] = []
        real_rankings, real_search = index.ticket_rankings, index.search_tickets

        async def slow_rankings(*args, **kwargs):  # long enough for the whole burst to arrive meanwhile
            searched.append("init")
            await asyncio.sleep(0.5)
            return await real_rankings(*args, **kwargs)

        async def slow_search(*args, **kwargs):
            searched.append("query")
            await asyncio.sleep(0.5)
            return await real_search(*args, **kwargs)

        monkeypatch.setattr(index, "ticket_rankings", slow_rankings)
        monkeypatch.setattr(index, "search_tickets", slow_search)
        before = {route: _shared(route) for route in ("init", "query")}

        inits = await asyncio.gather(*(api.get("/init/3?limit=3", headers=HEADERS) for _ in range(BURST)))
        queries = await asyncio.gather(*(api.post("/query", headers=HEADERS, json={
            "query": "saml login error", "types": ["tickets"], "limit": 3}) for _ in range(BURST)))

        init_bodies = [await r.json() for r in inits]
        query_bodies = [await r.json() for r in queries]
        assert [r.status for r in inits + queries] == [200] * (2 * BURST), init_bodies + query_bodies
        assert searched == ["init", "query"]
        assert len({_ticket_ids(b["similar_tickets"]) for b in init_bodies}) == 1  # all the same answer
        assert len({_ticket_ids(b["tickets"]) for b in query_bodies}) == 1
        assert 3 not in _ticket_ids(init_bodies[0]["similar_tickets"])
        assert query_bodies[0]["tickets"][0]["subject"].startswith(AREAS[0])
        assert {route: _shared(route) - before[route] for route in before} == {"init": BURST - 1,
                                                                                "query": BURST - 1}

        again = await api.post("/query", headers=HEADERS, json={"query": "saml login error", "types": ["tickets"],
                                                                "limit": 3})
        assert again.status == 200 and searched == ["init", "query"]  # stored once: the next one is a hit


def _ticket_ids(hits: list[dict]) -> tuple[int, ...]:
    return tuple(hit["ticket_id"] for hit in hits)

