"""What of a re-fetched ticket must be published: only what differs from what Kafka already acknowledged.

A ticket is re-fetched on every poll until its `updated_at` second has settled, and a new reply lists every
older conversation again. Publishing all of that each time multiplied the records per change (15 per reply in
`bench.pipeline`) in a conversations topic kept forever. The poller remembers a digest of the ticket
and of each conversation it published; the next fetch publishes the ticket and the conversations whose
digests are new, or nothing. Digests cover content, not `seen_at`, and a conversation edit (which moves its
`last_edited_at`, not its `updated_at`) changes its body and so its digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot.domain import ConversationEvent, TicketEvent, to_record
from copilot.fingerprint import json_digest

DIGEST_CHARS = 12  # 48 bits: a changed conversation passes for unchanged once in 10^13 among ten stored ones


@dataclass(frozen=True)
class Published:
    """What the poller last published of a ticket, as stored in Redis."""

    updated_ms: int
    seen_ms: int
    ticket_digest: str | None = None  # None: stored before digests were kept, so publish everything again
    conversation_digests: frozenset[str] = frozenset()

    def dump(self) -> str:
        return ":".join([str(self.updated_ms), str(self.seen_ms), self.ticket_digest or "",
                         " ".join(sorted(self.conversation_digests))])

    @classmethod
    def load(cls, raw: str) -> Published:
        updated_ms, seen_ms, ticket_digest, digests = (raw.split(":") + ["", ""])[:4]
        return cls(int(updated_ms), int(seen_ms), ticket_digest or None, frozenset(digests.split()))


@dataclass(frozen=True)
class Change:
    """The messages one fetch calls for (`ticket` None: nothing changed) and what to remember afterwards."""

    ticket: TicketEvent | None
    conversations: list[ConversationEvent]
    remembered: Published


def change_of(ticket: TicketEvent, conversations: list[ConversationEvent], previous: Published | None) -> Change:
    ticket_digest = digest(ticket)
    digests = {digest(c): c for c in conversations}
    remembered = Published(epoch_ms(ticket.updated_at), epoch_ms(ticket.seen_at), ticket_digest, frozenset(digests))
    known = previous.conversation_digests if previous else frozenset()  # empty if stored before digests
    new = [c for d, c in digests.items() if d not in known]
    if previous is not None and previous.ticket_digest == ticket_digest and not new:
        return Change(None, [], remembered)
    return Change(ticket, new, remembered)


def epoch_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def digest(event: TicketEvent | ConversationEvent) -> str:
    record: dict[str, Any] = to_record(event)
    del record["seen_at"]
    return json_digest(record)[:DIGEST_CHARS]
