"""The poller on real Kafka and Redis against the simulator: complete, no re-publishing, no loss in a second."""

from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from connectors.freshdesk.adapter import FreshdeskAdapter
from connectors.freshdesk.client import FreshdeskClient, FreshdeskHTTPError, RetryAfterOrBackoff
from connectors.freshdesk.simulator.account import ARCHIVE_AFTER, SimulatedAccount, system_clock
from connectors.freshdesk.simulator.demo import generate_articles, generate_tickets
from connectors.freshdesk.simulator.server import SIMULATOR, SimulatorConfig, create_simulator_app
from connectors.freshdesk.timefmt import format_ts
from connectors.poller import TenantPoller
from connectors.publisher import KafkaPublisher
from connectors.sync_state import SyncState
from copilot.domain import ArticleEvent, ConversationEvent, TicketEvent
from copilot.errors import UpstreamError
from copilot.settings import KafkaSettings
from copilot.topics import TopicNames, ensure_topics
from copilot.wire import deserialize
from tests.helpers import read_topic

TENANT = "acme.freshdesk.com"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def read_all(bootstrap: str, topic: str) -> list[tuple[str, bytes]]:
    return [(key.decode(), value) for key, value in read_topic(bootstrap, topic)]


@asynccontextmanager
async def poller_for(services, namespace: str, account: SimulatedAccount, clock: Callable[[], datetime],
                     max_retries: int = 6, **config):
    kafka = KafkaSettings(COPILOT_KAFKA_BOOTSTRAP=services["COPILOT_KAFKA_BOOTSTRAP"], COPILOT_NAMESPACE=namespace,
                          COPILOT_KAFKA_PARTITIONS=2)
    ensure_topics(kafka)
    server = TestServer(create_simulator_app(account, SimulatorConfig(TENANT, "k", **{
        "rate_limit_per_minute": 100_000, **config})))
    await server.start_server()
    redis = Redis.from_url(services["COPILOT_REDIS_URL"], decode_responses=True)
    publisher = KafkaPublisher(kafka.bootstrap_servers)
    async with FreshdeskClient(str(server.make_url("")), "k", backoff=RetryAfterOrBackoff(0.01, 0.05),
                               max_retries=max_retries) as client:
        poller = TenantPoller(TENANT, FreshdeskAdapter(TENANT, client, clock=clock), publisher,
                              SyncState(redis, namespace, TENANT), TopicNames(namespace))
        yield poller, kafka.bootstrap_servers, server.app[SIMULATOR]
    publisher.close()
    await redis.aclose()
    await server.close()


@pytest.fixture
async def rig(services, namespace):
    clock = Clock(datetime(2026, 2, 1, 12, 0, 0, tzinfo=UTC))
    account = SimulatedAccount(clock=clock)
    account.load_tickets(generate_tickets(150, seed=1, now=clock.now))
    account.load_articles(generate_articles())
    async with poller_for(services, namespace, account, clock) as (poller, bootstrap, _):
        yield poller, account, clock, TopicNames(namespace), bootstrap


async def test_backfill_is_complete_and_a_second_poll_publishes_nothing(rig):
    poller, account, clock, names, bootstrap = rig
    clock.now += timedelta(seconds=10)  # the whole history is settled
    first = await poller.sync_tickets()
    assert first.tickets == 150
    assert first.conversations == sum(len(c) for c in account.conversations.values())
    again = await poller.sync_tickets()
    assert (again.tickets, again.conversations) == (0, 0)

    keyed_tickets = [(k, deserialize(TicketEvent, v)) for k, v in read_all(bootstrap, names.tickets)]
    tickets = [t for _, t in keyed_tickets]
    convs = [deserialize(ConversationEvent, v) for _, v in read_all(bootstrap, names.conversations)]
    assert sorted(t.ticket_id for t in tickets) == list(range(1, 151))
    assert {c.conversation_id for c in convs} == {c["id"] for cs in account.conversations.values() for c in cs}
    by_id = {t.ticket_id: t for t in tickets}
    assert by_id[1].conversation_ids == tuple(c["id"] for c in account.conversations[1])
    # Each message is keyed by its own ticket (read once: two reads may interleave partitions differently).
    assert [k for k, _ in keyed_tickets] == [f"{TENANT}/ticket/{t.ticket_id}" for t in tickets]


async def test_a_reply_in_the_same_second_as_the_last_poll_is_not_lost(rig):
    poller, account, clock, names, bootstrap = rig
    account.add_conversation(7, "<p>first reply</p>", private=False, incoming=False)  # updated_at == now
    await poller.sync_tickets()  # saw ticket 7 within its update second: not settled yet
    account.add_conversation(7, "<p>second reply in the same second</p>", private=False, incoming=False)
    clock.now += timedelta(seconds=5)
    await poller.sync_tickets()
    latest = [deserialize(TicketEvent, v) for k, v in read_all(bootstrap, names.tickets) if k.endswith("/7")][-1]
    bodies = {deserialize(ConversationEvent, v).body_text for k, v in read_all(bootstrap, names.conversations)
              if k.endswith("/7")}
    assert "second reply in the same second" in bodies
    assert len(latest.conversation_ids) == len(account.conversations[7])
    settled = await poller.sync_tickets()
    assert settled.tickets == 0  # once settled, boundary tickets are not fetched again


async def test_a_reply_is_published_once_as_the_ticket_and_the_new_conversation(rig):
    """The poller re-fetches a ticket until its update second has settled; only what changed is published."""
    poller, account, clock, names, bootstrap = rig
    clock.now += timedelta(seconds=10)
    await poller.sync_tickets()
    busy = max(account.conversations, key=lambda ticket_id: len(account.conversations[ticket_id]))
    assert len(account.conversations[busy]) >= 3
    before = {topic: len(read_all(bootstrap, topic)) for topic in (names.tickets, names.conversations)}
    account.add_conversation(busy, "<p>Rotated the signing certificate.</p>", private=False, incoming=False)
    polls = []
    for _ in range(8):  # every 0.5 s, through the settle window and past it
        polls.append(await poller.sync_tickets())
        clock.now += timedelta(milliseconds=500)
    assert [(p.tickets, p.conversations) for p in polls] == [(1, 1)] + [(0, 0)] * 7
    after = {topic: len(read_all(bootstrap, topic)) for topic in before}
    assert [after[topic] - before[topic] for topic in before] == [1, 1]
    key = f"{TENANT}/ticket/{busy}"
    latest = [deserialize(TicketEvent, v) for k, v in read_all(bootstrap, names.tickets) if k == key][-1]
    assert latest.conversation_ids == tuple(c["id"] for c in account.conversations[busy])
    bodies = [deserialize(ConversationEvent, v).body_text for k, v in read_all(bootstrap, names.conversations)
              if k == key]
    assert bodies.count("Rotated the signing certificate.") == 1


async def test_knowledge_base_changes_and_deletions_are_published_once(rig):
    poller, account, _, names, bootstrap = rig
    assert (await poller.sync_knowledge_base()).articles == len(account.articles)
    assert (await poller.sync_knowledge_base()).articles == 0
    account.articles[1001]["description_text"] += " Updated."
    del account.articles[1002]
    assert (await poller.sync_knowledge_base()).articles == 2
    events = [deserialize(ArticleEvent, v) for _, v in read_all(bootstrap, names.articles)]
    assert [e.deleted for e in events if e.article_id == 1002] == [False, True]
    assert [e.description_text.endswith("Updated.") for e in events if e.article_id == 1001] == [False, True]


@pytest.fixture
async def capped(services, namespace):
    """An account of 1,000 tickets with a 150-ticket same-second burst, served with a 3-page cap."""
    clock = Clock(datetime(2026, 2, 1, 12, 0, 0, tzinfo=UTC))
    tickets = generate_tickets(1000, seed=2, now=clock.now - timedelta(days=1))
    burst = format_ts(clock.now - timedelta(hours=3))
    for t in tickets[400:550]:
        t["updated_at"] = burst
    tickets.sort(key=lambda t: t["updated_at"])
    account = SimulatedAccount(clock=clock)
    account.load_tickets(tickets)
    async with poller_for(services, namespace, account, clock, max_page=3) as (poller, bootstrap, simulator):
        yield poller, account, clock, TopicNames(namespace), bootstrap, simulator


async def test_page_cap_and_same_second_burst_sync_completely_and_cheaply(capped):
    poller, account, _, names, bootstrap, simulator = capped
    result = await poller.sync_tickets()
    keys = [k for k, _ in read_all(bootstrap, names.tickets)]
    assert result.tickets == 1000 and len(keys) == len(set(keys)) == 1000  # each ticket published once
    conversations = {deserialize(ConversationEvent, v).conversation_id
                     for _, v in read_all(bootstrap, names.conversations)}
    assert conversations == {c["id"] for cs in account.conversations.values() for c in cs}
    # one list call per 100 tickets, window restarts, the deleted and spam feeds, one conversations call each
    assert simulator.calls / 1000 <= 1.05, simulator.calls


async def test_deleted_tickets_leave_and_restored_ones_come_back(rig):
    poller, account, clock, names, bootstrap = rig
    clock.now += timedelta(seconds=10)
    await poller.sync_tickets()
    clock.now += timedelta(seconds=10)
    account.set_deleted(5, True)
    account.tickets[6]["spam"] = True
    account.tickets[6]["updated_at"] = format_ts(clock.now)
    clock.now += timedelta(seconds=10)
    assert (await poller.sync_tickets()).tickets == 2
    clock.now += timedelta(seconds=10)
    account.set_deleted(5, False)
    clock.now += timedelta(seconds=10)
    assert (await poller.sync_tickets()).tickets == 1

    def states(ticket_id: int) -> list[bool]:
        return [e.deleted or e.spam for e in (deserialize(TicketEvent, v) for k, v in read_all(bootstrap, names.tickets)
                                               if k.endswith(f"/ticket/{ticket_id}"))]

    assert states(5) == [False, True, False] and states(6) == [False, True]


async def test_archived_tickets_stay_indexed_and_are_read_from_the_archive(rig):
    poller, account, clock, names, bootstrap = rig
    clock.now += timedelta(seconds=10)
    await poller.sync_tickets()
    account.archive_after = ARCHIVE_AFTER  # the customer turns archiving on
    clock.now += timedelta(days=121)  # every closed ticket is now idle for more than 120 days
    closed = sorted(tid for tid, t in account.tickets.items() if t["status"] == 5)
    assert closed
    before = len(read_all(bootstrap, names.tickets))
    assert (await poller.sync_tickets()).tickets == 0  # archived tickets left the lists: nothing is deleted
    assert len(read_all(bootstrap, names.tickets)) == before
    assert closed[0] in account.archived

    adapter = poller.adapter
    with pytest.raises(FreshdeskHTTPError) as gone:
        await adapter.client.get(f"/tickets/{closed[0]}")
    assert gone.value.status == 404
    ticket = await adapter.fetch_ticket(closed[0])  # GET /tickets/{id} is 404 now; the archive answers
    assert ticket is not None and ticket.subject == account.tickets[closed[0]]["subject"]
    conversations = await adapter.fetch_conversations(closed[0])
    assert [c.conversation_id for c in conversations] == [c["id"] for c in account.conversations[closed[0]]]
    assert await adapter.fetch_ticket(99_999) is None


async def test_5xx_storms_and_429s_lose_nothing(services, namespace):
    """30% of calls fail with 503 and the account allows 40 calls a second; retries give up after two, so
    whole polls fail midway and the next poll must carry on from the last acknowledged page."""
    account = SimulatedAccount()
    account.load_tickets(generate_tickets(300, seed=4, now=system_clock() - timedelta(days=1)))
    async with poller_for(services, namespace, account, system_clock, max_retries=2, error_rate=0.3, seed=9,
                          rate_limit_per_minute=40, rate_window_seconds=1) as (poller, bootstrap, simulator):
        failed_polls = 0
        while True:
            try:
                await poller.sync_tickets()
                break
            except UpstreamError:
                failed_polls += 1
                assert failed_polls < 100
    names = TopicNames(namespace)
    tickets = {deserialize(TicketEvent, v).ticket_id: deserialize(TicketEvent, v)
               for _, v in read_all(bootstrap, names.tickets)}
    conversations = {deserialize(ConversationEvent, v).conversation_id
                     for _, v in read_all(bootstrap, names.conversations)}
    assert sorted(tickets) == list(range(1, 301))
    assert conversations == {c["id"] for cs in account.conversations.values() for c in cs}
    assert all(t.conversation_ids == tuple(c["id"] for c in account.conversations[i]) for i, t in tickets.items())
    assert simulator.failed > 50 and simulator.throttled > 0 and failed_polls > 0  # the storm really happened
