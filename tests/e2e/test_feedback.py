"""Votes through the real path: API -> feedback topic -> Faust table -> Redis mirror -> rerank."""

from __future__ import annotations

from typing import Any

from copilot.domain import FeedbackEvent
from copilot.topics import TopicNames
from copilot.wire import deserialize
from tests.e2e.conftest import Pipeline, Tenant
from tests.e2e.harness import http
from tests.helpers import read_topic, wait_for

DEADLINE = 60.0
SSO_QUESTION = "SSO login fails with a SAML error after we changed the identity provider"
SSO_PARAPHRASE = "single sign-on is broken, users get a SAML assertion error on login"
BILLING_QUESTION = "we were charged twice on our last invoice, please refund"


def ask(pipeline: Pipeline, tenant: Tenant, question: str, limit: int = 10) -> dict[str, Any]:
    status, body = http("POST", f"{pipeline.api}/query", tenant.headers, {"query": question, "limit": limit})
    assert status == 200, body
    return body


def rank_of(answer: dict[str, Any], ticket_id: int) -> int:
    return [t["ticket_id"] for t in answer["tickets"]].index(ticket_id)


def vote(pipeline: Pipeline, ticket_id: int, rating: str, voters: int) -> None:
    """Each agent votes on their own answer to the same question."""
    for n in range(voters):
        answer = ask(pipeline, pipeline.acme, SSO_PARAPHRASE, limit=20)
        status, body = http("POST", f"{pipeline.api}/feedback", {**pipeline.acme.headers,
                                                                 "X-Freshdesk-Agent-Id": str(_agent(rating, n))},
                            {"query_id": answer["query_id"], "item_type": "ticket", "item_id": ticket_id,
                             "rating": rating})
        assert status == 202, body


def _agent(rating: str, n: int) -> int:
    return (7100 if rating == "positive" else 7200) + n


def boost_in(answer: dict[str, Any], ticket_id: int) -> float:
    return next((t["feedback_boost"] for t in answer["tickets"] if t["ticket_id"] == ticket_id), 1.0)


def test_votes_rerank_similar_questions_only_and_only_for_their_tenant(pipeline: Pipeline):
    before = ask(pipeline, pipeline.acme, SSO_QUESTION, limit=20)
    billing_before = ask(pipeline, pipeline.acme, BILLING_QUESTION, limit=10)
    voted_on = {t["ticket_id"] for t in ask(pipeline, pipeline.acme, SSO_PARAPHRASE, limit=20)["tickets"]}
    in_both = [t["ticket_id"] for t in before["tickets"] if t["ticket_id"] in voted_on]
    disliked, liked = in_both[0], in_both[6]  # votes on the paraphrase; effect measured on the question
    vote(pipeline, liked, "positive", voters=3)
    vote(pipeline, disliked, "negative", voters=3)

    def reranked() -> dict[str, Any] | None:
        answer = ask(pipeline, pipeline.acme, SSO_QUESTION, limit=20)
        return answer if boost_in(answer, liked) > 1 and boost_in(answer, disliked) < 1 else None

    after = wait_for(reranked, DEADLINE, what="the votes to reach the rerank table")
    assert rank_of(after, liked) < rank_of(before, liked)
    assert rank_of(after, disliked) > rank_of(before, disliked)

    billing = ask(pipeline, pipeline.acme, BILLING_QUESTION, limit=10)  # SSO votes say nothing about billing:
    assert [t["ticket_id"] for t in billing["tickets"]] == [t["ticket_id"] for t in billing_before["tickets"]]
    assert all(abs(t["feedback_boost"] - 1) < 0.01 for t in billing["tickets"])

    bravo = ask(pipeline, pipeline.bravo, SSO_QUESTION, limit=24)
    assert all(t["feedback_boost"] == 1 for t in bravo["tickets"])  # same ticket ids, other tenant: untouched

    names = TopicNames(pipeline.settings_env["COPILOT_NAMESPACE"])
    events = [deserialize(FeedbackEvent, v)
              for _, v in read_topic(pipeline.settings_env["COPILOT_KAFKA_BOOTSTRAP"], names.feedback)]
    assert sorted((e.item_id, e.rating) for e in events) == sorted([(liked, "positive")] * 3
                                                                   + [(disliked, "negative")] * 3)
    assert {e.agent_id for e in events} == {str(_agent(r, n)) for r in ("positive", "negative") for n in range(3)}
    assert all(e.tenant == pipeline.acme.domain and len(e.context) == 384 for e in events)


def test_a_double_click_counts_once(pipeline: Pipeline):
    answer = ask(pipeline, pipeline.acme, "webhook deliveries are failing with timeouts")
    item = answer["tickets"][2]["ticket_id"]
    body = {"query_id": answer["query_id"], "item_type": "ticket", "item_id": item, "rating": "positive"}
    ids = {http("POST", f"{pipeline.api}/feedback", pipeline.acme.headers, body)[1]["feedback_id"] for _ in range(2)}
    assert len(ids) == 1


def test_bad_votes_get_a_4xx_naming_the_field(pipeline: Pipeline):
    answer = ask(pipeline, pipeline.acme, SSO_QUESTION, limit=3)
    shown = answer["tickets"][0]["ticket_id"]
    good = {"query_id": answer["query_id"], "item_type": "ticket", "item_id": shown, "rating": "positive"}
    never_shown = next(t["id"] for t in pipeline.acme.tickets if t["id"] not in
                       [x["ticket_id"] for x in answer["tickets"]])
    cases = [
        ({**good, "query_id": "no-such-answer"}, pipeline.acme, 404, "query_id"),
        ({**good, "item_id": never_shown}, pipeline.acme, 422, "item_id"),
        ({**good, "rating": "meh"}, pipeline.acme, 400, "rating"),
        ({**good, "item_type": "user"}, pipeline.acme, 400, "item_type"),
        ({k: v for k, v in good.items() if k != "item_id"}, pipeline.acme, 400, "item_id"),
        (good, pipeline.bravo, 404, "query_id"),  # another tenant cannot vote on acme's answer
    ]
    for body, tenant, expected, field in cases:
        status, payload = http("POST", f"{pipeline.api}/feedback", tenant.headers, body)
        assert status == expected, (body, payload)
        assert payload["field"] == field and payload["message"], payload
    status, payload = http("POST", f"{pipeline.api}/feedback",
                           {**pipeline.acme.headers, "X-Freshdesk-Agent-Id": "agent-7"}, good)
    assert (status, payload["field"]) == (400, "X-Freshdesk-Agent-Id")  # agents are Freshdesk's integer ids
