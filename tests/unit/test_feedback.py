"""The rerank model: smoothed, decayed, and specific to the context a vote was given in."""

from __future__ import annotations

import numpy as np
import pytest

from api.ranking import reordered
from copilot.feedback import DAY_MS, ItemFeedback, RerankPolicy, boost, decode, encode, quantize, record_vote, unit

POLICY = RerankPolicy(half_life_days=30, prior_votes=3, max_boost=0.25, context_floor=0.35, global_share=0.02)
NOW = 1_700_000_000_000
rng = np.random.default_rng(7)
SSO, BILLING = unit(rng.normal(size=384)), unit(rng.normal(size=384))  # unrelated: cosine near 0


def near(vector: np.ndarray, noise: float = 0.3) -> np.ndarray:
    return unit(vector + noise * unit(rng.normal(size=vector.shape[0])))


def votes(*ratings: bool, context: np.ndarray = SSO, at: int = NOW) -> ItemFeedback:
    agg = None
    for n, positive in enumerate(ratings):
        agg = record_vote(agg, f"vote-{n}", at, positive, quantize(near(context)), POLICY)
    assert agg is not None
    return agg


def test_no_votes_leave_the_score_alone():
    assert boost(None, SSO, NOW, POLICY) == 1.0


def test_one_vote_nudges_and_agreement_lifts_more_within_the_bound():
    one, three, many = votes(True), votes(True, True, True), votes(*[True] * 20)
    factors = [boost(agg, near(SSO), NOW, POLICY) for agg in (one, three, many)]
    assert 1.0 < factors[0] < 1.1  # one vote does not swing a ranking
    assert factors[0] < factors[1] < factors[2] <= 1.25
    assert boost(votes(False, False, False), near(SSO), NOW, POLICY) < 0.9


def test_votes_count_where_the_context_is_similar_not_elsewhere():
    agg = votes(True, True, True, True)
    on_topic, off_topic = boost(agg, near(SSO), NOW, POLICY), boost(agg, BILLING, NOW, POLICY)
    assert on_topic > 1.1
    assert 1.0 <= off_topic < 1.01  # only the small context-free share


def test_votes_fade_with_their_half_life():
    agg = votes(True, True, True, True)
    fresh = boost(agg, SSO, NOW, POLICY) - 1
    later = boost(agg, SSO, NOW + 30 * DAY_MS, POLICY) - 1
    much_later = boost(agg, SSO, NOW + 365 * DAY_MS, POLICY) - 1
    assert 0.3 * fresh < later < 0.8 * fresh  # half the mass, smoothed by the prior
    assert much_later < 0.01


def test_mixed_votes_cancel():
    assert boost(votes(True, False, True, False), SSO, NOW, POLICY) == pytest.approx(1.0, abs=1e-3)


def test_a_redelivered_vote_is_not_counted_twice():
    once = record_vote(None, "same", NOW, True, quantize(SSO), POLICY)
    assert record_vote(once, "same", NOW, True, quantize(SSO), POLICY) is None


def test_only_the_newest_votes_keep_their_context_but_all_count_globally():
    agg = votes(*[True] * 30)
    assert len(agg.votes) == POLICY.max_votes
    assert agg.positive == pytest.approx(30)


def test_a_late_vote_arrives_already_aged():
    agg = record_vote(record_vote(None, "new", NOW, True, quantize(SSO), POLICY), "old", NOW - 30 * DAY_MS, False,
                      quantize(SSO), POLICY)
    assert agg is not None
    assert agg.positive == pytest.approx(1.0) and agg.negative == pytest.approx(0.5)
    assert [v.feedback_id for v in agg.votes] == ["old", "new"]


def test_the_aggregate_round_trips_through_its_encoding():
    agg = votes(True, False, True)
    again = decode(encode(agg))
    assert again == agg
    assert boost(again, SSO, NOW, POLICY) == boost(agg, SSO, NOW, POLICY)


def test_votes_move_items_by_positions_whatever_the_scores():
    assert reordered([1.0] * 8) == list(range(8))  # no votes: retrieval order
    lifted = reordered([1.0] * 12 + [1.1] + [1.0] * 5)
    assert 4 <= lifted.index(12) <= 8  # a factor of 1.1 is worth about six places
    demoted = reordered([0.9] + [1.0] * 11)
    assert 4 <= demoted.index(0) <= 8  # the first item, disliked as much, goes down as far
    assert reordered([1.25] + [1.0] * 3)[0] == 0  # already first stays first
