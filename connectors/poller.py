"""Change data capture for one tenant: list changed tickets, fetch their conversations, publish what changed
(connectors.changes), then commit.

The cursor moves only after Kafka acknowledged every event of a page, so a crash anywhere resumes without a
gap; what is re-published after a crash is absorbed downstream by content hashes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass

from connectors.base import PlatformAdapter
from connectors.changes import Published, change_of
from connectors.publisher import KafkaPublisher, OutgoingMessage
from connectors.sync_state import SyncState, settled
from copilot.domain import ArticleEvent, ConversationEvent, TicketEvent, article_key, to_record, utcnow
from copilot.fingerprint import json_digest
from copilot.topics import TopicNames
from copilot.wire import serialize

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    """What a poll published: tickets (changed or new), conversations and articles."""

    tickets: int = 0
    conversations: int = 0
    articles: int = 0


class TenantPoller:
    def __init__(self, tenant: str, adapter: PlatformAdapter, publisher: KafkaPublisher, state: SyncState,
                 topics: TopicNames, concurrency: int = 4) -> None:
        self.tenant = tenant
        self.adapter = adapter
        self.publisher = publisher
        self.state = state
        self.topics = topics
        self._limit = asyncio.Semaphore(concurrency)

    async def sync_tickets(self) -> PollResult:
        """Live tickets, then the deleted and spam feeds (their tickets leave the index)."""
        result = PollResult()
        for feed in (None, "deleted", "spam"):
            async for page in self.adapter.changed_tickets(await self.state.cursor(feed), feed):
                if page:
                    await self._sync_page(page, feed, result)
        return result

    async def _sync_page(self, page: list[TicketEvent], feed: str | None, result: PollResult) -> None:
        """Publish what changed in the page and move the cursor. If some conversation fetches failed (after
        their retries), the tickets before the first failure are still published and committed, then the error
        is raised: under a storm of errors each poll makes progress instead of failing the whole page again."""
        previous = await self.state.published(page)
        fresh = [t for t in page if not settled(t, previous.get(t.ticket_id))]
        fetched = await asyncio.gather(*(self._with_conversations(t) for t in fresh), return_exceptions=True)
        outcomes = {t.ticket_id: outcome for t, outcome in zip(fresh, fetched, strict=True)}
        last_done: TicketEvent | None = None  # the end of the page's prefix that is safe to commit
        checked: dict[int, Published] = {}
        messages: list[OutgoingMessage] = []
        failure: BaseException | None = None
        for ticket in page:
            outcome = outcomes.get(ticket.ticket_id)  # None: settled before, nothing to do
            if isinstance(outcome, BaseException):
                failure = outcome
                break
            if outcome is not None:
                change = change_of(*outcome, previous.get(ticket.ticket_id))
                if change.ticket is not None:
                    messages += [OutgoingMessage(self.topics.conversations, c.key, serialize(c))
                                 for c in change.conversations]
                    messages.append(OutgoingMessage(self.topics.tickets, change.ticket.key, serialize(change.ticket)))
                    result.tickets += 1
                    result.conversations += len(change.conversations)
                checked[ticket.ticket_id] = change.remembered
            last_done = ticket
        if messages:
            await self.publisher.publish(messages)
        if last_done is not None:
            await self.state.commit(checked, cursor=last_done.updated_at, feed=feed)
        if failure is not None:
            raise failure

    async def _with_conversations(self, ticket: TicketEvent) -> tuple[TicketEvent, list[ConversationEvent]]:
        if ticket.deleted or ticket.spam:
            return ticket, []  # leaving the index: its conversations are not needed (a restore re-fetches them)
        async with self._limit:
            conversations = await self.adapter.fetch_conversations(ticket.ticket_id)
        ids = tuple(c.conversation_id for c in conversations)
        return dataclasses.replace(ticket, conversation_ids=ids), conversations

    async def sync_knowledge_base(self) -> PollResult:
        """Re-list every article and publish those whose content hash changed, plus deletions."""
        articles = await self.adapter.fetch_knowledge_base()
        known = await self.state.kb_hashes()
        current = {str(a.article_id): (a, article_hash(a)) for a in articles}
        changed = {aid: h for aid, (_, h) in current.items() if known.get(aid) != h}
        removed = [aid for aid in known if aid not in current]
        messages = [
            OutgoingMessage(self.topics.articles, current[aid][0].key, serialize(current[aid][0]))
            for aid in changed
        ] + [self._article_deleted(int(aid)) for aid in removed]
        if messages:
            await self.publisher.publish(messages)
        await self.state.commit_kb(changed, removed)
        return PollResult(articles=len(messages))

    def _article_deleted(self, article_id: int) -> OutgoingMessage:
        now = utcnow()
        tombstone = ArticleEvent(self.tenant, article_id, "", "", status=1, updated_at=now, seen_at=now,
                                 deleted=True)
        return OutgoingMessage(self.topics.articles, article_key(self.tenant, article_id), serialize(tombstone))


def article_hash(article: ArticleEvent) -> str:
    record = to_record(article)
    content = {k: record[k] for k in ("title", "description_text", "status", "tags", "category_id", "folder_id")}
    return json_digest(content)
