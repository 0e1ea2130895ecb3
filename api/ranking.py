"""The last step of every answer: feedback rerank of the retrieved candidates, and remembering what was shown
so that a vote can refer to it (with the context it was shown in)."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import numpy as np
from aiohttp import web

from api.keys import FEEDBACK, SETTINGS
from copilot.feedback import boost, quantize, unit
from copilot.feedback_store import Item, ShownResults
from copilot.index import Hit

ID_FIELD = {"ticket": "ticket_id", "article": "article_id"}
POSITION_K = 60  # how far apart positions are for the votes' pull (the classic RRF constant)


async def rerank(app: web.Application, tenant: str, context: list[float],
                 results: dict[str, tuple[list[Hit], int]]) -> dict[str, list[Hit]]:
    """`results` maps an item type to (candidates in retrieval order, how many to keep); one Redis round trip.

    Votes move items by positions, not by score, so how hard they pull does not depend on the fusion (its
    weights, its RRF constant): the item at position p (from 0) counts 1 / (POSITION_K + 1 + p), its vote
    factor adds (factor - 1) / (POSITION_K + 1), and the list is sorted again. A factor of 1.1 near the top
    is worth about six places."""
    policy = app[SETTINGS].feedback.policy()
    items = {kind: [(kind, int(h.fields[ID_FIELD[kind]])) for h in hits] for kind, (hits, _) in results.items()}
    votes = await app[FEEDBACK].aggregates(tenant, [i for kind_items in items.values() for i in kind_items])
    here, now = unit(context), int(time.time() * 1000)
    ranked = {}
    for kind, (hits, keep) in results.items():
        factors = [boost(votes.get(item), here, now, policy) for item in items[kind]]
        ranked[kind] = [replace(hits[p], feedback=factors[p]) for p in reordered(factors)[:keep]]
    return ranked


def reordered(factors: list[float]) -> list[int]:
    """Positions (retrieval order, from 0) sorted again after the votes' factors; ties keep retrieval order."""
    return sorted(range(len(factors)), key=lambda p: -(1 / (POSITION_K + 1 + p)
                                                       + (factors[p] - 1.0) / (POSITION_K + 1)))


async def remember_shown(app: web.Application, tenant: str, context: list[float] | np.ndarray,
                         shown: dict[str, list[Hit]], ticket_id: int | None = None) -> str:
    """A new query_id for this answer; votes on it are accepted for exactly the items shown."""
    query_id = str(uuid.uuid4())
    items: set[Item] = {(kind, int(h.fields[ID_FIELD[kind]])) for kind, hits in shown.items() for h in hits}
    await app[FEEDBACK].remember(tenant, query_id, ShownResults(quantize(context), frozenset(items), ticket_id))
    return query_id
