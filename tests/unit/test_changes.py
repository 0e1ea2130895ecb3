from dataclasses import replace

from connectors.changes import Published, change_of
from tests.helpers import at, conversation, ticket


def _ids(change):
    return [c.conversation_id for c in change.conversations]


def test_a_first_sight_publishes_the_ticket_with_every_conversation():
    change = change_of(ticket(conversation_ids=(11, 12)), [conversation(11), conversation(12)], None)
    assert change.ticket is not None and sorted(_ids(change)) == [11, 12]


def test_the_same_content_seen_again_publishes_nothing_but_is_remembered_as_seen_later():
    convs = [conversation(11), conversation(12)]
    first = change_of(ticket(conversation_ids=(11, 12), updated=5), convs, None)
    later = [replace(c, seen_at=at(9)) for c in convs]
    again = change_of(ticket(conversation_ids=(11, 12), updated=5, seen_at=at(9)), later, first.remembered)
    assert again.ticket is None and again.conversations == []
    assert again.remembered.seen_ms > first.remembered.seen_ms  # so the ticket settles


def test_a_reply_publishes_the_ticket_and_only_the_new_conversation():
    first = change_of(ticket(conversation_ids=(11, 12)), [conversation(11), conversation(12)], None)
    reply = conversation(13, created=7, body="Fixed by rotating the certificate.")
    change = change_of(ticket(conversation_ids=(11, 12, 13), updated=7),
                       [conversation(11), conversation(12), reply], first.remembered)
    assert change.ticket is not None and change.ticket.conversation_ids == (11, 12, 13)
    assert _ids(change) == [13]


def test_an_edited_conversation_is_published_though_its_updated_at_did_not_move():
    first = change_of(ticket(conversation_ids=(11,)), [conversation(11)], None)
    edited = conversation(11, body="Please retry after clearing the cache.")  # same created and updated times
    change = change_of(ticket(conversation_ids=(11,)), [edited], first.remembered)
    assert _ids(change) == [11] and change.conversations[0].body_text.startswith("Please retry after")


def test_a_ticket_only_change_publishes_the_ticket_alone():
    first = change_of(ticket(conversation_ids=(11,)), [conversation(11)], None)
    change = change_of(ticket(conversation_ids=(11,), status=5, updated=8), [conversation(11)], first.remembered)
    assert change.ticket is not None and change.ticket.status == 5 and change.conversations == []


def test_a_restored_ticket_publishes_its_conversations_again():
    """The join drops the conversations of a deleted ticket, so a restore must send them all again."""
    live = change_of(ticket(conversation_ids=(11, 12)), [conversation(11), conversation(12)], None)
    deleted = change_of(ticket(deleted=True, updated=5), [], live.remembered)
    assert deleted.ticket is not None and deleted.conversations == []
    restored = change_of(ticket(conversation_ids=(11, 12), updated=9), [conversation(11), conversation(12)],
                         deleted.remembered)
    assert sorted(_ids(restored)) == [11, 12]


def test_a_ticket_stored_before_digests_were_kept_is_published_in_full():
    old = Published.load("5000:9000")
    assert (old.updated_ms, old.seen_ms, old.ticket_digest) == (5000, 9000, None)
    change = change_of(ticket(conversation_ids=(11,), updated=5), [conversation(11)], old)
    assert change.ticket is not None and _ids(change) == [11]


def test_what_is_remembered_survives_redis():
    change = change_of(ticket(conversation_ids=(11, 12)), [conversation(11), conversation(12)], None)
    assert Published.load(change.remembered.dump()) == change.remembered
    assert len(change.remembered.conversation_digests) == 2
