"""Revisions of merged documents: (seen_at, merged-topic offset), the offset carried in a header once the
document moves to the deferred topic; a stored newer revision supersedes an older one, never an equal one."""

from types import SimpleNamespace
from typing import Any

from streams.revisions import carried, revision_of, superseded
from streams.rows import ms
from tests.helpers import at


def event(offset: int, headers: dict[str, bytes] | None = None) -> Any:
    return SimpleNamespace(message=SimpleNamespace(offset=offset), headers=headers or {})


def test_a_deferred_document_keeps_the_offset_it_had_in_the_merged_topic():
    doc: Any = SimpleNamespace(seen_at=at(5))
    merged = event(41)
    assert revision_of(merged, doc) == (ms(at(5)), 41)
    assert revision_of(event(3, carried(merged)), doc) == (ms(at(5)), 41)  # 3: its offset in the deferred topic


def test_only_a_newer_stored_revision_supersedes():
    assert superseded([ms(at(2)), 0], (ms(at(1)), 9))  # seen later, whatever the offsets
    assert superseded([ms(at(1)), 9], (ms(at(1)), 8))  # seen in the same poll, merged later
    assert not superseded([ms(at(1)), 8], (ms(at(1)), 8))  # the same document again: a redelivery
    assert not superseded([ms(at(1)), 8], (ms(at(1)), 9))
    assert not superseded(None, (ms(at(1)), 0))
