"""KeyedConcurrency on stand-in events (key, partition, offset): order per key, the bound, and acks in offset
order per partition."""

import asyncio
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest

from streams.keyed_concurrency import KeyedConcurrency


def event(key: str, partition: int, offset: int) -> Any:
    return SimpleNamespace(key=key, message=SimpleNamespace(tp=("documents", partition), offset=offset))


class Recorder:
    """A handler whose events take `delays[(partition, offset)]` seconds; records what ran at once."""

    def __init__(self, delays: dict[tuple[int, int], float] | None = None) -> None:
        self.delays = delays or {}
        self.running: set[tuple[int, int]] = set()
        self.peak = 0
        self.log: list[tuple[str, tuple[int, int]]] = []
        self.acked: list[tuple[int, int]] = []
        self.ended: defaultdict[tuple[int, int], asyncio.Event] = defaultdict(asyncio.Event)

    async def handle(self, ev: Any) -> None:
        where = (ev.message.tp[1], ev.message.offset)
        self.running.add(where)
        self.peak = max(self.peak, len(self.running))
        self.log.append(("start", where))
        await asyncio.sleep(self.delays.get(where, 0.01))
        self.log.append(("end", where))
        self.ended[where].set()
        self.running.discard(where)

    async def ack(self, ev: Any) -> None:
        self.acked.append((ev.message.tp[1], ev.message.offset))


async def run(recorder: Recorder, events: list[Any], limit: int) -> None:
    async with KeyedConcurrency(limit, recorder.handle, recorder.ack) as pool:
        for ev in events:
            await pool.submit(ev)


async def test_events_of_one_key_run_one_after_another_while_other_keys_run_alongside():
    recorder = Recorder({(0, 0): 0.05})
    await run(recorder, [event("a", 0, 0), event("b", 0, 1), event("a", 0, 2)], limit=8)
    log = recorder.log
    assert log.index(("start", (0, 1))) < log.index(("end", (0, 0)))  # b did not wait for a
    assert log.index(("start", (0, 2))) > log.index(("end", (0, 0)))  # a's second waited for its first
    assert recorder.acked == [(0, 0), (0, 1), (0, 2)]


async def test_no_more_than_the_limit_run_at_once():
    recorder = Recorder()
    await run(recorder, [event(f"k{i}", 0, i) for i in range(12)], limit=3)
    assert recorder.peak == 3
    assert recorder.acked == [(0, i) for i in range(12)]


async def test_each_partition_is_acknowledged_in_offset_order_and_independently():
    # partition 0's first event is slow: its later events finish first but are acknowledged after it;
    # partition 1 is not held up by it
    recorder = Recorder({(0, 0): 0.1})
    events = [event("slow", 0, 0), event("x", 0, 1), event("y", 0, 2), event("z", 1, 0), event("w", 1, 1)]
    await run(recorder, events, limit=8)
    assert recorder.acked.index((1, 1)) < recorder.acked.index((0, 0))
    assert [a for a in recorder.acked if a[0] == 0] == [(0, 0), (0, 1), (0, 2)]
    assert [a for a in recorder.acked if a[0] == 1] == [(1, 0), (1, 1)]


async def test_when_the_agent_stops_events_in_flight_and_all_after_them_stay_unacknowledged():
    recorder = Recorder({(0, 1): 10.0})
    agent = asyncio.create_task(run(recorder, [event("a", 0, 0), event("b", 0, 1), event("c", 0, 2)], limit=8))
    await asyncio.wait_for(recorder.ended[(0, 2)].wait(), 5)  # c is done while b still runs
    agent.cancel()  # as Faust stops an agent
    with pytest.raises(asyncio.CancelledError):
        await agent
    assert recorder.acked == [(0, 0)]  # c finished, but b, before it, did not


async def test_an_event_passed_on_goes_at_once_and_is_acknowledged_in_its_turn():
    recorder, sent = Recorder({(0, 0): 0.05}), []

    async def send(ev: Any) -> None:
        sent.append((ev.message.offset, list(recorder.acked)))

    async with KeyedConcurrency(8, recorder.handle, recorder.ack) as pool:
        await pool.submit(event("a", 0, 0))
        await pool.pass_on(event("a", 0, 1), send)  # same key: it does not wait for offset 0 to be handled
        await pool.submit(event("b", 0, 2))
    assert sent == [(1, [])]
    assert recorder.acked == [(0, 0), (0, 1), (0, 2)]
