"""Which of two merged documents of one ticket is the newer, whatever order they arrive in.

The summarize agent hands documents of tenants over their share to a lane of their own, so a ticket's documents
can reach the summaries topic out of order across the two lanes (and a dead letter re-driven later comes after
documents seen after it). A document's revision is (seen_at in ms, its offset in the merged-documents topic): `seen_at`
never falls along a ticket's documents, and the offset orders documents seen in the same poll. The offset goes
with a deferred document in a header, since its offset in the deferred topic counts something else.

The index agent reads the same table: a summary re-driven from the dead-letter topic after a newer document of
its ticket was summarized must not overwrite that one's row, nor bring back a ticket deleted since.
"""

from __future__ import annotations

from datetime import datetime

from faust.types import EventT

from copilot.domain import MergedDocument
from streams.rows import ms

HEADER = "copilot-revision"

Revision = tuple[int, int]


def revision_of(event: EventT, doc: MergedDocument) -> Revision:
    return ms(doc.seen_at), _merged_offset(event)


def carried(event: EventT) -> dict[str, bytes]:
    """The header that keeps a document's offset in the merged topic when it moves to another topic: the
    deferred lane, or the dead letters, whose replay sends it again."""
    return {HEADER: str(_merged_offset(event)).encode()}


def _merged_offset(event: EventT) -> int:
    header = event.headers.get(HEADER) if event.headers else None
    return int(header) if header is not None else event.message.offset


def superseded(stored: list[int] | None, revision: Revision) -> bool:
    """Whether a newer document of the ticket was handed on already (`stored`, as the table keeps it)."""
    return stored is not None and tuple(stored) > revision


def outdated(stored: list[int] | None, seen_at: datetime) -> bool:
    """Whether a summarized document seen at `seen_at` is older than the newest one of its ticket summarized
    (`stored`). Only `seen_at` travels with a summary, so two documents seen in the same poll both pass."""
    return stored is not None and stored[0] > ms(seen_at)
