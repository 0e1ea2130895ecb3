"""The per-account call budget in Redis: shared by pollers, a reserve left free, no 429 from the account."""

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestServer

from connectors.freshdesk.adapter import FreshdeskAdapter
from connectors.freshdesk.client import FreshdeskClient, RetryAfterOrBackoff
from connectors.freshdesk.rate_budget import RateBudget
from connectors.freshdesk.simulator.account import SimulatedAccount
from connectors.freshdesk.simulator.demo import generate_tickets
from connectors.freshdesk.simulator.server import SimulatorConfig, create_simulator_app

START = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)


class FakeTime:
    """A clock whose sleeps advance it, so minutes pass instantly."""

    def __init__(self) -> None:
        self.now = START

    def time(self) -> float:
        return self.now.timestamp()

    def datetime(self) -> datetime:
        return self.now.replace(microsecond=0)

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_two_pollers_share_one_budget_and_leave_the_reserve(redis, namespace):
    clock = FakeTime()
    a, b = (RateBudget(redis, namespace, "acme", 0.1, clock=clock.time, sleep=clock.sleep) for _ in range(2))
    await a.observe(total=100, remaining=100)  # a fresh window of the account began now
    calls = []
    for _ in range(50):
        for budget in (a, b):
            await budget.acquire()
            calls.append(clock.now)
    # the two take turns in one pace: together, nearly the whole 90-call share of the window, and never more
    assert 86 <= sum(t < START + timedelta(seconds=60) for t in calls) <= 90


async def test_unknown_limit_is_a_trial_accounts_and_low_remaining_waits(redis, namespace):
    clock = FakeTime()
    budget = RateBudget(redis, namespace, "new", 0.1, clock=clock.time, sleep=clock.sleep)
    calls = []
    for _ in range(45):
        await budget.acquire()
        calls.append(clock.now)
    # 90% of the 50 calls a trial account has is 45: a burst of 3, then 42 a minute
    assert calls[2] == START and (calls[-1] - calls[2]).total_seconds() == pytest.approx(60, abs=0.01)
    waited = budget.waited
    await budget.observe(total=400, remaining=20)  # someone else spent the account's minute
    assert budget.waited > waited


async def test_a_poller_over_its_budget_slows_down_evenly_instead_of_stalling(redis, namespace):
    """Three listings every half second want 360 calls a minute; a 60-call account leaves 54. Unpaced, the
    poller spent that in a few seconds and waited out the rest of each minute, and a change with it."""
    clock = FakeTime()
    budget = RateBudget(redis, namespace, "busy", 0.1, clock=clock.time, sleep=clock.sleep)
    await budget.observe(total=60, remaining=60)  # a fresh window of the account began now
    calls = []
    while clock.now < START + timedelta(minutes=3):
        for _ in range(3):
            await budget.acquire()
            calls.append(clock.now)
        await clock.sleep(0.5)
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(calls, calls[1:], strict=False)]
    assert max(gaps) < 1.2, max(gaps)  # 60 / 51 s: a burst of 3, then 51 a minute
    for start in range(len(calls)):  # any minute, window-aligned or not, holds at most the 54
        assert sum(calls[start] <= t < calls[start] + timedelta(minutes=1) for t in calls) <= 54
    assert len(calls) >= 3 * 51


async def test_a_sync_under_a_tight_limit_never_gets_a_429(redis, namespace):
    clock = FakeTime()
    account = SimulatedAccount(clock=clock.datetime)
    account.load_tickets(generate_tickets(150, seed=9, now=START))
    server = TestServer(create_simulator_app(account, SimulatorConfig("acme", "k", rate_limit_per_minute=60)))
    await server.start_server()
    budget = RateBudget(redis, namespace, "acme", 0.1, clock=clock.time, sleep=clock.sleep)
    async with FreshdeskClient(str(server.make_url("")), "k", budget=budget, max_retries=0, max_throttles=0,
                               backoff=RetryAfterOrBackoff(0.01, 0.05)) as client:
        adapter = FreshdeskAdapter("acme", client, clock=clock.datetime)
        tickets = [t async for page in adapter.changed_tickets(START - timedelta(days=365)) for t in page]
        for t in tickets:
            await adapter.fetch_conversations(t.ticket_id)
    await server.close()
    assert len(tickets) == 150 and client.rate.throttled == 0  # a 429 would have raised
    minutes = (clock.now - START).total_seconds() / 60
    assert client.rate.calls / minutes >= 0.9 * 54  # at least 90% of the share left after the 10% reserve
