"""The platform-adapter interface: another helpdesk is one new adapter, not a new pipeline.

Adapters turn a platform's API into the project's own events (copilot.domain); nothing downstream knows
which helpdesk a document came from except its `platform` field.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from datetime import datetime

from copilot.agent_scope import AgentScope
from copilot.domain import ArticleEvent, Attachment, ConversationEvent, TicketEvent


class PlatformAdapter(ABC):
    platform: str

    @abstractmethod
    def changed_tickets(self, since: datetime, feed: str | None = None) -> AsyncIterator[list[TicketEvent]]:
        """Pages of tickets changed at or after `since`, oldest change first (conversation ids not yet set).

        `feed` None is live tickets; "deleted" and "spam" list tickets removed from view, which leave the index.
        """

    @abstractmethod
    async def fetch_ticket(self, ticket_id: int) -> TicketEvent | None:
        """The ticket's current state, or None when the platform no longer serves it."""

    @abstractmethod
    async def fetch_conversations(self, ticket_id: int) -> list[ConversationEvent]:
        """Every conversation of the ticket, oldest first, across all pages."""

    @abstractmethod
    async def fetch_attachments(self, ticket_id: int) -> list[Attachment]:
        """Attachment metadata of the ticket and its conversations (never the expiring URLs)."""

    @abstractmethod
    async def fetch_agent_scope(self, agent_id: int) -> AgentScope | None:
        """Which tickets the agent may see, or None when the platform has no such agent."""

    @abstractmethod
    async def fetch_knowledge_base(self) -> list[ArticleEvent]:
        """Every knowledge-base article, drafts included (the index decides what to recommend)."""
