"""/init's cached neighbourhoods: filtered and fused per request they equal the scoped search they replace, and
the cache drops an entry exactly when its ticket, or anything listed in it, changes."""

import asyncio
import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot.agent_scope import GLOBAL, GROUP, RESTRICTED, AgentScope
from copilot.domain import ticket_key
from copilot.feedback import candidates
from copilot.index import CopilotIndex
from copilot.neighbourhood import SHOWN_LIMIT, TicketInHand, search_neighbourhood
from copilot.result_cache import NeighbourhoodCache, index_changed, index_rebuilt, neighbourhood_key
from copilot.retrieval_config import RetrievalConfig

DIM = 8
TENANT, OTHER = "hood.freshdesk.test", "other.freshdesk.test"
TICKETS = 240  # more than a neighbourhood's depth, so scopes filter truncated rankings
GROUPS, AGENTS = [0, 1, 2, 3, 4], [0, 11, 12, 13, 14, 15]
WORDS = [f"w{n}" for n in range(80)]


def _row(tenant: str, ticket_id: int, rng: random.Random) -> dict:
    text = " ".join(rng.choices(WORDS, k=rng.randint(4, 12)))
    subject = " ".join(text.split()[:3])
    return {"pk": ticket_key(tenant, ticket_id), "tenant": tenant, "ticket_id": ticket_id, "subject": subject,
            "text": text, "status": 4, "priority": 1, "problem": text, "cause": "", "solution": "", "result": "",
            "summarizer": "local", "tags": [], "attachments": [], "content_hash": "h", "source_updated_at": 1,
            "seen_at": 1, "indexed_at": 1, "group_id": rng.choice(GROUPS), "responder_id": rng.choice(AGENTS),
            "dense": [rng.uniform(-1, 1) for _ in range(DIM)],
            "subject_dense": [rng.uniform(-1, 1) for _ in range(DIM)]}


@pytest.fixture(scope="module")
def index(services):
    idx = CopilotIndex(services["COPILOT_MILVUS_URI"], f"hood{random.randrange(10**9)}", "v1", DIM)
    idx.ensure()
    rng = random.Random(9)
    asyncio.run(idx.upsert_tickets([_row(t, n, rng) for t in (TENANT, OTHER) for n in range(1, TICKETS + 1)]))
    idx.seal()
    yield idx
    idx.close()


async def _hood(index: CopilotIndex, ticket_id: int, limit: int = SHOWN_LIMIT):
    row = await index.get_ticket(TENANT, ticket_id, with_vector=True)
    return await search_neighbourhood(index, TENANT, TicketInHand.from_row(row), limit, 150)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ticket_id=st.integers(1, TICKETS), agent=st.sampled_from(AGENTS[1:]),
       kind=st.sampled_from([None, GLOBAL, GROUP, RESTRICTED]), groups=st.sets(st.sampled_from(GROUPS[1:])),
       limit=st.integers(1, SHOWN_LIMIT),
       weights=st.sampled_from([(1.0, 1.0, 1.0), (1.0, 0.0, 1.0), (0.0, 1.0, 0.0), (2.0, 0.5, 1.0), (1.0, 1.0, 0.0),
                                (0.0, 1.0, 3.0)]),
       rrf_k=st.sampled_from([1, 10, 60]))
async def test_filtered_neighbourhood_equals_the_scoped_search(index, ticket_id, agent, kind, groups, limit,
                                                                weights, rrf_k):
    scope = None if kind is None else AgentScope(agent, kind, tuple(sorted(groups)))
    fusion = RetrievalConfig(dense_weight=weights[0], bm25_weight=weights[1], subject_weight=weights[2], rrf_k=rrf_k)
    hood = await _hood(index, ticket_id)
    assert [r.signal for r in hood.tickets] == ["dense", "sparse", "subject_dense", "subject_sparse"]
    similar = hood.similar(limit, scope, fusion)
    if scope is None or scope.kind == GLOBAL:
        assert similar is not None  # the shared rankings always answer the whole tenant
    if similar is None:
        return  # too thin for this scope: /init searches within the scope instead
    searched = await index.search_tickets(TENANT, hood.vector, hood.terms, candidates(limit),
                                          exclude_ticket=ticket_id, visible_to=scope, fusion=fusion,
                                          subject=hood.subject_query)
    assert [h.fields["pk"] for h in similar] == [h.fields["pk"] for h in searched]
    assert [round(h.score, 9) for h in similar] == [round(h.score, 9) for h in searched]


async def test_a_narrow_scope_is_refused_rather_than_answered_thin(index):
    hood = await _hood(index, 1)
    nobody = AgentScope(99, RESTRICTED)  # assigned nothing: every shared ranking filters down to nothing
    assert hood.similar(SHOWN_LIMIT, nobody, RetrievalConfig()) is None
    assert not hood.deep_enough(40)  # deeper than searched: /init searches again, deeper


async def test_entries_are_dropped_when_the_ticket_or_a_listed_item_changes(index, redis):
    namespace = f"hood{random.randrange(10**9)}"
    cache = NeighbourhoodCache(redis, namespace, ttl_seconds=60)
    first, second = await _hood(index, 1), await _hood(index, 2)
    assert await cache.put(TENANT, first, await cache.generation(TENANT))
    assert await cache.put(TENANT, second, await cache.generation(TENANT))
    cached = await cache.get(TENANT, 1)
    assert cached is not None and cached.dump() == first.dump()
    assert await cache.get(OTHER, 1) is None  # keys carry the tenant

    listed_in_first_only = sorted(first.listed() - second.listed() - {ticket_key(TENANT, 2)})[0]
    await index_changed(redis, namespace, {TENANT: [listed_in_first_only]})
    assert await cache.get(TENANT, 1) is None
    assert await cache.get(TENANT, 2) is not None

    unlisted = next(ticket_key(TENANT, n) for n in range(3, TICKETS + 1)
                    if ticket_key(TENANT, n) not in second.listed())
    await index_changed(redis, namespace, {TENANT: [unlisted]})
    assert await cache.get(TENANT, 2) is not None
    await index_changed(redis, namespace, {TENANT: [ticket_key(TENANT, 2)]})  # the ticket itself changed
    assert await cache.get(TENANT, 2) is None


async def test_an_entry_searched_while_the_index_changed_is_not_stored(index, redis):
    namespace = f"hood{random.randrange(10**9)}"
    cache = NeighbourhoodCache(redis, namespace, ttl_seconds=60)
    generation = await cache.generation(TENANT)
    hood = await _hood(index, 3)
    await index_changed(redis, namespace, {TENANT: [ticket_key(TENANT, 200)]})  # a write during the search
    assert not await cache.put(TENANT, hood, generation)
    assert await cache.get(TENANT, 3) is None
    assert await cache.put(TENANT, hood, await cache.generation(TENANT))


async def test_a_rebuilt_tenant_loses_every_entry_and_no_other_tenant_does(index, redis):
    namespace = f"hood{random.randrange(10**9)}"
    cache = NeighbourhoodCache(redis, namespace, ttl_seconds=60)
    hood = await _hood(index, 4)
    other_row = await index.get_ticket(OTHER, 4, with_vector=True)
    other = await search_neighbourhood(index, OTHER, TicketInHand.from_row(other_row), SHOWN_LIMIT, 150)
    assert await cache.put(TENANT, hood, await cache.generation(TENANT))
    assert await cache.put(OTHER, other, await cache.generation(OTHER))
    assert all(pk.startswith(f"{OTHER}/") for pk in other.listed())
    await index_rebuilt(redis, namespace, [TENANT])
    assert await cache.get(TENANT, 4) is None
    assert await cache.get(OTHER, 4) is not None
    assert not [key async for key in redis.scan_iter(match=f"{namespace}:listed-in:{TENANT}/*")]


async def test_entries_are_stored_deflated_and_older_plain_ones_are_misses(index, redis):
    namespace = f"hood{random.randrange(10**9)}"
    cache = NeighbourhoodCache(redis, namespace, ttl_seconds=60)
    hood = await _hood(index, 5)
    assert await cache.put(TENANT, hood, await cache.generation(TENANT))
    key = neighbourhood_key(namespace, TENANT, 5)
    assert await redis.strlen(key) < len(json.dumps(hood.dump())) / 2
    assert (await cache.get(TENANT, 5)).dump() == hood.dump()
    await redis.set(key, json.dumps(hood.dump()))  # as the previous release stored it
    assert await cache.get(TENANT, 5) is None
