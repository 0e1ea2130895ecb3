"""Property: whatever a request asks, the index never returns another tenant's row, nor a ticket outside the
asking agent's scope, and it returns every ticket inside it."""

import asyncio
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copilot.agent_scope import GLOBAL, GROUP, RESTRICTED, AgentScope
from copilot.index import CopilotIndex

DIM = 8
TENANTS = [f"t{n}.freshdesk.test" for n in range(8)]
GROUPS, AGENTS = [0, 1, 2, 3], [0, 11, 12, 13]  # 0: no group, unassigned
WORDS = ["sso", "saml", "login", "billing", "invoice", "refund", "export", "csv", "crash", "ios", "email", "spf"]


@pytest.fixture(scope="module")
def index(services):
    idx = CopilotIndex(services["COPILOT_MILVUS_URI"], f"iso{random.randrange(10**9)}", "v1", DIM)
    idx.ensure()
    rng = random.Random(4)
    rows = []
    for tenant in TENANTS:
        for ticket_id in range(1, 16):  # every tenant uses the same ticket ids
            text = " ".join(rng.choices(WORDS, k=6))
            rows.append({
                "pk": f"{tenant}/ticket/{ticket_id}", "tenant": tenant, "ticket_id": ticket_id, "subject": text,
                "text": text, "status": 4, "priority": 1, "problem": text, "cause": "", "solution": "",
                "result": "", "summarizer": "local", "tags": [], "attachments": [], "content_hash": "h",
                "source_updated_at": 1, "seen_at": 1, "indexed_at": 1,
                "group_id": rng.choice(GROUPS), "responder_id": rng.choice(AGENTS),
                "dense": [rng.uniform(-1, 1) for _ in range(DIM)],
                "subject_dense": [rng.uniform(-1, 1) for _ in range(DIM)]})
    asyncio.run(idx.upsert_tickets(rows))
    yield idx
    idx.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tenant=st.sampled_from(TENANTS), words=st.lists(st.sampled_from(WORDS), min_size=0, max_size=5),
       vector=st.lists(st.floats(-1, 1), min_size=DIM, max_size=DIM).filter(lambda v: any(abs(x) > 1e-3 for x in v)),
       limit=st.integers(1, 40), exclude=st.one_of(st.none(), st.integers(1, 15)),
       mode=st.sampled_from(["hybrid", "dense", "bm25"]))
async def test_no_search_returns_another_tenants_row(index, tenant, words, vector, limit, exclude, mode):
    text = " ".join(words) if mode != "bm25" or words else "sso"
    hits = await index.search_tickets(tenant, vector, text, limit, exclude_ticket=exclude, mode=mode)
    assert all(h.fields["tenant"] == tenant for h in hits)
    assert exclude not in {h.fields["ticket_id"] for h in hits}
    assert len(hits) <= min(limit, 15)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tenant=st.sampled_from(TENANTS), agent=st.sampled_from(AGENTS[1:] + [14]),
       kind=st.sampled_from([GLOBAL, GROUP, RESTRICTED]), groups=st.sets(st.sampled_from(GROUPS[1:])),
       mode=st.sampled_from(["hybrid", "dense"]))
async def test_an_agent_gets_exactly_the_tickets_their_scope_allows(index, tenant, agent, kind, groups, mode):
    scope = AgentScope(agent, kind, tuple(sorted(groups)))
    everything = await index.search_tickets(tenant, [1.0] * DIM, "sso", 15, mode=mode)
    allowed = {h.fields["ticket_id"] for h in everything
               if scope.allows(h.fields["group_id"], h.fields["responder_id"])}
    hits = await index.search_tickets(tenant, [1.0] * DIM, "sso", 15, mode=mode, visible_to=scope)
    assert len(everything) == 15
    assert {h.fields["ticket_id"] for h in hits} == allowed
    assert all(h.fields["tenant"] == tenant for h in hits)


async def test_reads_by_id_are_scoped_too(index):
    for tenant in TENANTS:
        row = await index.get_ticket(tenant, 3)
        assert row is not None and row["tenant"] == tenant
    assert await index.get_ticket("nobody.freshdesk.test", 3) is None
