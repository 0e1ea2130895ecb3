"""BatchPipeline on stand-in events: the next batch is prepared while the one before is stored, stores keep
their order, a batch is acknowledged only once stored, and a failing step dead-letters its batch."""

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from copilot.domain import DeadLetter
from copilot.wire import deserialize
from streams.agents.batching import Batch, BatchPipeline, TwoStepWrite


def event(offset: int) -> Any:
    message = SimpleNamespace(topic="summaries", partition=0, offset=offset, key=b"k", value=b"v")
    return SimpleNamespace(message=message, value=b"v", headers={})


def batch(name: str, offsets: list[int], keys: list[str]) -> Batch[str]:
    events = [event(o) for o in offsets]
    return Batch(events, [(e, name) for e in events], {k: name for k in keys})


class Steps:
    """prepare/store that log when they start and end; a store waits for its batch's gate if it has one."""

    def __init__(self, fail_prepare: set[str] | None = None) -> None:
        self.log: list[tuple[str, str]] = []
        self.before: dict[str, str | None] = {}
        self.gates: dict[str, asyncio.Event] = {}
        self.acked: list[int] = []
        self.fail_prepare = fail_prepare or set()

    async def prepare(self, items: list[str], before: str | None) -> str:
        name = items[0]
        self.log.append(("prepare", name))
        self.before[name] = before
        if name in self.fail_prepare:
            raise ValueError(f"cannot prepare {name}")
        return name

    async def store(self, name: str) -> None:
        self.log.append(("store", name))
        if name in self.gates:
            await self.gates[name].wait()
        self.log.append(("stored", name))

    async def ack(self, ev: Any) -> None:
        self.acked.append(ev.message.offset)


class Letters:
    def __init__(self) -> None:
        self.sent: list[DeadLetter] = []

    async def send(self, key: bytes, value: bytes) -> None:
        self.sent.append(deserialize(DeadLetter, value))


def _pipeline(steps: Steps, letters: Letters) -> BatchPipeline[str, str]:
    return BatchPipeline(TwoStepWrite(steps.prepare, steps.store), steps.ack, letters, "index", give_up_after=300)


async def test_the_next_batch_is_prepared_while_the_one_before_is_stored_and_acked_only_once_stored():
    steps, letters = Steps(), Letters()
    steps.gates["first"] = asyncio.Event()
    async with _pipeline(steps, letters) as pipeline:
        await pipeline.submit(batch("first", [0, 1], ["a", "b"]))
        second = asyncio.create_task(pipeline.submit(batch("second", [2], ["b", "c"])))
        await asyncio.sleep(0.05)
        assert ("prepare", "second") in steps.log  # while the first is still being stored
        assert steps.log[-1] == ("prepare", "second") and ("stored", "first") not in steps.log
        assert steps.acked == []  # nothing acknowledged before its batch is stored
        assert steps.before == {"first": None, "second": "first"}  # what is being stored meanwhile
        steps.gates["first"].set()
        await second
    assert steps.log == [("prepare", "first"), ("store", "first"), ("prepare", "second"), ("stored", "first"),
                         ("store", "second"), ("stored", "second")]
    assert steps.acked == [0, 1, 2]
    assert letters.sent == []


async def test_a_batch_that_cannot_be_prepared_is_dead_lettered_and_acknowledged_after_the_one_before():
    steps, letters = Steps(fail_prepare={"second"}), Letters()
    steps.gates["first"] = asyncio.Event()
    async with _pipeline(steps, letters) as pipeline:
        await pipeline.submit(batch("first", [0], ["a"]))
        second = asyncio.create_task(pipeline.submit(batch("second", [1, 2], ["b"])))
        await asyncio.sleep(0.05)
        assert [(d.offset, d.error) for d in letters.sent] == [(1, "ValueError: cannot prepare second"),
                                                               (2, "ValueError: cannot prepare second")]
        assert steps.acked == []  # the first batch is not stored yet, so neither is acknowledged
        steps.gates["first"].set()
        await second
        await pipeline.submit(batch("third", [3], ["c"]))
    assert ("store", "second") not in steps.log
    assert steps.acked == [0, 1, 2, 3]
    assert steps.before["third"] is None  # nothing of the dead-lettered batch is pending


async def test_a_batch_being_stored_when_the_agent_is_cancelled_is_not_acknowledged():
    steps, letters = Steps(), Letters()
    steps.gates["first"] = asyncio.Event()  # never set: the store hangs

    async def agent() -> None:
        async with _pipeline(steps, letters) as pipeline:
            await pipeline.submit(batch("first", [0], ["a"]))
            await asyncio.Event().wait()  # the next batch never comes

    task = asyncio.create_task(agent())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ("store", "first") in steps.log and ("stored", "first") not in steps.log
    assert steps.acked == []  # Kafka delivers it again
