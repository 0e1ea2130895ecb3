"""Which documents the index agent embeds again: compared with the stored row, or with the row the batch
before leaves while that batch is still being stored (streams.agents.index._changed)."""

from dataclasses import replace
from typing import Any

from copilot.domain import MergedDocument, SummarizedDocument, Summary
from streams.agents.index import IndexPlan, _changed
from streams.rows import row_identity
from tests.helpers import at

EMBEDS = {"acme": "text"}


def item(solution: str, deleted: bool = False) -> SummarizedDocument:
    doc = MergedDocument(tenant="acme", ticket_id=7, subject="Export fails", description_text="It stops.", status=2,
                         priority=1, created_at=at(0), updated_at=at(1), seen_at=at(1),
                         content_hash=f"hash-{solution}", state_hash="s", deleted=deleted)
    return SummarizedDocument(document=doc, summary=Summary("p", "c", solution, "r"), summarized_at=at(2))


class StoredRows:
    """Stands in for the index's lookup by key; remembers which keys it was asked for."""

    def __init__(self, rows: dict[str, dict[str, Any]]) -> None:
        self.rows = rows
        self.asked: list[str] = []

    async def stored_tickets(self, pks: list[str], fields: list[str]) -> dict[str, dict[str, Any]]:
        self.asked += pks
        return {pk: self.rows[pk] for pk in pks if pk in self.rows}


def plan_of(*items: SummarizedDocument) -> IndexPlan:
    live = [i for i in items if not i.document.deleted]
    return IndexPlan(live, [[0.0]] * 2 * len(live), EMBEDS, [], [i for i in items if i.document.deleted],
                     identities_of(*live))


def identities_of(*items: SummarizedDocument) -> dict[str, dict[str, Any]]:
    return {i.document.key: row_identity(i, "text") for i in items}


async def test_a_document_as_stored_is_not_embedded_again_and_a_different_one_is():
    a, b = item("restart"), item("reinstall")
    stored = StoredRows({a.document.key: row_identity(a, "text")})
    assert await _changed(stored, [a], identities_of(a), {}) == ([], [a])  # type: ignore[arg-type]
    assert await _changed(stored, [b], identities_of(b), {}) == ([b], [])  # type: ignore[arg-type]


async def test_a_key_the_batch_before_is_storing_is_compared_with_what_that_batch_leaves():
    a, b = item("restart"), item("reinstall")
    stored = StoredRows({a.document.key: row_identity(a, "text")})  # a is stored; b is being stored
    pending = plan_of(b).rows_after()
    assert await _changed(stored, [a], identities_of(a), pending) == ([a], [])  # back to a: not b, written again
    assert await _changed(stored, [b], identities_of(b), pending) == ([], [b])  # b again: the same as what is coming
    assert stored.asked == []  # the stored row says nothing about such a key
    deleted = plan_of(replace(b, document=replace(b.document, deleted=True))).rows_after()
    assert deleted == {a.document.key: None}
    assert await _changed(stored, [a], identities_of(a), deleted) == ([a], [])  # the row is about to go: written again
