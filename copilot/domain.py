"""Domain types shared by the connector, the stream agents and the API, kept apart from the wire format.

`to_record`/`from_record` convert to and from the plain dicts that the Avro contracts in schemas/ describe.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def utcnow() -> datetime:
    """Now in UTC at millisecond precision: what Avro's timestamp-millis keeps, so values round-trip."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def item_key(tenant: str, item_type: str, item_id: int) -> str:
    return f"{tenant}/{item_type}/{item_id}"


def tenant_of_key(key: str) -> str:
    """The tenant of an item_key (tenants are domains: they hold no slash)."""
    return key.rsplit("/", 2)[0]


def ticket_key(tenant: str, ticket_id: int) -> str:
    """Kafka key of every ticket-scoped message: tickets and conversations share it to be co-partitioned."""
    return item_key(tenant, "ticket", ticket_id)


def article_key(tenant: str, article_id: int) -> str:
    return item_key(tenant, "article", article_id)


@dataclass(frozen=True)
class Attachment:
    attachment_id: int
    name: str
    content_type: str
    size: int


@dataclass(frozen=True)
class TicketEvent:
    """The state of one ticket as the poller saw it, with the ids of every conversation it has."""

    tenant: str
    ticket_id: int
    subject: str
    description_text: str
    status: int
    priority: int
    created_at: datetime
    updated_at: datetime
    seen_at: datetime
    source: int | None = None
    type: str | None = None
    tags: tuple[str, ...] = ()
    requester_id: int | None = None
    responder_id: int | None = None
    group_id: int | None = None
    attachments: tuple[Attachment, ...] = ()
    conversation_ids: tuple[int, ...] = ()
    deleted: bool = False
    spam: bool = False
    platform: str = "freshdesk"

    @property
    def key(self) -> str:
        return ticket_key(self.tenant, self.ticket_id)


@dataclass(frozen=True)
class ConversationEvent:
    tenant: str
    ticket_id: int
    conversation_id: int
    body_text: str
    incoming: bool
    private: bool
    created_at: datetime
    updated_at: datetime
    seen_at: datetime
    user_id: int | None = None
    source: int | None = None
    attachments: tuple[Attachment, ...] = ()
    platform: str = "freshdesk"

    @property
    def key(self) -> str:
        return ticket_key(self.tenant, self.ticket_id)


@dataclass(frozen=True)
class ArticleEvent:
    """A knowledge-base article; `deleted` also covers articles that disappeared from the listing."""

    tenant: str
    article_id: int
    title: str
    description_text: str
    status: int
    updated_at: datetime
    seen_at: datetime
    category_id: int | None = None
    folder_id: int | None = None
    tags: tuple[str, ...] = ()
    deleted: bool = False
    platform: str = "freshdesk"

    @property
    def key(self) -> str:
        return article_key(self.tenant, self.article_id)

    @property
    def published(self) -> bool:
        return self.status == 2 and not self.deleted


@dataclass(frozen=True)
class MergedConversation:
    conversation_id: int
    author: str  # "customer" or "agent"
    private: bool
    created_at: datetime
    body_text: str


@dataclass(frozen=True)
class MergedDocument:
    """Ticket + conversations + attachment metadata as one document, with two hashes.

    `content_hash` covers what retrieval and summaries read; `state_hash` also covers metadata (status, assignment,
    priority, tags), so a status change re-indexes without re-summarizing.
    """

    tenant: str
    ticket_id: int
    subject: str
    description_text: str
    status: int
    priority: int
    created_at: datetime
    updated_at: datetime
    seen_at: datetime
    content_hash: str
    state_hash: str
    tags: tuple[str, ...] = ()
    conversations: tuple[MergedConversation, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    deleted: bool = False
    platform: str = "freshdesk"
    group_id: int | None = None  # who may see the ticket (agent scope)
    responder_id: int | None = None

    @property
    def key(self) -> str:
        return ticket_key(self.tenant, self.ticket_id)


@dataclass(frozen=True)
class Summary:
    problem: str
    cause: str
    solution: str
    result: str
    language: str = "en"
    confidence: float = 0.5
    summarizer: str = "local"
    fallback: bool = False


@dataclass(frozen=True)
class SummarizedDocument:
    document: MergedDocument
    summary: Summary | None
    summarized_at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class DeadLetter:
    stage: str
    error: str
    source_topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    failed_at: datetime = field(default_factory=utcnow)
    headers: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedbackEvent:
    """A vote on an item, keyed by the item so one partition aggregates all of that item's votes."""

    tenant: str
    feedback_id: str
    query_id: str
    item_type: str  # "ticket" | "article"
    item_id: int
    rating: str  # "positive" | "negative"
    context: tuple[float, ...]
    given_at: datetime
    context_ticket_id: int | None = None
    agent_id: str | None = None

    @property
    def key(self) -> str:
        return item_key(self.tenant, self.item_type, self.item_id)


def to_record(obj: Any) -> Any:
    """Dataclass -> Avro-ready dict (tuples become lists, nested dataclasses dicts)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_record(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple | list):
        return [to_record(item) for item in obj]
    return obj


def _attachments(items: list[dict[str, Any]] | None) -> tuple[Attachment, ...]:
    return tuple(Attachment(**item) for item in items or ())


def ticket_from_record(rec: dict[str, Any]) -> TicketEvent:
    return TicketEvent(**{
        **rec,
        "tags": tuple(rec.get("tags") or ()),
        "attachments": _attachments(rec.get("attachments")),
        "conversation_ids": tuple(rec.get("conversation_ids") or ()),
    })


def conversation_from_record(rec: dict[str, Any]) -> ConversationEvent:
    return ConversationEvent(**{**rec, "attachments": _attachments(rec.get("attachments"))})


def article_from_record(rec: dict[str, Any]) -> ArticleEvent:
    return ArticleEvent(**{**rec, "tags": tuple(rec.get("tags") or ())})


def document_from_record(rec: dict[str, Any]) -> MergedDocument:
    return MergedDocument(**{
        **rec,
        "tags": tuple(rec.get("tags") or ()),
        "conversations": tuple(MergedConversation(**c) for c in rec.get("conversations") or ()),
        "attachments": _attachments(rec.get("attachments")),
    })


def feedback_from_record(rec: dict[str, Any]) -> FeedbackEvent:
    return FeedbackEvent(**{**rec, "context": tuple(rec["context"])})


def summarized_from_record(rec: dict[str, Any]) -> SummarizedDocument:
    summary = rec.get("summary")
    return SummarizedDocument(
        document=document_from_record(rec["document"]),
        summary=Summary(**summary) if summary else None,
        summarized_at=rec["summarized_at"],
    )
