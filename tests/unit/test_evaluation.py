from copilot.evaluation import Query, recall_at, reciprocal_rank, score


def test_metrics_on_a_hand_computed_example():
    q1 = Query("q1", 10, frozenset({3, 4}))
    q2 = Query("q2", 11, frozenset({7}))
    rankings = {"q1": [9, 3, 8, 4], "q2": [1, 2, 3]}
    assert recall_at(rankings["q1"], q1.relevant, 1) == 0.0
    assert recall_at(rankings["q1"], q1.relevant, 5) == 1.0
    assert reciprocal_rank(rankings["q1"], q1.relevant) == 0.5
    metrics = score(rankings, [q1, q2])
    assert metrics == {"R@1": 0.0, "R@5": 0.5, "R@10": 0.5, "MRR@10": 0.25}


def test_a_query_without_a_ranking_is_a_miss():
    assert score({}, [Query("q", 1, frozenset({2}))])["R@10"] == 0.0
