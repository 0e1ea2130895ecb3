"""GET /init/{ticket_id}: the ticket's summary, similar past tickets and related KB articles.

A ticket not indexed yet is fetched from the helpdesk and summarized on demand (`indexed` is then null)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.errors import RequestError
from api.keys import AGENT_SCOPES, EMBEDDER, INDEX, REGISTRY, RESULTS, SETTINGS, SUMMARIZER, tenant_of
from api.on_demand import FreshTicket, fetch_and_summarize
from api.presenters import article_hit, indexed_info, summary_of, ticket_hit
from api.ranking import candidates, remember_shown, rerank
from api.validation import bounded_int
from copilot.agent_scope import AgentScope
from copilot.answering import keywords, words
from copilot.errors import UpstreamError
from copilot.index import Hit
from copilot.tenants import Tenant


async def init_ticket(request: web.Request) -> web.Response:
    ticket_id = bounded_int(request.match_info["ticket_id"], "ticket_id", 0, 1, 2**62)
    who = tenant_of(request)
    limit = bounded_int(request.query.get("limit"), "limit", 5, 1, who.retrieval.max_results)
    tenant = who.tenant_id
    scope = await request.app[AGENT_SCOPES].of_request(request, who)
    asked = {"ticket_id": ticket_id, "limit": limit, "scope": scope.cache_identity() if scope else None,
             "retrieval": who.retrieval.dump()}
    key, found = await request.app[RESULTS].get(tenant, "init", asked)
    if found is None:
        found = await _retrieve(request, who, ticket_id, limit, scope)
        if found["indexed"] is not None:  # a ticket summarized on demand is not cached: the index will have it
            await request.app[RESULTS].put(key, found)
    vector = found["vector"]
    similar, articles = [Hit.load(h) for h in found["similar"]], [Hit.load(h) for h in found["articles"]]
    shown = await rerank(request.app, tenant, vector, {"ticket": (similar, limit), "article": (articles, 3)})
    query_id = await remember_shown(request.app, tenant, vector, shown, ticket_id)
    wanted = set(words(found["query_text"]))
    return web.json_response({
        "query_id": query_id, "ticket_id": ticket_id, "subject": found["subject"],
        "ticket_summary": found["summary"],
        "similar_tickets": [ticket_hit(h, wanted) for h in shown["ticket"]],
        "related_solutions": [article_hit(h) for h in shown["article"]],
        "indexed": found["indexed"],  # null: computed on demand, the pipeline has not indexed this ticket yet
    })


async def _retrieve(request: web.Request, who: Tenant, ticket_id: int, limit: int, scope: AgentScope | None
                    ) -> dict[str, Any]:
    """The ticket's summary and vector, and the candidates the rerank chooses from."""
    index, tenant, fusion = request.app[INDEX], who.tenant_id, who.retrieval
    row = await index.get_ticket(tenant, ticket_id, with_vector=True)
    if row is not None:
        subject, summary, indexed = row["subject"], summary_of(row), indexed_info(row)
        vector, text = [float(x) for x in row["dense"]], row["text"]
        assignment = row["group_id"], row["responder_id"]
    else:
        fresh = await _on_demand(request, ticket_id)
        subject, summary, indexed = fresh.document.subject, summary_of(fresh.summary.__dict__), None
        vector, text = [float(x) for x in fresh.vector], fresh.text
        assignment = fresh.document.group_id, fresh.document.responder_id
    if scope is not None and not scope.allows(*assignment):
        raise RequestError(403, "outside_agent_scope", f"agent {scope.agent_id} may not see ticket {ticket_id}",
                           "ticket_id")
    query_text = text[:request.app[SETTINGS].api.init_query_chars]
    terms = keywords(query_text)
    similar = await index.search_tickets(tenant, vector, terms, candidates(limit), exclude_ticket=ticket_id,
                                         visible_to=scope, fusion=fusion)
    articles = await index.search_articles(tenant, vector, terms, candidates(3), fusion=fusion)
    return {"subject": subject, "summary": summary, "indexed": indexed, "vector": vector,
            "query_text": query_text, "similar": [h.dump() for h in similar],
            "articles": [h.dump() for h in articles]}


async def _on_demand(request: web.Request, ticket_id: int) -> FreshTicket:
    try:
        fresh = await fetch_and_summarize(tenant_of(request), ticket_id, request.app[REGISTRY],
                                          request.app[SUMMARIZER], request.app[EMBEDDER])
    except UpstreamError as exc:
        raise RequestError(502, "helpdesk_unavailable", f"ticket {ticket_id} is not indexed and the helpdesk "
                           f"could not be asked for it: {exc}") from exc
    if fresh is None:
        raise RequestError(404, "ticket_not_found", f"ticket {ticket_id} does not exist for this tenant",
                           "ticket_id")
    return fresh

