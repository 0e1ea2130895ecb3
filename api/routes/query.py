"""POST /query: an agent's question, routed by intent to tickets, KB articles and attachments, answered from
what was retrieved and citing it.

With `"stream": true` the reply is Server-Sent Events: `results` (everything but the answer), then `answer`
events carrying pieces of the answer as the model writes them, then `done` with the citations. The answer
comes from the chat model when one is configured, else it is extractive (copilot.answering); if the model
fails, the extractive answer is given and marked `fallback`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from aiohttp import web
from openai import OpenAIError

from api.errors import RequestError
from api.keys import AGENT_SCOPES, ANSWERER, EMBEDDER, INDEX, RESULTS, SEARCHES, tenant_of
from api.presenters import article_hit, ticket_hit
from api.ranking import remember_shown, rerank
from api.validation import bounded_int, json_object, optional_int, text_field
from copilot.agent_scope import AgentScope
from copilot.answering import (
    CONTENT_TYPES,
    Source,
    analyze_intent,
    article_source,
    cited,
    extractive_answer,
    matching_attachments,
    ticket_source,
    words,
)
from copilot.feedback import candidates
from copilot.index import Hit
from copilot.providers.answerer import LLMAnswerer
from copilot.tenants import Tenant

log = logging.getLogger(__name__)
MAX_QUERY_CHARS = 2000
CACHED_AS = {"tickets": "tickets", "solutions": "articles", "attachments": "attached"}  # content type -> cache key


async def query(request: web.Request) -> web.StreamResponse:
    body = await json_object(request)
    text = text_field(body, "query", MAX_QUERY_CHARS)
    limit = bounded_int(body.get("limit"), "limit", 10, 1, tenant_of(request).retrieval.max_results)
    ticket_id = optional_int(body, "ticket_id", 1, 2**62)  # the ticket the agent has open: never a result
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise RequestError(400, "invalid_field", "stream must be true or false", "stream")
    intent = analyze_intent(text, _types(body))
    results, sources = await _retrieve(request, text, intent.types, limit, ticket_id)
    results["intent"] = {"types": list(intent.types), "answer": intent.wants_answer}
    pieces = _Pieces(request.app.get(ANSWERER), text, sources) if intent.wants_answer else None
    if stream:
        return await _stream(request, results, pieces, sources)
    results["answer"] = None
    if pieces is not None:
        written = "".join([piece async for piece in pieces.stream])
        results["answer"] = {"text": written, "citations": list(cited(written, sources)),
                             "fallback": pieces.fallback}
    return web.json_response(results)


async def _retrieve(request: web.Request, text: str, types: tuple[str, ...], limit: int, ticket_id: int | None
                    ) -> tuple[dict[str, Any], list[Source]]:
    who = tenant_of(request)
    tenant = who.tenant_id
    scope = await request.app[AGENT_SCOPES].of_request(request, who)
    asked = {"query": text, "types": list(types), "limit": limit, "ticket_id": ticket_id,
             "scope": scope.cache_identity() if scope else None, "retrieval": who.retrieval.dump()}
    results = request.app[RESULTS]
    key = results.key(tenant, "query", asked)
    found = await results.get(key)
    if found is None:
        async def search_and_store() -> dict[str, Any]:
            generation = await results.generation(tenant)
            fresh, listed = await _candidates(request, who, text, types, limit, ticket_id, scope)
            await results.put(tenant, key, fresh, generation, listed)
            return fresh
        found = await request.app[SEARCHES].run(("query", key), search_and_store)
    vector = found["vector"]
    tickets, articles, attached = ([Hit.load(h) for h in found[kind]] for kind in ("tickets", "articles", "attached"))
    shown = await rerank(request.app, tenant, vector,
                         {"ticket": (tickets, limit), "article": (articles, min(limit, 5))})
    query_id = await remember_shown(request.app, tenant, vector, shown, ticket_id)
    by_ticket = [ticket_source(h.fields) for h in shown["ticket"]]
    by_article = [article_source(h.fields) for h in shown["article"]]
    sources = by_article + by_ticket if types[0] == "solutions" else by_ticket + by_article
    wanted = set(words(text))
    return {
        "query_id": query_id, "query": text,
        "tickets": [ticket_hit(h, wanted) for h in shown["ticket"]],
        "solutions": [article_hit(h) for h in shown["article"]],
        "attachments": matching_attachments(text, [h.fields for h in attached], limit),
    }, sources


async def _candidates(request: web.Request, who: Tenant, text: str, types: tuple[str, ...], limit: int,
                      ticket_id: int | None, scope: AgentScope | None) -> tuple[dict[str, Any], list[str]]:
    """(the question's vector and the Milvus candidates per content type: what the result cache keeps, the
    primary keys of every candidate: a change to any of them makes that stale)."""
    [embedded] = await request.app[EMBEDDER].embed([text])
    vector = [float(x) for x in embedded]
    index, tenant, fusion = request.app[INDEX], who.tenant_id, who.retrieval

    def tickets(with_attachments: bool) -> Awaitable[list[Hit]]:
        return index.search_tickets(tenant, vector, text, candidates(limit), exclude_ticket=ticket_id,
                                    with_attachments=with_attachments, visible_to=scope, fusion=fusion)

    searches: dict[str, Callable[[], Awaitable[list[Hit]]]] = {
        "tickets": lambda: tickets(False), "attachments": lambda: tickets(True),
        "solutions": lambda: index.search_articles(tenant, vector, text, candidates(min(limit, 5)), fusion=fusion)}
    asked = [kind for kind in searches if kind in types]
    # side by side: the index batches the calls that arrive together
    hits = dict(zip(asked, await asyncio.gather(*(searches[kind]() for kind in asked)), strict=True))
    found = {"vector": vector, **{key: [h.dump() for h in hits.get(kind, [])] for kind, key in CACHED_AS.items()}}
    return found, [h.fields["pk"] for kind_hits in hits.values() for h in kind_hits]


class _Pieces:
    """The answer as it is written; `fallback` turns true if the model failed and the extract was given."""

    def __init__(self, answerer: LLMAnswerer | None, question: str, sources: list[Source]) -> None:
        self.fallback = False
        self.stream = self._pieces(answerer, question, sources)

    async def _pieces(self, answerer: LLMAnswerer | None, question: str, sources: list[Source]
                      ) -> AsyncIterator[str]:
        if answerer is not None:
            try:
                async for piece in answerer.stream(question, sources):
                    yield piece
                return
            except OpenAIError as exc:
                log.warning("chat model failed, answering extractively: %s", exc)
                self.fallback = True
        yield extractive_answer(question, sources)


async def _stream(request: web.Request, results: dict[str, Any], pieces: _Pieces | None,
                  sources: list[Source]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    await _event(response, "results", results)
    written = ""
    if pieces is not None:
        async for piece in pieces.stream:
            written += piece
            await _event(response, "answer", {"delta": piece})
    await _event(response, "done", {"citations": list(cited(written, sources)),
                                    "fallback": bool(pieces and pieces.fallback)})
    await response.write_eof()
    return response


async def _event(response: web.StreamResponse, name: str, data: dict[str, Any]) -> None:
    await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())


def _types(body: dict[str, Any]) -> list[str] | None:
    raw = body.get("types")
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw or any(t not in CONTENT_TYPES for t in raw):
        raise RequestError(400, "invalid_field", f"types must be a non-empty list of {', '.join(CONTENT_TYPES)}",
                           "types")
    return [str(t) for t in raw]
