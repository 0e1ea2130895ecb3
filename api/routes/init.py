"""GET /init/{ticket_id}: the ticket's summary, similar past tickets and related KB articles.

The searches come from the ticket's cached neighbourhood (copilot.neighbourhood), computed here on a miss; a
ticket not indexed yet is fetched from the helpdesk and summarized on demand (`indexed` is then null), and
its neighbourhood is not cached (the pipeline will index it)."""

from __future__ import annotations

from aiohttp import web

from api.errors import RequestError
from api.keys import (
    AGENT_SCOPES,
    EMBEDDER,
    INDEX,
    NEIGHBOURHOODS,
    REGISTRY,
    SEARCHES,
    SETTINGS,
    SUMMARIZER,
    tenant_of,
)
from api.on_demand import FreshTicket, fetch_and_summarize
from api.presenters import article_hit, ticket_hit
from api.ranking import remember_shown, rerank
from api.validation import bounded_int
from copilot.answering import words
from copilot.errors import UpstreamError
from copilot.feedback import candidates
from copilot.metrics import NEIGHBOURHOOD_LOOKUPS
from copilot.neighbourhood import Neighbourhood, TicketInHand, search_neighbourhood, summary_of


async def init_ticket(request: web.Request) -> web.Response:
    ticket_id = bounded_int(request.match_info["ticket_id"], "ticket_id", 0, 1, 2**62)
    who = tenant_of(request)
    limit = bounded_int(request.query.get("limit"), "limit", 5, 1, who.retrieval.max_results)
    tenant, fusion = who.tenant_id, who.retrieval
    scope = await request.app[AGENT_SCOPES].of_request(request, who)
    hood = await request.app[NEIGHBOURHOODS].get(tenant, ticket_id)
    outcome = "miss" if hood is None else "hit" if hood.deep_enough(limit) else "shallow"
    NEIGHBOURHOOD_LOOKUPS.labels(outcome).inc()
    if hood is None or outcome != "hit":
        hood = await request.app[SEARCHES].run(("init", tenant, ticket_id, limit),
                                               lambda: _search(request, ticket_id, limit))
    if scope is not None and not scope.allows(*hood.assignment):
        raise RequestError(403, "outside_agent_scope", f"agent {scope.agent_id} may not see ticket {ticket_id}",
                           "ticket_id")
    similar = hood.similar(limit, scope, fusion)
    if similar is None:  # a narrow scope filtered the shared rankings too thin: search within it
        NEIGHBOURHOOD_LOOKUPS.labels("scoped_search").inc()
        similar = await request.app[INDEX].search_tickets(
            tenant, hood.vector, hood.terms, candidates(limit), exclude_ticket=ticket_id, visible_to=scope,
            fusion=fusion, subject=hood.subject_query)
    shown = await rerank(request.app, tenant, hood.vector,
                         {"ticket": (similar, limit), "article": (hood.related_articles(fusion), 3)})
    query_id = await remember_shown(request.app, tenant, hood.vector, shown, ticket_id)
    wanted = set(words(hood.query_text))
    return web.json_response({
        "query_id": query_id, "ticket_id": ticket_id, "subject": hood.subject, "ticket_summary": hood.summary,
        "similar_tickets": [ticket_hit(h, wanted) for h in shown["ticket"]],
        "related_solutions": [article_hit(h) for h in shown["article"]],
        "indexed": hood.indexed,  # null: computed on demand, the pipeline has not indexed this ticket yet
    })


async def _search(request: web.Request, ticket_id: int, limit: int) -> Neighbourhood:
    """The ticket's neighbourhood from the index (cached), or from the helpdesk on demand (not cached)."""
    app, tenant = request.app, tenant_of(request).tenant_id
    query_chars = app[SETTINGS].api.init_query_chars
    hood, _ = await app[NEIGHBOURHOODS].search_and_store(app[INDEX], tenant, ticket_id, limit, query_chars)
    if hood is None:
        hood = await search_neighbourhood(app[INDEX], tenant, await _on_demand(request, ticket_id), limit,
                                          query_chars)
    return hood


async def _on_demand(request: web.Request, ticket_id: int) -> TicketInHand:
    try:
        fresh: FreshTicket | None = await fetch_and_summarize(
            tenant_of(request), ticket_id, request.app[REGISTRY], request.app[SUMMARIZER], request.app[EMBEDDER])
    except UpstreamError as exc:
        raise RequestError(502, "helpdesk_unavailable", f"ticket {ticket_id} is not indexed and the helpdesk "
                           f"could not be asked for it: {exc}") from exc
    if fresh is None:
        raise RequestError(404, "ticket_not_found", f"ticket {ticket_id} does not exist for this tenant",
                           "ticket_id")
    document = fresh.document
    return TicketInHand(ticket_id, document.subject, summary_of(fresh.summary.__dict__), None,
                        (document.group_id or 0, document.responder_id or 0), [float(x) for x in fresh.vector],
                        [float(x) for x in fresh.subject_vector], fresh.text)
