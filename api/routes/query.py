"""POST /query: natural-language search over the tenant's tickets and KB articles."""

from __future__ import annotations

import uuid

from aiohttp import web

from api.keys import EMBEDDER, INDEX, tenant_of
from api.presenters import article_hit, ticket_hit
from api.validation import bounded_int, json_object, text_field

MAX_QUERY_CHARS = 2000


async def query(request: web.Request) -> web.Response:
    body = await json_object(request)
    text = text_field(body, "query", MAX_QUERY_CHARS)
    limit = bounded_int(body.get("limit"), "limit", 10, 1, 50)
    tenant = tenant_of(request)
    [vector] = await request.app[EMBEDDER].embed([text])
    index = request.app[INDEX]
    tickets = await index.search_tickets(tenant.tenant_id, vector, text, limit)
    articles = await index.search_articles(tenant.tenant_id, vector, text, limit=min(limit, 5))
    return web.json_response({
        "query_id": str(uuid.uuid4()), "query": text,
        "tickets": [ticket_hit(h) for h in tickets], "solutions": [article_hit(h) for h in articles],
    })
