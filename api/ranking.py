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


def candidates(limit: int) -> int:
    """How many to retrieve so that feedback can lift an item from below the cut."""
    return min(limit * 2 + 5, 100)


async def rerank(app: web.Application, tenant: str, context: list[float],
                 results: dict[str, tuple[list[Hit], int]], scale: float) -> dict[str, list[Hit]]:
    """`results` maps an item type to (candidates, how many to keep); one Redis round trip for all.

    A vote's factor moves an item by (factor - 1) x `scale`, the best score the fusion can give (a quarter of
    it at most), so the pull does not depend on the fusion's weights. A small RRF constant still spreads the
    top scores apart, and votes then move the top items less."""
    policy = app[SETTINGS].feedback.policy()
    items = {kind: [(kind, int(h.fields[ID_FIELD[kind]])) for h in hits] for kind, (hits, _) in results.items()}
    votes = await app[FEEDBACK].aggregates(tenant, [i for kind_items in items.values() for i in kind_items])
    here, now = unit(context), int(time.time() * 1000)
    ranked = {}
    for kind, (hits, keep) in results.items():
        boosted = [_boosted(hit, boost(votes.get(item), here, now, policy), scale)
                   for hit, item in zip(hits, items[kind], strict=True)]
        ranked[kind] = sorted(boosted, key=lambda h: -h.score)[:keep]
    return ranked


def _boosted(hit: Hit, factor: float, scale: float) -> Hit:
    return replace(hit, score=hit.score + (factor - 1.0) * scale, feedback=factor) if factor != 1.0 else hit


async def remember_shown(app: web.Application, tenant: str, context: list[float] | np.ndarray,
                         shown: dict[str, list[Hit]], ticket_id: int | None = None) -> str:
    """A new query_id for this answer; votes on it are accepted for exactly the items shown."""
    query_id = str(uuid.uuid4())
    items: set[Item] = {(kind, int(h.fields[ID_FIELD[kind]])) for kind, hits in shown.items() for h in hits}
    await app[FEEDBACK].remember(tenant, query_id, ShownResults(quantize(context), frozenset(items), ticket_id))
    return query_id
