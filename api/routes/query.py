"""POST /query: an agent's question, routed by intent to tickets, KB articles and attachments, answered from
what was retrieved and citing it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from api.errors import RequestError
from api.keys import EMBEDDER, INDEX, tenant_of
from api.presenters import article_hit, ticket_hit
from api.ranking import candidates, remember_shown, rerank
from api.validation import bounded_int, json_object, optional_int, text_field
from copilot.answering import (
    CONTENT_TYPES,
    analyze_intent,
    article_source,
    extractive_answer,
    matching_attachments,
    ticket_source,
    words,
)

MAX_QUERY_CHARS = 2000


async def query(request: web.Request) -> web.Response:
    body = await json_object(request)
    text = text_field(body, "query", MAX_QUERY_CHARS)
    limit = bounded_int(body.get("limit"), "limit", 10, 1, 50)
    ticket_id = optional_int(body, "ticket_id", 1, 2**62)  # the ticket the agent has open: never a result
    intent = analyze_intent(text, _types(body))
    tenant = tenant_of(request).tenant_id
    [vector] = await request.app[EMBEDDER].embed([text])
    index = request.app[INDEX]
    tickets = articles = attached = []
    if "tickets" in intent.types:
        tickets = await index.search_tickets(tenant, vector, text, candidates(limit), exclude_ticket=ticket_id)
    if "solutions" in intent.types:
        articles = await index.search_articles(tenant, vector, text, candidates(min(limit, 5)))
    if "attachments" in intent.types:
        attached = await index.search_tickets(tenant, vector, text, candidates(limit), exclude_ticket=ticket_id,
                                              with_attachments=True)
    shown = await rerank(request.app, tenant, vector,
                         {"ticket": (tickets, limit), "article": (articles, min(limit, 5))})
    query_id = await remember_shown(request.app, tenant, vector, shown, ticket_id)
    wanted = set(words(text))
    sources = [ticket_source(h.fields) for h in shown["ticket"]] + [article_source(h.fields) for h in shown["article"]]
    if intent.types[0] == "solutions":
        sources = sources[len(shown["ticket"]):] + sources[:len(shown["ticket"])]
    answer = extractive_answer(text, sources) if intent.wants_answer else None
    return web.json_response({
        "query_id": query_id, "query": text,
        "intent": {"types": list(intent.types), "answer": intent.wants_answer},
        "answer": {"text": answer.text, "citations": list(answer.citations)} if answer else None,
        "tickets": [ticket_hit(h, wanted) for h in shown["ticket"]],
        "solutions": [article_hit(h) for h in shown["article"]],
        "attachments": matching_attachments(text, [h.fields for h in attached], limit),
    })


def _types(body: dict[str, Any]) -> list[str] | None:
    raw = body.get("types")
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw or any(t not in CONTENT_TYPES for t in raw):
        raise RequestError(400, "invalid_field", f"types must be a non-empty list of {', '.join(CONTENT_TYPES)}",
                           "types")
    return [str(t) for t in raw]
