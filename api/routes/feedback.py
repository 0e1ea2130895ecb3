"""POST /feedback: an agent's thumbs up or down on an item an answer showed, published to the feedback topic.

Only items the answer named by `query_id` showed can be voted on: the vote then carries the context they were
shown in (copilot.feedback). The id is derived from what was voted, so a double click counts once.
"""

from __future__ import annotations

import hashlib

from aiohttp import web

from api.agent_scope import agent_of
from api.errors import RequestError
from api.keys import FEEDBACK, PUBLISHER, SETTINGS, tenant_of
from api.validation import choice_field, json_object, optional_int, required_int, text_field
from connectors.publisher import OutgoingMessage, PublishError
from copilot.domain import FeedbackEvent, utcnow
from copilot.feedback import dequantize
from copilot.topics import TopicNames
from copilot.wire import serialize

ITEM_TYPES = ("ticket", "article")
RATINGS = ("positive", "negative")


async def feedback(request: web.Request) -> web.Response:
    body = await json_object(request)
    query_id = text_field(body, "query_id", 64)
    item_type = choice_field(body, "item_type", ITEM_TYPES)
    item_id = required_int(body, "item_id", 1, 2**62)
    rating = choice_field(body, "rating", RATINGS)
    ticket_id = optional_int(body, "ticket_id", 1, 2**62)
    tenant = tenant_of(request).tenant_id
    shown = await request.app[FEEDBACK].shown(tenant, query_id)
    if shown is None:
        raise RequestError(404, "query_not_found", f"no answer {query_id!r} to vote on (unknown or expired)",
                           "query_id")
    if (item_type, item_id) not in shown.items:
        raise RequestError(422, "item_not_shown", f"{item_type} {item_id} was not in answer {query_id}", "item_id")
    agent_id = agent_of(request)
    agent = None if agent_id is None else str(agent_id)
    event = FeedbackEvent(
        tenant=tenant, feedback_id=_vote_id(tenant, query_id, item_type, item_id, rating, agent),
        query_id=query_id, item_type=item_type, item_id=item_id, rating=rating,
        context=tuple(float(x) for x in dequantize(shown.context)), given_at=utcnow(),
        context_ticket_id=shown.context_ticket_id or ticket_id, agent_id=agent)
    topic = TopicNames(request.app[SETTINGS].kafka.namespace).feedback
    try:
        await request.app[PUBLISHER].publish([OutgoingMessage(topic, event.key, serialize(event))], ack_seconds=10)
    except PublishError as exc:
        raise RequestError(503, "feedback_unavailable", f"the vote was not stored, try again: {exc}") from exc
    return web.json_response({"status": "accepted", "feedback_id": event.feedback_id}, status=202)


def _vote_id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:32]
