from dataclasses import replace

from streams.merging import (
    JoinState,
    apply_conversation,
    apply_event,
    apply_ticket,
    decode_state,
    emit,
    encode_state,
    merged_document,
)
from tests.helpers import conversation, ticket


def _state(*events):
    state = JoinState()
    for event in events:
        state = apply_event(state, event)
    return state


def test_document_waits_for_every_listed_conversation():
    t = ticket(conversation_ids=(11, 12), updated=5)
    assert merged_document(_state(t, conversation(11))) is None
    doc = merged_document(_state(t, conversation(11), conversation(12, created=2)))
    assert doc is not None and [c.conversation_id for c in doc.conversations] == [11, 12]


def test_result_does_not_depend_on_arrival_order():
    t = ticket(conversation_ids=(11, 12), updated=5)
    c1, c2 = conversation(11, created=1, incoming=True), conversation(12, created=2)
    docs = {merged_document(_state(*order)) for order in [(t, c1, c2), (c2, t, c1), (c1, c2, t)]}
    assert len(docs) == 1


def test_conversations_ordered_by_time_with_authors():
    t = ticket(conversation_ids=(12, 11), updated=5)
    doc = merged_document(_state(t, conversation(12, created=3), conversation(11, created=1, incoming=True)))
    assert [(c.conversation_id, c.author) for c in doc.conversations] == [(11, "customer"), (12, "agent")]


def test_metadata_change_keeps_content_hash_but_changes_state_hash():
    before = merged_document(_state(ticket(status=2, updated=1)))
    after = merged_document(_state(ticket(status=4, updated=2)))
    assert before.content_hash == after.content_hash
    assert before.state_hash != after.state_hash


def test_reassignment_is_a_metadata_change_the_document_carries():
    before = merged_document(_state(ticket(group_id=5, responder_id=None, updated=1)))
    after = merged_document(_state(ticket(group_id=6, responder_id=70, updated=2)))
    assert (after.group_id, after.responder_id) == (6, 70)
    assert before.content_hash == after.content_hash  # no new summary for a reassignment
    assert before.state_hash != after.state_hash  # but the index row changes


def test_new_reply_changes_content_hash():
    before = merged_document(_state(ticket(conversation_ids=(11,), updated=1), conversation(11)))
    after = merged_document(_state(ticket(conversation_ids=(11, 12), updated=3), conversation(11),
                                   conversation(12, created=3, body="Fixed by re-uploading the certificate.")))
    assert before.content_hash != after.content_hash


def test_late_older_ticket_snapshot_is_ignored():
    newer = ticket(subject="new subject", updated=10)
    state = apply_ticket(_state(newer), ticket(subject="old subject", updated=5))
    assert state.ticket.subject == "new subject"


def test_deleted_conversation_disappears_but_early_new_one_is_kept():
    state = _state(ticket(conversation_ids=(11, 12), updated=5), conversation(11), conversation(12))
    early = conversation(13, created=20)  # arrived before the ticket snapshot that lists it
    state = apply_conversation(state, early)
    state = apply_ticket(state, ticket(conversation_ids=(11,), updated=6))
    assert set(state.conversations) == {11, 13}


def test_spam_or_deleted_ticket_yields_a_deleted_document():
    assert merged_document(_state(ticket(spam=True))).deleted
    assert merged_document(_state(ticket(deleted=True))).deleted


def test_state_survives_encoding():
    state = replace(_state(ticket(conversation_ids=(11,)), conversation(11)), emitted_state_hash="abc")
    assert decode_state(encode_state(state)) == state
    assert decode_state(None) == JoinState()


def test_a_document_is_emitted_once_per_state_and_again_when_it_changes():
    state, doc = emit(_state(ticket(conversation_ids=(11,), updated=5)))
    assert doc is None and state.emitted_state_hash is None  # conversation 11 has not arrived
    state, doc = emit(apply_event(state, conversation(11)))
    assert doc is not None and state.emitted_state_hash == doc.state_hash
    assert emit(apply_event(state, conversation(11))) == (state, None)  # redelivered: nothing new
    state, doc = emit(apply_event(state, ticket(conversation_ids=(11,), updated=6, status=4)))
    assert doc is not None and doc.status == 4
