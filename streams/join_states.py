"""The merge agent's join states, kept decoded between the records of a ticket.

Decoding the stored state for every record, and encoding each of its pieces again, made a ticket's join
quadratic in its conversations (bench.join_states: 200 ms of CPU for a ticket whose 100 conversations arrive
one by one, 11 ms kept). Kept here, a record decodes and encodes only its own event. A kept state is used only while
the table holds exactly the bytes it was stored as, so recovery, a rebalance or a failed write cost a decode
and nothing else.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from streams.merging import Blobs, JoinState, decode_blobs, encode_blobs, state_blobs

KEPT = 1024  # tickets whose state stays decoded: the records of one ticket arrive together


@dataclass(frozen=True)
class _Kept:
    stored: bytes | None  # the table's value this state was read from or written as
    state: JoinState
    blobs: Blobs


class JoinStates:
    def __init__(self, kept: int = KEPT) -> None:
        self._limit = kept
        self._kept: OrderedDict[Hashable, _Kept] = OrderedDict()

    def load(self, key: Hashable, stored: bytes | None) -> JoinState:
        """The state the table stores for `key` as `stored`."""
        kept = self._kept.get(key)
        if kept is None or kept.stored != stored:
            kept = self._keep(key, _Kept(stored, *decode_blobs(stored)))
        else:
            self._kept.move_to_end(key)
        return kept.state

    def dump(self, key: Hashable, state: JoinState) -> bytes:
        """`state` encoded for the table, re-encoding only the pieces that changed since the last load or dump
        of `key`."""
        kept = self._kept.get(key)
        blobs = state_blobs(state, kept.state, kept.blobs) if kept else state_blobs(state)
        stored = encode_blobs(state, blobs)
        self._keep(key, _Kept(stored, state, blobs))
        return stored

    def _keep(self, key: Hashable, kept: _Kept) -> _Kept:
        self._kept[key] = kept
        self._kept.move_to_end(key)
        while len(self._kept) > self._limit:
            self._kept.popitem(last=False)
        return kept
