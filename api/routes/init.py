"""GET /init/{ticket_id}: the ticket's summary, similar past tickets and related KB articles."""

from __future__ import annotations

from aiohttp import web

from api.errors import RequestError
from api.keys import INDEX, tenant_of
from api.presenters import article_hit, indexed_info, summary_of, ticket_hit
from api.validation import bounded_int

QUERY_TEXT_CHARS = 2000


async def init_ticket(request: web.Request) -> web.Response:
    ticket_id = bounded_int(request.match_info["ticket_id"], "ticket_id", 0, 1, 2**62)
    limit = bounded_int(request.query.get("limit"), "limit", 5, 1, 50)
    tenant = tenant_of(request)
    index = request.app[INDEX]
    row = await index.get_ticket(tenant.tenant_id, ticket_id, with_vector=True)
    if row is None:
        raise RequestError(404, "ticket_not_indexed",
                           f"ticket {ticket_id} is not indexed yet for {tenant.tenant_id}", "ticket_id")
    vector, text = list(row["dense"]), row["text"][:QUERY_TEXT_CHARS]
    similar = await index.search_tickets(tenant.tenant_id, vector, text, limit, exclude_ticket=ticket_id)
    articles = await index.search_articles(tenant.tenant_id, vector, text, limit=3)
    return web.json_response({
        "ticket_id": ticket_id, "subject": row["subject"], "ticket_summary": summary_of(row),
        "similar_tickets": [ticket_hit(h) for h in similar],
        "related_solutions": [article_hit(h) for h in articles],
        "indexed": indexed_info(row),
    })
