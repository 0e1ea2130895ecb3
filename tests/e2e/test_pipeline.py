"""The whole product on real Kafka, Redis and Milvus: simulator -> poller -> Faust -> Milvus -> API."""

from __future__ import annotations

import json
import re
import threading
import urllib.error

from confluent_kafka import Producer
from pymilvus import MilvusClient
from redis import Redis

from copilot.domain import DeadLetter, SummarizedDocument, ticket_key
from copilot.result_cache import neighbourhood_key
from copilot.topics import TopicNames
from copilot.wire import deserialize
from tests.e2e.conftest import Pipeline, worker_metric
from tests.e2e.harness import http, server_sent_events
from tests.helpers import free_port, read_topic, wait_for

DEADLINE = 60.0
SSO_WORDS = ("sso", "sign-on", "saml", "identity provider")


def _first(tickets: list[dict], tag: str, status: int | None = None) -> dict:
    return next(t for t in tickets if tag in t["tags"] and (status is None or t["status"] == status))


def test_init_returns_a_summary_and_really_similar_tickets(pipeline: Pipeline):
    sso = _first(pipeline.acme.tickets, "sso", status=5)
    status, body = http("GET", f"{pipeline.api}/init/{sso['id']}?limit=5", pipeline.acme.headers)
    assert status == 200, body
    summary = body["ticket_summary"]
    assert summary["problem"].startswith(sso["subject"])
    assert summary["cause"] != "Not identified in the conversation."
    similar = body["similar_tickets"]
    assert len(similar) == 5 and sso["id"] not in [s["ticket_id"] for s in similar]
    for item in similar:  # SSO tickets find SSO tickets, not billing ones
        assert "sso" in item["tags"], item
        assert item["resolution"] and item["status"] in {"resolved", "closed", "open"}
    assert "SAML" in body["related_solutions"][0]["title"] or "sign-on" in body["related_solutions"][0]["title"]
    assert all(a["title"] != "Draft: upcoming SSO changes" for a in body["related_solutions"])
    assert body["indexed"]["content_hash"] and body["indexed"]["indexed_at"]

    billing = _first(pipeline.acme.tickets, "billing", status=4)
    _, billing_body = http("GET", f"{pipeline.api}/init/{billing['id']}?limit=3", pipeline.acme.headers)
    assert all("billing" in s["tags"] for s in billing_body["similar_tickets"])


def test_a_new_reply_changes_the_merged_document_and_its_summary(pipeline: Pipeline):
    open_ticket = _first(pipeline.acme.tickets, "api", status=2)
    url = f"{pipeline.api}/init/{open_ticket['id']}"
    env = pipeline.settings_env
    redis = Redis.from_url(env["COPILOT_REDIS_URL"])
    entry = neighbourhood_key(env["COPILOT_NAMESPACE"], pipeline.acme.domain, open_ticket["id"])
    # an open ticket's /init searches are made by the worker once it is indexed, before anyone asks
    wait_for(lambda: redis.exists(entry) or None, DEADLINE, what="the worker to warm the open ticket's /init")
    _, before = http("GET", url, pipeline.acme.headers)
    assert before["ticket_summary"]["solution"] == "No solution recorded yet."
    assert redis.exists(entry)  # below, the change must invalidate it, or the old summary would stay
    reply = ("We found the cause: a second integration shares the rate limit. "
             "Spread the sync over the hour and honour the Retry-After header.")
    status, _ = pipeline.acme.simulator_call("POST", f"/tickets/{open_ticket['id']}/reply", {"body": reply})
    assert status == 201

    def updated() -> dict | None:
        _, body = http("GET", url, pipeline.acme.headers)
        return body if body["indexed"]["content_hash"] != before["indexed"]["content_hash"] else None

    after = wait_for(updated, DEADLINE, what="the reply to reach the index")
    assert "Spread the sync over the hour" in after["ticket_summary"]["solution"]
    assert "second integration shares the rate limit" in after["ticket_summary"]["cause"]
    assert after["indexed"]["source_updated_at"] > before["indexed"]["source_updated_at"]


def test_a_started_worker_loads_its_model_and_opens_its_index_before_any_event(pipeline: Pipeline):
    """Loading takes seconds; a worker that waited for its first batch would make that batch wait, after every
    start and rebalance. This one has a namespace of its own, whose topics stay empty."""
    port = free_port()
    pipeline.procs.start("idle-worker", "worker", extra={
        "COPILOT_NAMESPACE": pipeline.settings_env["COPILOT_NAMESPACE"] + "idle", "COPILOT_METRICS_PORT": str(port)})

    def ready() -> bool:
        assert pipeline.procs.alive("idle-worker"), pipeline.procs.tail()
        try:
            return worker_metric(port, "copilot_worker_ready") == 1
        except urllib.error.URLError:
            return False  # its metrics server is not up yet

    try:
        wait_for(ready, DEADLINE * 2, interval=0.5, what="the idle worker to load its model and open its index")
        assert worker_metric(port, "copilot_documents_total", 'stage="merge",outcome="emitted"') == 0
    finally:
        pipeline.procs.stop_one("idle-worker")


def test_a_change_is_timed_at_every_stage_and_in_kafka(pipeline: Pipeline):
    stages = ("merge", "summarize", "index")

    def counts() -> dict[str, tuple[float, float]]:
        return {stage: (pipeline.metric("copilot_freshness_seconds_count", f'stage="{stage}"'),
                        pipeline.metric("copilot_kafka_transit_seconds_count", f'stage="{stage}"'))
                for stage in stages}

    ticket = _first(pipeline.acme.tickets, "billing")
    before = counts()
    status, _ = pipeline.acme.simulator_call("POST", f"/tickets/{ticket['id']}/reply", {"body": "Refund issued."})
    assert status == 201
    wait_for(lambda: all(c[0] > before[s][0] for s, c in counts().items()) or None, DEADLINE,
             what="the reply to pass every stage")
    after = counts()
    assert all(after[s][1] > before[s][1] for s in stages), (before, after)  # each hop read from Kafka, timed
    for stage in stages:
        transit = pipeline.metric("copilot_kafka_transit_seconds_sum", f'stage="{stage}"') / after[stage][1]
        freshness = pipeline.metric("copilot_freshness_seconds_sum", f'stage="{stage}"') / after[stage][0]
        assert 0 < transit < DEADLINE and 0 < freshness < DEADLINE, (stage, transit, freshness)


def test_requests_without_valid_credentials_get_401_and_tenants_never_mix(pipeline: Pipeline):
    acme, bravo, api = pipeline.acme, pipeline.bravo, pipeline.api
    for headers in ({**acme.headers, "X-Freshdesk-Api-Key": bravo.api_key},
                    {**acme.headers, "X-Freshdesk-Domain": "unknown.freshdesk.test"}, {}):
        status, body = http("GET", f"{api}/init/1", headers)
        assert status == 401 and body["error"] == "unauthorized"
        assert http("POST", f"{api}/query", headers, {"query": "sso"})[0] == 401

    # Ticket 1 exists in both accounts with different content: each tenant sees only its own.
    _, own = http("GET", f"{api}/init/1", bravo.headers)
    assert own["subject"].startswith("Bravo: ")
    assert all(s["subject"].startswith("Bravo: ") for s in own["similar_tickets"])
    _, found = http("POST", f"{api}/query", bravo.headers, {"query": "SSO login fails with SAML error", "limit": 20})
    assert found["tickets"] and all(t["subject"].startswith("Bravo: ") for t in found["tickets"])
    _, acme_found = http("POST", f"{api}/query", acme.headers, {"query": "SSO login SAML", "limit": 20})
    assert acme_found["tickets"] and not any(t["subject"].startswith("Bravo") for t in acme_found["tickets"])
    assert any(w in acme_found["tickets"][0]["subject"].lower() for w in SSO_WORDS)


def test_a_question_gets_an_answer_quoting_and_citing_only_what_was_retrieved(pipeline: Pipeline):
    api, headers = pipeline.api, pipeline.acme.headers
    sso = _first(pipeline.acme.tickets, "sso", status=5)
    question = {"query": "How do I fix SSO login failing with a SAML error?", "ticket_id": sso["id"], "limit": 5}
    status, body = http("POST", f"{api}/query", headers, question)
    assert status == 200, body
    assert body["intent"] == {"types": ["tickets", "solutions"], "answer": True}
    assert sso["id"] not in [t["ticket_id"] for t in body["tickets"]]  # the open ticket is not its own answer
    assert "sso" in body["tickets"][0]["tags"] and {"saml", "sso"} & set(body["tickets"][0]["matched_terms"])
    sources = {f"[#{t['ticket_id']}]": f"{t['summary']['solution']} {t['summary']['result']}" for t in body["tickets"]}
    sources |= {f"[KB-{a['article_id']}]": a["snippet"] for a in body["solutions"]}
    quoted = re.findall(r"(.+?)\. (\[(?:#|KB-)\d+\])(?: |$)", body["answer"]["text"])
    assert quoted and set(body["answer"]["citations"]) == {c for _, c in quoted}
    for sentence, citation in quoted:  # grounded: every sentence is in the item it cites
        assert sentence.strip() in sources[citation], (sentence, citation)

    events = server_sent_events(f"{api}/query", headers, {**question, "stream": True})
    names = [name for name, _ in events]
    assert names[0] == "results" and names[-1] == "done" and set(names[1:-1]) == {"answer"}
    assert [t["ticket_id"] for t in events[0][1]["tickets"]] == [t["ticket_id"] for t in body["tickets"]]
    streamed = "".join(data["delta"] for name, data in events if name == "answer")
    assert streamed == body["answer"]["text"] and events[-1][1]["citations"] == body["answer"]["citations"]

    status, listing = http("POST", f"{api}/query", headers, {"query": "show tickets about duplicate invoices"})
    assert status == 200 and listing["answer"] is None and listing["intent"]["answer"] is False
    assert "billing" in listing["tickets"][0]["tags"]

    files = {"query": "screenshot png", "types": ["attachments"], "limit": 3}
    status, found = http("POST", f"{api}/query", headers, files)
    assert status == 200 and found["tickets"] == [] and found["solutions"] == []
    assert found["attachments"] and all(a["content_type"] == "image/png" for a in found["attachments"])
    acme_ids = {t["id"] for t in pipeline.acme.tickets if t["attachments"]}
    assert {a["ticket_id"] for a in found["attachments"]} <= acme_ids


def test_bad_requests_get_a_4xx_naming_the_problem(pipeline: Pipeline):
    api, headers = pipeline.api, pipeline.acme.headers
    cases = [
        ("GET", "/init/abc", None, None, 400, "ticket_id"),
        ("GET", "/init/1?limit=51", None, None, 400, "limit"),
        ("GET", "/init/99999", None, None, 404, "ticket_id"),
        ("POST", "/query", None, b"{not json", 400, None),
        ("POST", "/query", {"limit": 3}, None, 400, "query"),
        ("POST", "/query", {"query": "sso", "limit": 0}, None, 400, "limit"),
        ("POST", "/query", {"query": "sso", "types": ["emails"]}, None, 400, "types"),
        ("POST", "/query", {"query": "sso", "ticket_id": "x"}, None, 400, "ticket_id"),
        ("POST", "/query", {"query": "sso", "stream": "yes"}, None, 400, "stream"),
        ("POST", "/query", None, b"x" * 70_000, 413, None),
    ]
    for method, path, body, raw, expected, field in cases:
        status, payload = http(method, api + path, headers, body, raw)
        assert status == expected, (path, payload)
        assert payload["error"] and payload["message"]
        assert payload.get("field") == field, (path, payload)


def test_a_poison_message_is_dead_lettered_and_processing_continues(pipeline: Pipeline):
    env = pipeline.settings_env
    names = TopicNames(env["COPILOT_NAMESPACE"])
    key = f"{pipeline.acme.domain}/ticket/424242".encode()
    producer = Producer({"bootstrap.servers": env["COPILOT_KAFKA_BOOTSTRAP"], "partitioner": "murmur2_random"})
    producer.produce(names.tickets, key=key, value=b"\x00garbage that is not avro")
    assert producer.flush(10) == 0

    ticket = _first(pipeline.acme.tickets, "email")
    pipeline.acme.simulator_call("POST", f"/tickets/{ticket['id']}/reply",
                                 {"body": "Fixed by rotating the DKIM selector copilot-e2e."})
    wait_for(lambda: "copilot-e2e" in http("GET", f"{pipeline.api}/init/{ticket['id']}",
                                           pipeline.acme.headers)[1]["ticket_summary"]["solution"],
             DEADLINE, what="processing after the poison message")

    letters = [deserialize(DeadLetter, v) for _, v in read_topic(env["COPILOT_KAFKA_BOOTSTRAP"], names.dead_letters)]
    assert len(letters) == 1
    letter = letters[0]
    assert letter.stage == "merge" and letter.source_topic == names.tickets and letter.key == key
    assert letter.value == b"\x00garbage that is not avro" and "SerializationError" in letter.error

    listed = [json.loads(line) for line in pipeline.procs.run("dlq", "list", "--json").splitlines()]
    assert [(e["stage"], e["key"]) for e in listed] == [("merge", key.decode())]
    # Re-driving a still-bad message dead-letters it again as a new letter; each letter is replayed once.
    for replays, letters_after in ((1, 2), (1, 3)):
        assert f"replayed {replays} message(s)" in pipeline.procs.run("dlq", "replay")
        wait_for(lambda n=letters_after: len(read_topic(env["COPILOT_KAFKA_BOOTSTRAP"], names.dead_letters)) == n,
                 DEADLINE, what="the replayed message to be dead-lettered again")


def test_unchanged_content_published_again_causes_no_new_summary(pipeline: Pipeline):
    calls_before = pipeline.metric("copilot_llm_calls_total", 'summarizer="local"')
    assert calls_before >= len(pipeline.acme.tickets)
    ns, tenant = pipeline.settings_env["COPILOT_NAMESPACE"], pipeline.bravo.domain
    redis = Redis.from_url(pipeline.settings_env["COPILOT_REDIS_URL"])
    redis.delete(f"{ns}:sync:{tenant}:cursor", f"{ns}:sync:{tenant}:published")  # the poller forgets bravo
    wait_for(lambda: pipeline.status()["tenants"][tenant]["tickets_seen"] == len(pipeline.bravo.tickets)
             and pipeline.status()["total_lag"] == 0, DEADLINE, what="bravo re-published and consumed")
    assert pipeline.metric("copilot_llm_calls_total", 'summarizer="local"') == calls_before
    assert pipeline.metric("copilot_documents_total", 'outcome="emitted",stage="merge"') >= calls_before


def test_replaying_every_stage_leaves_every_result_as_it_was(pipeline: Pipeline):
    env, acme = pipeline.settings_env, pipeline.acme
    redis = Redis.from_url(env["COPILOT_REDIS_URL"])
    indexed_key = f"{env['COPILOT_NAMESPACE']}:progress:{acme.domain}:indexed"
    wait_for(lambda: pipeline.status()["total_lag"] == 0, DEADLINE, what="a quiet pipeline")
    hashes, calls = redis.hgetall(indexed_key), pipeline.metric("copilot_llm_calls_total", 'summarizer="local"')
    upserts = pipeline.metric("copilot_documents_total", 'outcome="upserted",stage="index"')
    unchanged = pipeline.metric("copilot_documents_total", 'outcome="unchanged",stage="index"')
    batched = pipeline.metric("copilot_batch_events_sum", 'stage="index"')
    sso = _first(acme.tickets, "sso", status=5)
    _, before = http("GET", f"{pipeline.api}/init/{sso['id']}", acme.headers)

    republished = {}
    for stage in ("merge", "summarize", "index"):
        out = pipeline.procs.run("replay", "--stage", stage, "--from", "earliest")
        republished[stage] = int(out.split()[1])
    assert all(count > 0 for count in republished.values()), republished
    # The replays were acknowledged before `replay` returned, so a zero lag now means the worker has
    # processed them, and the summaries they caused (produced before the worker committed).
    wait_for(lambda: pipeline.status()["total_lag"] == 0, DEADLINE, what="the replays to be processed")
    # every replayed document reached the index stage and was found stored as it is: nothing was rewritten
    assert pipeline.metric("copilot_documents_total", 'outcome="unchanged",stage="index"') >= unchanged + len(hashes)
    assert pipeline.metric("copilot_documents_total", 'outcome="upserted",stage="index"') == upserts
    # the index agent took each replayed summary, and each summary the summarize replay caused, in its batches
    assert (pipeline.metric("copilot_batch_events_sum", 'stage="index"')
            >= batched + republished["summarize"] + republished["index"])

    assert pipeline.metric("copilot_llm_calls_total", 'summarizer="local"') == calls  # summaries came from cache
    assert redis.hgetall(indexed_key) == hashes
    _, after = http("GET", f"{pipeline.api}/init/{sso['id']}", acme.headers)
    assert after["ticket_summary"] == before["ticket_summary"]
    assert [s["ticket_id"] for s in after["similar_tickets"]] == [s["ticket_id"] for s in before["similar_tickets"]]


def test_a_reindex_to_v2_switches_the_aliases_with_no_request_failing(pipeline: Pipeline):
    env, acme, ns = pipeline.settings_env, pipeline.acme, pipeline.settings_env["COPILOT_NAMESPACE"]
    wait_for(lambda: pipeline.status()["total_lag"] == 0, DEADLINE, what="a quiet pipeline")
    indexed = sum(t["documents_indexed"] for t in pipeline.status()["tenants"].values())
    plan = pipeline.procs.run("reindex", "--index-version", "v2", "--dry-run")
    assert f"would reprocess {indexed} ticket(s)" in plan
    assert "summaries to compute: 0" in plan  # same summarizer: every summary is reused, no LLM call
    milvus = MilvusClient(uri=env["COPILOT_MILVUS_URI"])
    assert milvus.describe_alias(alias=f"{ns}_tickets")["collection_name"] == f"{ns}_tickets_v1"

    sso = _first(acme.tickets, "sso", status=5)
    _, before = http("GET", f"{pipeline.api}/init/{sso['id']}", acme.headers)
    answers: list[int | str] = []
    done = threading.Event()

    def agent_keeps_asking() -> None:
        while not done.is_set():
            try:
                answers.append(http("GET", f"{pipeline.api}/init/{sso['id']}", acme.headers)[0])
            except OSError as exc:
                answers.append(repr(exc))

    asker = threading.Thread(target=agent_keeps_asking)
    asker.start()
    try:
        out = pipeline.procs.run("reindex", "--index-version", "v2")
    finally:
        done.set()
        asker.join(timeout=30)
    assert "aliases switched to v2" in out
    assert len(answers) > 5 and set(answers) == {200}, answers  # before, during and after the switch
    assert milvus.describe_alias(alias=f"{ns}_tickets")["collection_name"] == f"{ns}_tickets_v2"
    assert milvus.describe_alias(alias=f"{ns}_articles")["collection_name"] == f"{ns}_articles_v2"
    rows = milvus.query(f"{ns}_tickets_v2", filter=f'tenant == "{acme.domain}"', output_fields=["ticket_id"],
                        limit=1000)
    assert sorted(r["ticket_id"] for r in rows) == sorted(int(k) for k in Redis.from_url(
        env["COPILOT_REDIS_URL"]).hkeys(f"{ns}:progress:{acme.domain}:indexed"))
    _, after = http("GET", f"{pipeline.api}/init/{sso['id']}", acme.headers)
    assert after["ticket_summary"] == before["ticket_summary"] and after["similar_tickets"]


def test_the_sidebar_shows_an_agent_the_summary_similar_tickets_and_answers_and_takes_votes(pipeline: Pipeline):
    from selenium.webdriver.common.by import By

    from tests.e2e.sidebar_browser import chromium

    acme = pipeline.acme
    status, created = acme.simulator_call("POST", "/tickets", {
        "subject": 'SSO login fails <img src=x onerror="document.body.dataset.hacked=1">',
        "description": "<p>Users get a SAML error when signing in through the identity provider.</p>",
        "email": "it@acme.example", "status": 2, "priority": 2})
    assert status == 201, created
    env = pipeline.settings_env
    redis = Redis.from_url(env["COPILOT_REDIS_URL"], decode_responses=True)
    feedback_key = f"{env['COPILOT_NAMESPACE']}:feedback:{acme.domain}"
    with chromium() as browser:
        browser.get(f"{pipeline.api}/sidebar?ticket_id={created['id']}#domain={acme.domain}&key={acme.api_key}")
        wait_for(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-loaded")
                 or _no_error(browser), DEADLINE, what="the sidebar to load")
        assert "key=" not in browser.current_url  # the credentials left the address bar
        problem = browser.find_element(By.CSS_SELECTOR, "#summary .problem").text
        assert problem.startswith("SSO login fails <img src=x")  # shown as text, never run as HTML
        assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-hacked") is None
        similar = browser.find_elements(By.CSS_SELECTOR, "#similar li.ticket")
        assert similar and all(s.find_element(By.CLASS_NAME, "resolution").text for s in similar)
        assert "SSO" in similar[0].text or "sign-on" in similar[0].text.lower() or "SAML" in similar[0].text
        assert browser.find_elements(By.CSS_SELECTOR, "#articles li.article")

        browser.find_element(By.ID, "question").send_keys("How do I fix the SAML error?")
        browser.find_element(By.CSS_SELECTOR, "#ask button").click()
        answer = wait_for(lambda: browser.find_element(By.ID, "answer").text or _no_error(browser), DEADLINE,
                          what="an answer")
        assert re.search(r"\[(#|KB-)\d+\]", answer), answer

        voted = int(similar[0].get_attribute("data-ticket-id"))
        up = similar[0].find_element(By.CLASS_NAME, "vote-positive")
        up.click()
        wait_for(lambda: up.get_attribute("data-state") == "sent" or _no_error(browser), DEADLINE,
                 what="the vote to be accepted")
    wait_for(lambda: redis.hget(feedback_key, f"ticket/{voted}"), DEADLINE,
             what="the vote to reach the feedback table's Redis mirror")


def _no_error(browser) -> None:
    from selenium.webdriver.common.by import By

    error = browser.find_element(By.ID, "error")
    if error.is_displayed():
        raise AssertionError(f"the sidebar shows an error: {error.text}")


def test_an_agent_sees_only_the_tickets_their_freshdesk_scope_allows(pipeline: Pipeline):
    """Scopes come from the simulated Freshdesk's agents API; an assignment made there reaches the index."""
    acme, api = pipeline.acme, pipeline.api
    sso_group = _first(acme.tickets, "sso")["group_id"]
    _, restricted = acme.simulator_call("POST", "/agents", {"email": "r@acme.example", "ticket_scope": 3})
    _, grouped = acme.simulator_call("POST", "/agents", {"email": "g@acme.example", "ticket_scope": 2,
                                                         "group_ids": [sso_group]})
    mine = [t for t in acme.tickets if "billing" in t["tags"] and t["status"] == 5][:2]
    for t in mine:
        status, _ = acme.simulator_call("PUT", f"/tickets/{t['id']}", {"responder_id": restricted["id"]})
        assert status == 200
    as_restricted = {**acme.headers, "X-Freshdesk-Agent-Id": str(restricted["id"])}

    def only_their_own() -> dict | None:
        status, body = http("GET", f"{api}/init/{mine[0]['id']}", as_restricted)
        ids = [t["ticket_id"] for t in body.get("similar_tickets", [])] if status == 200 else None
        return body if ids == [mine[1]["id"]] else None

    wait_for(only_their_own, DEADLINE, what="the assignment to reach the index")
    other = next(t for t in acme.tickets if t["id"] not in {m["id"] for m in mine})
    status, body = http("GET", f"{api}/init/{other['id']}", as_restricted)
    assert (status, body["error"]) == (403, "outside_agent_scope")

    question = {"query": "we were charged twice on our invoice", "limit": 20}
    status, unscoped = http("POST", f"{api}/query", acme.headers, question)
    assert status == 200 and any(t["tags"] and "billing" in t["tags"] for t in unscoped["tickets"])
    status, scoped = http("POST", f"{api}/query", {**acme.headers, "X-Freshdesk-Agent-Id": str(grouped["id"])},
                          question)
    in_group = {t["id"] for t in acme.tickets if t["group_id"] == sso_group}
    assert status == 200 and scoped["tickets"] and {t["ticket_id"] for t in scoped["tickets"]} <= in_group

    status, body = http("GET", f"{api}/init/{other['id']}", {**acme.headers, "X-Freshdesk-Agent-Id": "999"})
    assert (status, body["error"], body["field"]) == (403, "unknown_agent", "X-Freshdesk-Agent-Id")
    status, body = http("GET", f"{api}/init/{other['id']}", {**acme.headers, "X-Freshdesk-Agent-Id": "me"})
    assert (status, body["error"]) == (400, "invalid_header")


def test_a_tenants_retrieval_settings_apply_to_it_alone_and_its_reindex_leaves_others_as_they_are(
        pipeline: Pipeline):
    env, acme, bravo, ns = pipeline.settings_env, pipeline.acme, pipeline.bravo, pipeline.settings_env[
        "COPILOT_NAMESPACE"]
    out = pipeline.procs.run("tenant", "config", "--domain", acme.domain, "--embed", "summary", "--max-results", "3")
    assert '"embed": "summary"' in out and f"copilot reindex --tenant {acme.domain}" in out
    status, body = http("GET", f"{pipeline.api}/init/{acme.tickets[0]['id']}?limit=5", acme.headers)
    assert (status, body["field"]) == (400, "limit")
    assert http("GET", f"{pipeline.api}/init/{bravo.tickets[0]['id']}?limit=5", bravo.headers)[0] == 200

    milvus = MilvusClient(uri=env["COPILOT_MILVUS_URI"])

    def embedded_as(collection: str) -> dict[str, set[str]]:
        rows = milvus.query(collection, filter="ticket_id > 0", output_fields=["tenant", "embedded_as"], limit=1000)
        return {t.domain: {r["embedded_as"] for r in rows if r["tenant"] == t.domain} for t in (acme, bravo)}

    wait_for(lambda: pipeline.status()["total_lag"] == 0, DEADLINE, what="a quiet pipeline")
    out = pipeline.procs.run("reindex", "--tenant", acme.domain)
    assert f"in place for {acme.domain}" in out
    assert embedded_as(f"{ns}_tickets") == {acme.domain: {"summary"}, bravo.domain: {"text"}}

    before = {t.domain: milvus.query(f"{ns}_tickets", filter=f'tenant == "{t.domain}"', output_fields=["count(*)"])
              for t in (acme, bravo)}
    out = pipeline.procs.run("reindex", "--index-version", "v3", "--tenant", bravo.domain)
    assert "aliases switched to v3" in out
    assert milvus.describe_alias(alias=f"{ns}_tickets")["collection_name"] == f"{ns}_tickets_v3"
    assert {t.domain: milvus.query(f"{ns}_tickets_v3", filter=f'tenant == "{t.domain}"', output_fields=["count(*)"])
            for t in (acme, bravo)} == before
    assert embedded_as(f"{ns}_tickets_v3") == {acme.domain: {"summary"}, bravo.domain: {"text"}}
    for tenant in (acme, bravo):
        status, body = http("GET", f"{pipeline.api}/init/{tenant.tickets[0]['id']}?limit=3", tenant.headers)
        assert status == 200 and body["similar_tickets"], body


def test_a_summary_re_driven_after_its_ticket_was_deleted_does_not_bring_the_row_back(pipeline: Pipeline):
    env, bravo = pipeline.settings_env, pipeline.bravo
    names, ticket = TopicNames(env["COPILOT_NAMESPACE"]), bravo.tickets[-1]
    key = ticket_key(bravo.domain, ticket["id"])
    milvus = MilvusClient(uri=env["COPILOT_MILVUS_URI"])

    def row() -> dict | None:
        rows = milvus.query(f"{names.namespace}_tickets", filter=f'pk == "{key}"', output_fields=["seen_at"])
        return rows[0] if rows else None

    indexed = wait_for(row, DEADLINE, what="the ticket's row")
    summaries = [value for k, value in read_topic(env["COPILOT_KAFKA_BOOTSTRAP"], names.summaries) if k == key.encode()]
    assert summaries and deserialize(SummarizedDocument, summaries[-1]).document.key == key
    assert bravo.simulator_call("DELETE", f"/tickets/{ticket['id']}")[0] == 204
    wait_for(lambda: row() is None, DEADLINE, what="the deletion to reach the index")

    # the ticket's last summary comes again, as `copilot dlq replay` would send a dead letter of it
    left_out = pipeline.metric("copilot_documents_total", 'outcome="superseded",stage="index"')
    producer = Producer({"bootstrap.servers": env["COPILOT_KAFKA_BOOTSTRAP"], "partitioner": "murmur2_random"})
    producer.produce(names.summaries, key=key.encode(), value=summaries[-1])
    assert producer.flush(10) == 0
    wait_for(lambda: pipeline.metric("copilot_documents_total", 'outcome="superseded",stage="index"') > left_out,
             DEADLINE, what="the index agent to take the re-driven summary")
    assert row() is None

    assert bravo.simulator_call("PUT", f"/tickets/{ticket['id']}/restore")[0] == 204
    restored = wait_for(row, DEADLINE, what="the restored ticket to be indexed")  # newer than the deletion
    assert restored["seen_at"] > indexed["seen_at"]
