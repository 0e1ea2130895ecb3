"""Milvus index: idempotent upserts, deletes, and reads that never cross tenants."""

import asyncio
import random

import pytest

from copilot.errors import ConfigurationError
from copilot.index import CopilotIndex

DIM = 8


def _vec(seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.random() for _ in range(DIM)]


def _row(tenant: str, ticket_id: int, text: str) -> dict:
    return {"pk": f"{tenant}/ticket/{ticket_id}", "tenant": tenant, "ticket_id": ticket_id, "subject": text,
            "text": text, "status": 4, "priority": 1, "problem": text, "cause": "", "solution": "s", "result": "",
            "summarizer": "local", "tags": [], "attachments": [], "content_hash": "h", "source_updated_at": 1,
            "seen_at": 1, "indexed_at": 1, "dense": _vec(ticket_id),
            "subject_dense": _vec(ticket_id)}


@pytest.fixture
async def index(services, namespace):
    idx = CopilotIndex(services["COPILOT_MILVUS_URI"], namespace, "v1", DIM)
    idx.ensure()
    idx.ensure()  # idempotent
    yield idx
    idx.close()


async def test_upsert_is_idempotent_and_delete_removes(index):
    rows = [_row("a.test", i, f"sso login failure {i}") for i in range(1, 6)]
    await index.upsert_tickets(rows)
    await index.upsert_tickets(rows)
    assert await index.count("a.test", index.tickets_alias) == 5
    await index.delete(index.tickets_alias, ["a.test/ticket/3"])
    assert await index.count("a.test", index.tickets_alias) == 4
    assert await index.get_ticket("a.test", 3) is None


async def test_search_never_returns_another_tenants_rows(index):
    await index.upsert_tickets([_row("a.test", i, "sso saml login error") for i in range(1, 4)] +
                               [_row("b.test", i, "sso saml login error") for i in range(1, 4)])
    hits = await index.search_tickets("a.test", _vec(1), "sso saml login", limit=10, exclude_ticket=1)
    assert {h.fields["ticket_id"] for h in hits} == {2, 3}
    assert await index.get_ticket("b.test", 1) is not None
    assert await index.count("b.test", index.tickets_alias) == 3


async def test_a_hybrid_search_returns_the_fields_its_rankings_carry(index):
    """The fused hits' fields are read by key after ranking: they are the rows the rankings found."""
    await index.upsert_tickets([_row("a.test", i, f"sso saml login error {i}") for i in range(1, 8)])
    hits = await index.search_tickets("a.test", _vec(1), "sso saml login", limit=5)
    rankings = await index.ticket_rankings("a.test", _vec(1), "sso saml login", 20, exclude_ticket=0)
    ranked = {hit.fields["pk"]: hit.fields for ranking in rankings for hit in ranking.hits}
    assert len(hits) == 5
    assert all(hit.fields == ranked[hit.fields["pk"]] for hit in hits)
    assert {"problem", "solution", "ticket_id", "attachments"} <= set(hits[0].fields)


async def test_searches_made_together_share_milvus_calls_and_find_what_they_find_alone(index, monkeypatch):
    await index.upsert_tickets([_row("a.test", i, f"{word} login error {i}")
                                for i, word in enumerate(["sso", "vpn", "saml", "mfa"] * 3, start=1)])
    asked = [(_vec(n), f"{word} login") for n, word in enumerate(["sso", "vpn", "saml", "mfa"])]
    alone = [await index.search_tickets("a.test", vector, text, limit=5) for vector, text in asked]
    searched: list[int] = []
    search = index.client.search

    def counted(*args, **kwargs):
        searched.append(len(kwargs["data"]))
        return search(*args, **kwargs)

    monkeypatch.setattr(index.client, "search", counted)
    together = await asyncio.gather(*(index.search_tickets("a.test", vector, text, limit=5) for vector, text in asked))
    assert sorted(searched) == [4, 4]  # the dense ranking of all four in one call, the BM25 one in another
    assert [[(h.score, h.fields) for h in hits] for hits in together] == \
        [[(h.score, h.fields) for h in hits] for hits in alone]


async def test_only_published_articles_are_recommended(index):
    def article(aid: int, status: int) -> dict:
        return {"pk": f"a.test/article/{aid}", "tenant": "a.test", "article_id": aid, "title": f"SSO guide {aid}",
                "text": "SSO guide", "status": status, "updated_at": 1, "indexed_at": 1, "dense": _vec(aid)}

    await index.upsert_articles([article(1, 2), article(2, 1)])
    hits = await index.search_articles("a.test", _vec(2), "SSO guide", limit=5)
    assert [h.fields["article_id"] for h in hits] == [1]


async def test_a_serving_collection_without_the_current_fields_is_refused_with_the_fix(services, namespace):
    """A collection created before the agent-scope fields: the worker and API must not write to it."""
    class Before(CopilotIndex):
        def _ticket_schema(self):
            schema, params = super()._ticket_schema()
            schema._fields = [f for f in schema.fields if f.name not in ("group_id", "responder_id")]
            return schema, params

    old = Before(services["COPILOT_MILVUS_URI"], namespace, "v1", DIM)
    old.ensure(serving=False)
    old.close()
    current = CopilotIndex(services["COPILOT_MILVUS_URI"], namespace, "v1", DIM)
    with pytest.raises(ConfigurationError, match="no field group_id, responder_id.*copilot reindex"):
        current.ensure()
    current.ensure(serving=False)  # what a rebuild does: it writes collections of its own
    current.close()


async def test_one_tenant_is_not_rebuilt_into_a_version_whose_rows_need_a_new_vector(services, namespace):
    """Other tenants' rows are carried over as they are, so they cannot gain the subject's vector."""
    class Before(CopilotIndex):
        def _ticket_schema(self):
            schema, _ = super()._ticket_schema()
            schema._fields = [f for f in schema.fields if f.name != "subject_dense"]
            return schema, self._index_params()

    uri = services["COPILOT_MILVUS_URI"]
    old = Before(uri, namespace, "v1", DIM)
    old.ensure(serving=False)
    old.close()
    v2 = CopilotIndex(uri, namespace, "v2", DIM)
    v2.ensure(serving=False)
    with pytest.raises(ConfigurationError, match="no subject_dense.*without --tenant"):
        v2.check_can_copy(v2.rebuilding())
    v2.switch_aliases()  # a full rebuild went first: now one tenant can be rebuilt on its own
    v3 = CopilotIndex(uri, namespace, "v3", DIM)
    v3.ensure(serving=False)
    v3.check_can_copy(v3.rebuilding())
    for index in (v2, v3):
        index.close()
