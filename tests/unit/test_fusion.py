"""Weighted reciprocal-rank fusion and the per-tenant retrieval settings that drive it."""

import pytest

from copilot.documents import document_text, embedding_text
from copilot.domain import Summary
from copilot.fusion import fuse
from copilot.retrieval_config import RetrievalConfig, RetrievalConfigError
from streams.merging import JoinState, apply_ticket, merged_document
from tests.helpers import ticket


def test_items_in_both_lists_beat_items_in_one():
    fused = fuse([(["a", "b", "c"], 1.0), (["c", "a", "d"], 1.0)], k=10, limit=10)
    assert [item for item, _ in fused][:2] == ["a", "c"]
    assert fused[0][1] == pytest.approx(1 / 11 + 1 / 12)


def test_weights_decide_between_the_lists_and_zero_weight_ignores_one():
    dense, bm25 = ["d1", "d2"], ["b1", "b2"]
    assert fuse([(dense, 2.0), (bm25, 1.0)], k=10, limit=1)[0][0] == "d1"
    assert fuse([(dense, 1.0), (bm25, 2.0)], k=10, limit=1)[0][0] == "b1"
    assert [i for i, _ in fuse([(dense, 0.0), (bm25, 1.0)], k=10, limit=2)] == ["b1", "b2"]


def test_a_small_k_trusts_the_top_ranks_more():
    lists = [(["x", "a", "b", "y"], 1.0), (["c", "d", "e", "y"], 1.0)]  # x first once, y fourth twice

    def scores(k: int) -> dict[str, float]:
        return dict(fuse(lists, k=k, limit=10))

    assert scores(1)["x"] > scores(1)["y"]
    assert scores(60)["x"] < scores(60)["y"]


def test_settings_are_validated_and_name_the_field():
    with pytest.raises(RetrievalConfigError) as bad:
        RetrievalConfig(embed="vectors")
    assert bad.value.field == "embed"
    with pytest.raises(RetrievalConfigError) as both_zero:
        RetrievalConfig(dense_weight=0, bm25_weight=0)
    assert both_zero.value.field == "dense_weight"
    with pytest.raises(RetrievalConfigError) as unknown:
        RetrievalConfig.from_dict({"colour": "red"})
    assert unknown.value.field == "colour"
    with pytest.raises(RetrievalConfigError) as heavy:
        RetrievalConfig(subject_weight=11)
    assert heavy.value.field == "subject_weight"
    assert RetrievalConfig().changed(rrf_k=30, embed=None) == RetrievalConfig(rrf_k=30)
    assert RetrievalConfig.from_dict(RetrievalConfig(max_results=7).dump()).max_results == 7


def test_what_is_embedded_follows_the_setting():
    doc = merged_document(apply_ticket(JoinState(), ticket(subject="SSO fails", description_text="SAML error")))
    summary = Summary("Login broken", "IdP cert expired", "Renew the certificate", "solved")
    assert embedding_text(doc, summary, "text") == document_text(doc)
    assert embedding_text(doc, summary, "summary") == "SSO fails\nLogin broken\nIdP cert expired\nRenew the certificate"
    both = embedding_text(doc, summary, "both")
    assert both.startswith("SSO fails\nLogin broken") and both.endswith("SAML error")
    assert embedding_text(doc, None, "summary") == document_text(doc)  # nothing summarized yet: the text


def test_each_ranking_takes_the_weight_of_what_it_searched():
    config = RetrievalConfig(dense_weight=2.0, bm25_weight=0.5, subject_weight=0.0)
    assert [config.weight(signal) for signal in ("dense", "sparse", "subject_dense", "subject_sparse")] == [
        2.0, 0.5, 0.0, 0.0]
