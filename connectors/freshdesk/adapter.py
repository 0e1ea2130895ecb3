"""Freshdesk implementation of the platform adapter: API v2 objects -> the project's events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from connectors.base import PlatformAdapter
from connectors.freshdesk.client import FreshdeskClient
from connectors.freshdesk.timefmt import format_ts, parse
from copilot.agent_scope import AgentScope
from copilot.domain import ArticleEvent, Attachment, ConversationEvent, TicketEvent, utcnow


class FreshdeskAdapter(PlatformAdapter):
    platform = "freshdesk"

    def __init__(self, tenant: str, client: FreshdeskClient, clock: Callable[[], datetime] = utcnow) -> None:
        self.tenant = tenant
        self.client = client
        self._clock = clock

    async def changed_tickets(self, since: datetime, feed: str | None = None) -> AsyncIterator[list[TicketEvent]]:
        async for page in self.client.tickets_updated_since(format_ts(since), feed):
            seen = self._clock()
            yield [ticket_event(self.tenant, raw, seen) for raw in page]

    async def fetch_ticket(self, ticket_id: int) -> TicketEvent | None:
        raw = await self.client.ticket(ticket_id)
        return ticket_event(self.tenant, raw, self._clock()) if raw else None

    async def fetch_conversations(self, ticket_id: int) -> list[ConversationEvent]:
        seen = self._clock()
        raws = await self.client.conversations(ticket_id)
        return [conversation_event(self.tenant, ticket_id, raw, seen) for raw in raws]

    async def fetch_attachments(self, ticket_id: int) -> list[Attachment]:
        ticket = await self.fetch_ticket(ticket_id)
        conversations = await self.fetch_conversations(ticket_id)
        own = list(ticket.attachments) if ticket else []
        return own + [a for c in conversations for a in c.attachments]

    async def fetch_agent_scope(self, agent_id: int) -> AgentScope | None:
        raw = await self.client.agent(agent_id)
        return AgentScope.from_freshdesk(raw) if raw else None

    async def fetch_knowledge_base(self) -> list[ArticleEvent]:
        seen = self._clock()
        return [article_event(self.tenant, raw, seen) for raw in await self.client.solution_articles()]


def attachments(raws: list[dict[str, Any]] | None) -> tuple[Attachment, ...]:
    return tuple(
        Attachment(int(a["id"]), str(a.get("name", "")), str(a.get("content_type", "")),
                   int(a.get("size", a.get("file_size", 0)) or 0))
        for a in raws or ()
    )


def ticket_event(tenant: str, raw: dict[str, Any], seen: datetime) -> TicketEvent:
    return TicketEvent(
        tenant=tenant, ticket_id=int(raw["id"]), subject=str(raw.get("subject") or ""),
        description_text=str(raw.get("description_text") or ""), status=int(raw.get("status") or 2),
        priority=int(raw.get("priority") or 1), source=raw.get("source"), type=raw.get("type"),
        tags=tuple(raw.get("tags") or ()), requester_id=raw.get("requester_id"),
        responder_id=raw.get("responder_id"), group_id=raw.get("group_id"),
        created_at=parse(raw["created_at"]), updated_at=parse(raw["updated_at"]), seen_at=seen,
        attachments=attachments(raw.get("attachments")), deleted=bool(raw.get("deleted")),
        spam=bool(raw.get("spam")),
    )


def conversation_event(tenant: str, ticket_id: int, raw: dict[str, Any], seen: datetime) -> ConversationEvent:
    return ConversationEvent(
        tenant=tenant, ticket_id=ticket_id, conversation_id=int(raw["id"]),
        body_text=str(raw.get("body_text") or ""), incoming=bool(raw.get("incoming")),
        private=bool(raw.get("private")), user_id=raw.get("user_id"), source=raw.get("source"),
        created_at=parse(raw["created_at"]), updated_at=parse(raw.get("updated_at") or raw["created_at"]),
        seen_at=seen, attachments=attachments(raw.get("attachments")),
    )


def article_event(tenant: str, raw: dict[str, Any], seen: datetime) -> ArticleEvent:
    return ArticleEvent(
        tenant=tenant, article_id=int(raw["id"]), title=str(raw.get("title") or ""),
        description_text=str(raw.get("description_text") or ""), status=int(raw.get("status") or 1),
        category_id=raw.get("category_id"), folder_id=raw.get("folder_id"), tags=tuple(raw.get("tags") or ()),
        updated_at=parse(raw.get("updated_at") or format_ts(seen)), seen_at=seen,
    )
