"""POST /query: natural-language search over the tenant's tickets and KB articles."""

from __future__ import annotations

from aiohttp import web

from api.keys import EMBEDDER, INDEX, tenant_of
from api.presenters import article_hit, ticket_hit
from api.ranking import candidates, remember_shown, rerank
from api.validation import bounded_int, json_object, text_field

MAX_QUERY_CHARS = 2000


async def query(request: web.Request) -> web.Response:
    body = await json_object(request)
    text = text_field(body, "query", MAX_QUERY_CHARS)
    limit = bounded_int(body.get("limit"), "limit", 10, 1, 50)
    tenant = tenant_of(request)
    [vector] = await request.app[EMBEDDER].embed([text])
    index = request.app[INDEX]
    tickets = await index.search_tickets(tenant.tenant_id, vector, text, candidates(limit))
    articles = await index.search_articles(tenant.tenant_id, vector, text, candidates(min(limit, 5)))
    shown = await rerank(request.app, tenant.tenant_id, vector,
                         {"ticket": (tickets, limit), "article": (articles, min(limit, 5))})
    query_id = await remember_shown(request.app, tenant.tenant_id, vector, shown)
    return web.json_response({
        "query_id": query_id, "query": text,
        "tickets": [ticket_hit(h) for h in shown["ticket"]], "solutions": [article_hit(h) for h in shown["article"]],
    })
