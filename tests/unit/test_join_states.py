"""The merge agent's kept join states: the same bytes and states as decoding and encoding every record, at the
cost of the record's own event."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

import streams.merging
from copilot.domain import ConversationEvent, TicketEvent
from streams.join_states import JoinStates
from streams.merging import JoinState, apply_event, decode_state, encode_state
from tests.helpers import at, conversation, ticket

KEY = b"acme.freshdesk.com:1"


def records(conversations: int) -> Iterator[TicketEvent | ConversationEvent]:
    """A ticket listing its conversations, then each of them, then an edit of one and a deletion of another."""
    ids = tuple(range(100, 100 + conversations))
    yield ticket(conversation_ids=ids, updated=5)
    for n, cid in enumerate(ids):
        yield conversation(cid, created=n + 1)
    yield conversation(ids[0], created=1, updated_at=at(9), body="Edited.")
    yield ticket(conversation_ids=ids[1:], updated=10)


def step(state: JoinState, n: int, record: TicketEvent | ConversationEvent) -> JoinState:
    """What the merge agent does with a record: apply it, and now and then emit a document."""
    state = apply_event(state, record)
    return replace(state, emitted_state_hash=f"emitted at {n}") if n % 3 == 0 else state


def test_kept_states_store_what_encoding_every_record_stores() -> None:
    states, stored, plain = JoinStates(), None, None
    for n, record in enumerate(records(6)):
        stored = states.dump(KEY, step(states.load(KEY, stored), n, record))
        plain = encode_state(step(decode_state(plain), n, record))
        assert stored == plain
    assert decode_state(stored) == states.load(KEY, stored)
    assert sorted(decode_state(stored).conversations) == list(range(101, 106))


def test_a_record_encodes_its_own_event_and_decodes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded, decoded = counting(monkeypatch)
    states, stored = JoinStates(), None
    for record in records(40):
        stored = states.dump(KEY, apply_event(states.load(KEY, stored), record))
    assert encoded == [1] * 43  # before: 1, 2, ..., 41 pieces per record: quadratic in the conversations
    assert decoded == []


def test_a_state_the_table_no_longer_holds_is_decoded_from_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """After a rebalance another worker may have written the key, or a write may have failed: the table wins."""
    states = JoinStates()
    mine = states.dump(KEY, apply_event(JoinState(), ticket(conversation_ids=(11,), updated=5)))
    theirs = encode_state(apply_event(decode_state(mine), conversation(11)))
    _, decoded = counting(monkeypatch)
    assert states.load(KEY, theirs) == decode_state(theirs)
    assert states.load(KEY, None) == JoinState()
    assert states.load(KEY, mine) == decode_state(mine)
    assert decoded, "the table's bytes were decoded"


def test_only_the_latest_tickets_stay_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    states = JoinStates(kept=2)
    stored = {key: states.dump(key, apply_event(JoinState(), ticket(ticket_id=n)))
              for n, key in enumerate([b"a", b"b", b"c"])}
    _, decoded = counting(monkeypatch)
    states.load(b"c", stored[b"c"])
    states.load(b"b", stored[b"b"])
    assert decoded == []
    states.load(b"a", stored[b"a"])
    assert len(decoded) == 1


def counting(monkeypatch: pytest.MonkeyPatch) -> tuple[list[int], list[type]]:
    """(pieces encoded per encoding of a state, each piece decoded), as streams.merging does them."""
    encoded: list[int] = []
    decoded: list[type] = []
    serialize, deserialize = streams.merging.serialize, streams.merging.deserialize
    state_blobs = streams.merging.state_blobs

    def counted_blobs(*args: object, **kwargs: object) -> object:
        encoded.append(0)
        return state_blobs(*args, **kwargs)  # type: ignore[arg-type]

    def counted_serialize(obj: object) -> bytes:
        encoded[-1] += 1
        return serialize(obj)

    def counted_deserialize(cls: type, data: bytes) -> object:
        decoded.append(cls)
        return deserialize(cls, data)

    monkeypatch.setattr(streams.merging, "serialize", counted_serialize)
    monkeypatch.setattr(streams.merging, "deserialize", counted_deserialize)
    monkeypatch.setattr("streams.join_states.state_blobs", counted_blobs)
    return encoded, decoded
