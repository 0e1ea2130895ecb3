"""The client, adapter and simulator against Freshdesk's real response samples (tests/fixtures/freshdesk)."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from connectors.freshdesk.adapter import FreshdeskAdapter, article_event, conversation_event, ticket_event
from connectors.freshdesk.client import (
    FreshdeskClient,
    FreshdeskHTTPError,
    RetryableError,
    RetryAfterOrBackoff,
)
from connectors.freshdesk.simulator.account import SimulatedAccount
from connectors.freshdesk.simulator.server import SimulatorConfig, create_simulator_app
from connectors.freshdesk.timefmt import format_ts

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "freshdesk"  # copies of ../shared/freshdesk/samples
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
FAST = RetryAfterOrBackoff(initial=0.01, maximum=0.05)


def sample(name: str):
    return json.loads((SAMPLES / name).read_text())


def test_adapter_reads_real_ticket_conversation_and_article_samples():
    raw = sample("airbyte_tickets_list_include_description_requester_stats.json")[0]
    t = ticket_event("acme", raw, NOW)
    assert (t.ticket_id, t.subject, t.status, t.priority) == (18, "Payment failed", 2, 2)
    assert t.description_text.startswith("I was trying to make a payment")
    assert t.updated_at == datetime(2022, 5, 26, 21, 26, 52, tzinfo=UTC)
    conv = conversation_event("acme", 22, sample("airbyte_conversations.json")[0], NOW)
    assert conv.body_text == "Hi Jessica Rangel,  Test reply" and not conv.incoming
    art = article_event("acme", sample("airbyte_solution_articles.json")[0], NOW)
    assert art.title == "How long will the delivery take?" and art.status == 1 and not art.published
    legacy = ticket_event("acme", sample("pyfd_ticket_1.json"), NOW)
    assert legacy.attachments and legacy.attachments[0].size > 0  # python-freshdesk's "file_size"


def _account(tickets: list[dict], articles: list[dict] | None = None) -> SimulatedAccount:
    account = SimulatedAccount(clock=lambda: NOW)
    account.load_tickets(tickets)
    account.load_articles(articles or [])
    return account


def _tickets(n: int, start: datetime, step: timedelta = timedelta(minutes=1)) -> list[dict]:
    return [{"id": i, "subject": f"t{i}", "description": "<div>d</div>", "description_text": "d", "status": 2,
             "priority": 1, "created_at": format_ts(start + i * step), "updated_at": format_ts(start + i * step),
             "conversations": [{"id": i * 10 + k, "body_text": f"c{k}", "body": f"<p>c{k}</p>", "incoming": k == 0,
                                "private": False, "created_at": format_ts(start), "updated_at": format_ts(start)}
                               for k in range(3 if i == 1 else 1)]} for i in range(1, n + 1)]


async def _serve(account: SimulatedAccount, **config) -> TestServer:
    server = TestServer(create_simulator_app(account, SimulatorConfig("acme.freshdesk.com", "secret", **config)))
    await server.start_server()
    return server


async def test_incremental_listing_follows_link_headers_in_updated_at_order():
    server = await _serve(_account(_tickets(250, NOW - timedelta(days=5))))
    async with FreshdeskClient(str(server.make_url("")), "secret", backoff=FAST) as client:
        pages = [page async for page in client.tickets_updated_since("2000-01-01T00:00:00Z")]
        conversations = await client.conversations(1)
    await server.close()
    assert [len(p) for p in pages] == [100, 100, 50]
    ids = [t["id"] for p in pages for t in p]
    assert ids == list(range(1, 251))
    assert "description_text" in pages[0][0]
    assert len(conversations) == 3


async def test_default_window_is_30_days_and_updated_since_is_inclusive():
    old = _tickets(3, NOW - timedelta(days=40), step=timedelta(days=1))
    account = _account(old + [{**t, "id": t["id"] + 100} for t in _tickets(2, NOW - timedelta(days=1))])
    server = await _serve(account)
    async with FreshdeskClient(str(server.make_url("")), "secret", backoff=FAST) as client:
        default, _ = await client.get("/tickets")
        boundary = account.tickets[101]["updated_at"]
        since, _ = await client.get("/tickets", {"updated_since": boundary})
    await server.close()
    assert sorted(t["id"] for t in default) == [101, 102]
    assert 101 in {t["id"] for t in since}


async def test_errors_have_freshdesks_real_bodies():
    server = await _serve(_account(_tickets(1, NOW)))
    async with FreshdeskClient(str(server.make_url("")), "secret", max_retries=0) as client:
        with pytest.raises(FreshdeskHTTPError) as page_error:
            await client.get("/tickets", {"page": 301})
        with pytest.raises(FreshdeskHTTPError) as per_page_error:
            await client.get("/tickets", {"per_page": 101})
    async with FreshdeskClient(str(server.make_url("")), "wrong", max_retries=0) as client:
        with pytest.raises(FreshdeskHTTPError) as auth_error:
            await client.get("/tickets")
    await server.close()
    assert page_error.value.status == 400 and page_error.value.body == sample("error_400_page_beyond_300.json")
    assert per_page_error.value.body["errors"][0]["field"] == "per_page"
    assert auth_error.value.status == 401


async def test_5xx_storm_is_retried_until_every_page_arrives():
    server = await _serve(_account(_tickets(120, NOW - timedelta(days=1))), error_rate=0.4, seed=3,
                          rate_limit_per_minute=10_000)
    async with FreshdeskClient(str(server.make_url("")), "secret", max_retries=20, backoff=FAST) as client:
        ids = [t["id"] async for page in client.tickets_updated_since("2000-01-01T00:00:00Z") for t in page]
    await server.close()
    assert ids == list(range(1, 121))


async def test_429_carries_retry_after_and_the_rate_headers_are_tracked():
    server = await _serve(_account(_tickets(1, NOW)), rate_limit_per_minute=2)
    async with FreshdeskClient(str(server.make_url("")), "secret", max_retries=0, max_throttles=0) as client:
        await client.get("/tickets")
        assert (client.rate.total, client.rate.remaining) == (2, 1)
        await client.get("/tickets")
        with pytest.raises(RetryableError) as throttled:
            await client.get("/tickets")
    await server.close()
    assert throttled.value.retry_after == 60 and client.rate.throttled == 1


def test_wait_strategy_prefers_retry_after():
    class Outcome:
        def __init__(self, exc): self._exc = exc
        def exception(self): return self._exc

    class State:
        attempt_number = 1
        def __init__(self, exc): self.outcome = Outcome(exc)

    assert RetryAfterOrBackoff()(State(RetryableError("429", retry_after=7))) == 7
    assert RetryAfterOrBackoff(initial=0.5, maximum=1)(State(RetryableError("503"))) <= 1.5


async def test_write_endpoints_change_what_the_poller_sees():
    account = _account(_tickets(2, NOW - timedelta(days=1)))
    server = await _serve(account)
    async with FreshdeskClient(str(server.make_url("")), "secret", backoff=FAST) as client:
        adapter = FreshdeskAdapter("acme", client, clock=lambda: NOW)
        session = client._session
        assert session is not None
        async with session.post(f"{client.base_url}/api/v2/tickets/2/reply", json={"body": "<p>Fixed it.</p>"}) as r:
            assert r.status == 201
        async with session.delete(f"{client.base_url}/api/v2/tickets/1") as r:
            assert r.status == 204
        conversations = await adapter.fetch_conversations(2)
        listed = [t.ticket_id async for page in adapter.changed_tickets(NOW - timedelta(days=2)) for t in page]
        deleted, _ = await client.get("/tickets", {"filter": "deleted"})
        kb = await adapter.fetch_knowledge_base()
    await server.close()
    assert conversations[-1].body_text == "Fixed it." and account.tickets[2]["updated_at"] == format_ts(NOW)
    assert listed == [2] and [t["id"] for t in deleted] == [1] and kb == []
