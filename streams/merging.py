"""The ticket/conversation join as pure functions: state in, state and maybe a merged document out.

The state is order-independent: the newest version of each piece wins, so redelivery and interleaving of
the two topics give the same document. A document is emitted only once every conversation the ticket lists
has arrived, and only when its state hash changed since the last emission.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace

from copilot.domain import ConversationEvent, MergedConversation, MergedDocument, TicketEvent
from copilot.fingerprint import json_digest
from copilot.wire import deserialize, serialize


@dataclass(frozen=True)
class JoinState:
    ticket: TicketEvent | None = None
    conversations: dict[int, ConversationEvent] = field(default_factory=dict)
    emitted_state_hash: str | None = None


def apply_ticket(state: JoinState, ticket: TicketEvent) -> JoinState:
    if state.ticket and state.ticket.updated_at > ticket.updated_at:
        return state  # an older snapshot arrived late
    listed = set(ticket.conversation_ids)
    # Conversations the ticket no longer lists were deleted, unless they are newer than this snapshot.
    kept = {cid: c for cid, c in state.conversations.items() if cid in listed or c.created_at > ticket.updated_at}
    return replace(state, ticket=ticket, conversations=kept)


def apply_conversation(state: JoinState, conv: ConversationEvent) -> JoinState:
    existing = state.conversations.get(conv.conversation_id)
    if existing and existing.updated_at > conv.updated_at:
        return state
    return replace(state, conversations={**state.conversations, conv.conversation_id: conv})


def apply_event(state: JoinState, event: TicketEvent | ConversationEvent) -> JoinState:
    if isinstance(event, TicketEvent):
        return apply_ticket(state, event)
    return apply_conversation(state, event)


def emit(state: JoinState) -> tuple[JoinState, MergedDocument | None]:
    """(the state marked as emitted, the document to send) when the document is complete and differs from the
    one last sent; else (the state, None)."""
    doc = merged_document(state)
    if doc is None or doc.state_hash == state.emitted_state_hash:
        return state, None
    return replace(state, emitted_state_hash=doc.state_hash), doc


def merged_document(state: JoinState) -> MergedDocument | None:
    """The document, once the ticket and all the conversations it lists are present."""
    ticket = state.ticket
    if ticket is None or any(cid not in state.conversations for cid in ticket.conversation_ids):
        return None
    convs = sorted((state.conversations[cid] for cid in ticket.conversation_ids),
                   key=lambda c: (c.created_at, c.conversation_id))
    merged = tuple(
        MergedConversation(c.conversation_id, "customer" if c.incoming else "agent", c.private, c.created_at,
                           c.body_text)
        for c in convs
    )
    attachments = ticket.attachments + tuple(a for c in convs for a in c.attachments)
    content = content_hash(ticket.subject, ticket.description_text, merged, attachments)
    deleted = ticket.deleted or ticket.spam
    state_hash = json_digest({"content": content, "status": ticket.status, "priority": ticket.priority,
                       "tags": sorted(ticket.tags), "deleted": deleted, "group_id": ticket.group_id,
                       "responder_id": ticket.responder_id})
    return MergedDocument(
        tenant=ticket.tenant, ticket_id=ticket.ticket_id, subject=ticket.subject,
        description_text=ticket.description_text, status=ticket.status, priority=ticket.priority,
        created_at=ticket.created_at, updated_at=ticket.updated_at,
        seen_at=max([ticket.seen_at, *(c.seen_at for c in convs)]), content_hash=content, state_hash=state_hash,
        tags=ticket.tags, conversations=merged, attachments=attachments, deleted=deleted, platform=ticket.platform,
        group_id=ticket.group_id, responder_id=ticket.responder_id,
    )


def merge_snapshot(ticket: TicketEvent, conversations: list[ConversationEvent]) -> MergedDocument:
    """The document of a ticket read in one go with all its conversations (on demand, benchmarks)."""
    state = apply_ticket(JoinState(), replace(ticket, conversation_ids=tuple(c.conversation_id
                                                                             for c in conversations)))
    for conversation in conversations:
        state = apply_conversation(state, conversation)
    doc = merged_document(state)
    assert doc is not None  # every listed conversation was just added
    return doc


def content_hash(subject: str, description: str, conversations: tuple[MergedConversation, ...],
                 attachments: tuple) -> str:
    """Over what retrieval and summaries read; metadata-only changes leave it alone."""
    return json_digest({
        "subject": subject, "description": description,
        "conversations": [[c.conversation_id, c.author, c.private, c.body_text] for c in conversations],
        "attachments": sorted([a.name, a.content_type, a.size] for a in attachments),
    })


# -- table encoding: Avro bytes inside JSON, so the state carries schema fingerprints and can evolve ----------
Blobs = dict[int | None, str]  # base64 Avro of each piece of a state: None for its ticket, else a conversation id


def encode_state(state: JoinState) -> bytes:
    return encode_blobs(state, state_blobs(state))


def decode_state(raw: bytes | None) -> JoinState:
    return decode_blobs(raw)[0]


def state_blobs(state: JoinState, previous: JoinState | None = None, known: Blobs | None = None) -> Blobs:
    """Each piece of `state` encoded; a piece that is the very object it was in `previous` keeps its blob from
    `known` (the apply functions keep the pieces they do not replace), so a record encodes only its own."""
    def blob(pid: int | None, piece: object, before: object) -> str:
        return known[pid] if known and pid in known and piece is before else _b64(serialize(piece))

    earlier = previous or JoinState()
    blobs: Blobs = {cid: blob(cid, c, earlier.conversations.get(cid)) for cid, c in state.conversations.items()}
    if state.ticket is not None:
        blobs[None] = blob(None, state.ticket, earlier.ticket)
    return blobs


def encode_blobs(state: JoinState, blobs: Blobs) -> bytes:
    return json.dumps({
        "ticket": blobs[None] if state.ticket else None,
        "conversations": {str(cid): blobs[cid] for cid in state.conversations},
        "emitted": state.emitted_state_hash,
    }).encode()


def decode_blobs(raw: bytes | None) -> tuple[JoinState, Blobs]:
    if not raw:
        return JoinState(), {}
    data = json.loads(raw)
    blobs: Blobs = {int(cid): blob for cid, blob in data["conversations"].items()}
    if data["ticket"]:
        blobs[None] = data["ticket"]
    state = JoinState(
        ticket=deserialize(TicketEvent, base64.b64decode(data["ticket"])) if data["ticket"] else None,
        conversations={cid: deserialize(ConversationEvent, base64.b64decode(blob))
                       for cid, blob in blobs.items() if cid is not None},
        emitted_state_hash=data["emitted"],
    )
    return state, blobs


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
