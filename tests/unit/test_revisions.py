"""Revisions of merged documents: (seen_at, merged-topic offset), the offset carried in a header once the
document moves to the deferred topic; a stored newer revision supersedes an older one, never an equal one; a
summary is outdated once a document of its ticket seen later was summarized."""

from types import SimpleNamespace
from typing import Any

from streams.revisions import carried, outdated, revision_of, superseded
from streams.rows import ms
from tests.helpers import at


def event(offset: int, headers: dict[str, bytes] | None = None) -> Any:
    return SimpleNamespace(message=SimpleNamespace(offset=offset), headers=headers or {})


def test_a_deferred_document_keeps_the_offset_it_had_in_the_merged_topic():
    doc: Any = SimpleNamespace(seen_at=at(5))
    merged = event(41)
    assert revision_of(merged, doc) == (ms(at(5)), 41)
    assert revision_of(event(3, carried(merged)), doc) == (ms(at(5)), 41)  # 3: its offset in the deferred topic


def test_a_document_moved_twice_keeps_its_first_offset():
    doc: Any = SimpleNamespace(seen_at=at(5))
    deferred = event(3, carried(event(41)))  # then dead-lettered and re-driven: its copy lands at offset 9
    assert revision_of(event(9, carried(deferred)), doc) == (ms(at(5)), 41)


def test_only_a_newer_stored_revision_supersedes():
    assert superseded([ms(at(2)), 0], (ms(at(1)), 9))  # seen later, whatever the offsets
    assert superseded([ms(at(1)), 9], (ms(at(1)), 8))  # seen in the same poll, merged later
    assert not superseded([ms(at(1)), 8], (ms(at(1)), 8))  # the same document again: a redelivery
    assert not superseded([ms(at(1)), 8], (ms(at(1)), 9))
    assert not superseded(None, (ms(at(1)), 0))


def test_a_summary_is_outdated_only_once_a_ticket_document_seen_later_was_summarized():
    assert outdated([ms(at(2)), 0], at(1))  # a dead letter re-driven after a newer document
    assert not outdated([ms(at(1)), 9], at(1))  # the newest itself, or one seen in the same poll
    assert not outdated([ms(at(1)), 0], at(2))
    assert not outdated(None, at(1))
