"""Domain objects <-> Avro bytes: the one place that knows which contract each type travels as."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from copilot import domain
from schemas.codec import default_codec

T = TypeVar("T")

_CONTRACTS: dict[type, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    domain.TicketEvent: ("TicketEvent", domain.ticket_from_record),
    domain.ConversationEvent: ("ConversationEvent", domain.conversation_from_record),
    domain.ArticleEvent: ("ArticleEvent", domain.article_from_record),
    domain.MergedDocument: ("MergedDocument", domain.document_from_record),
    domain.SummarizedDocument: ("SummarizedDocument", domain.summarized_from_record),
    domain.DeadLetter: ("DeadLetter", lambda rec: domain.DeadLetter(**rec)),
    domain.FeedbackEvent: ("FeedbackEvent", domain.feedback_from_record),
}


def serialize(obj: Any) -> bytes:
    record, _ = _CONTRACTS[type(obj)]
    return default_codec().encode(record, domain.to_record(obj))


def deserialize(cls: type[T], data: bytes) -> T:
    """Raises SerializationError for bytes that are not a valid message of that contract."""
    record, build = _CONTRACTS[cls]
    try:
        return build(default_codec().decode(record, data))
    except TypeError as exc:
        from copilot.errors import SerializationError

        raise SerializationError(f"{record} does not fit {cls.__name__}: {exc}") from exc
