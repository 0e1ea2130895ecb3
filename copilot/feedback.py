"""How agents' votes rerank results: decayed over time, smoothed, and counted only where the context is similar.

The seed multiplied a liked item's score by a flat 1.2 (0.8 when disliked), everywhere and forever. Here each
vote keeps the embedding of the context it was given in (the query, or the ticket the agent had open). For a
new request, a vote counts in proportion to how similar its context is to the request's, so a ticket voted
useful for SSO problems gains nothing on a billing question. Votes lose half their weight every half-life,
and a neutral prior of `prior_votes` pseudo-votes keeps one vote from swinging a ranking.

The aggregate per item is what the worker's table holds and mirrors to Redis; it is JSON with the vote
contexts as base64 int8 (384 bytes for MiniLM), so the API can fetch a page of candidates in one round trip.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace

import numpy as np

DAY_MS = 86_400_000


def candidates(limit: int) -> int:
    """How many to retrieve for `limit` results, so that votes can lift an item from below the cut."""
    return min(limit * 2 + 5, 100)


@dataclass(frozen=True)
class RerankPolicy:
    half_life_days: float = 30.0
    prior_votes: float = 3.0  # neutral pseudo-votes: one vote in the exact context gets a quarter of max_boost
    max_boost: float = 0.25  # the factor lies within [1 - max_boost, 1 + max_boost] (api.ranking applies it)
    context_floor: float = 0.35  # a vote whose context is less similar than this does not count here
    global_share: float = 0.02  # weight of every vote regardless of context: broad agreement shows, a little
    max_votes: int = 20  # most recent votes kept with their context; older ones only in the global counts

    def decay(self, age_ms: float) -> float:
        return float(0.5 ** (max(age_ms, 0.0) / (self.half_life_days * DAY_MS)))


@dataclass(frozen=True)
class Vote:
    feedback_id: str
    at_ms: int
    sign: int  # +1 positive, -1 negative
    context: bytes  # unit vector quantized to int8


@dataclass(frozen=True)
class ItemFeedback:
    positive: float  # decayed mass of every positive vote, as of updated_ms
    negative: float
    updated_ms: int
    votes: tuple[Vote, ...] = ()  # the newest max_votes, oldest first


def unit(vector: list[float] | tuple[float, ...] | np.ndarray) -> np.ndarray:
    v = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def quantize(vector: list[float] | tuple[float, ...] | np.ndarray) -> bytes:
    return np.clip(np.round(unit(vector) * 127), -127, 127).astype(np.int8).tobytes()


def dequantize(data: bytes) -> np.ndarray:
    return unit(np.frombuffer(data, dtype=np.int8).astype(np.float32))


def record_vote(current: ItemFeedback | None, feedback_id: str, at_ms: int, positive: bool,
                context: bytes, policy: RerankPolicy) -> ItemFeedback | None:
    """The aggregate with one more vote; None if this vote is already counted (a redelivery)."""
    agg = current or ItemFeedback(0.0, 0.0, at_ms)
    if any(v.feedback_id == feedback_id for v in agg.votes):
        return None
    now = max(agg.updated_ms, at_ms)
    carried = policy.decay(now - agg.updated_ms)
    weight = policy.decay(now - at_ms)  # a late (replayed) vote arrives already aged
    votes = sorted((*agg.votes, Vote(feedback_id, at_ms, 1 if positive else -1, context)), key=lambda v: v.at_ms)
    return replace(agg, positive=agg.positive * carried + (weight if positive else 0.0),
                   negative=agg.negative * carried + (0.0 if positive else weight), updated_ms=now,
                   votes=tuple(votes[-policy.max_votes:]))


def boost(agg: ItemFeedback | None, context: np.ndarray, now_ms: int, policy: RerankPolicy) -> float:
    """The factor for an item's score in this context: 1.0 without relevant votes."""
    if agg is None:
        return 1.0
    carried = policy.decay(now_ms - agg.updated_ms)
    pos, neg = policy.global_share * agg.positive * carried, policy.global_share * agg.negative * carried
    for vote in agg.votes:
        similarity = float(np.dot(dequantize(vote.context), context))
        relevance = max(0.0, (similarity - policy.context_floor) / (1.0 - policy.context_floor))
        weight = relevance * policy.decay(now_ms - vote.at_ms)
        if vote.sign > 0:
            pos += weight
        else:
            neg += weight
    return 1.0 + policy.max_boost * (pos - neg) / (pos + neg + policy.prior_votes)


def encode(agg: ItemFeedback) -> str:
    return json.dumps({
        "positive": agg.positive, "negative": agg.negative, "updated_ms": agg.updated_ms,
        "votes": [[v.feedback_id, v.at_ms, v.sign, base64.b64encode(v.context).decode()] for v in agg.votes],
    }, separators=(",", ":"))


def decode(data: str | bytes) -> ItemFeedback:
    raw = json.loads(data)
    return ItemFeedback(raw["positive"], raw["negative"], raw["updated_ms"], tuple(
        Vote(fid, at, sign, base64.b64decode(ctx)) for fid, at, sign, ctx in raw["votes"]))

