"""Concurrent misses for the same key share one computation; different keys, later calls and failures do not
leak into each other."""

import asyncio

import pytest

from copilot.single_flight import SingleFlight


class Counting:
    def __init__(self) -> None:
        self.calls = 0
        self.release = asyncio.Event()

    async def __call__(self) -> int:
        self.calls += 1
        await self.release.wait()
        return self.calls


async def test_concurrent_callers_with_one_key_share_one_computation():
    joined: list[tuple] = []
    flights: SingleFlight[int] = SingleFlight(on_join=joined.append)
    compute = Counting()
    waiting = [asyncio.create_task(flights.run(("q",), compute)) for _ in range(20)]
    await asyncio.sleep(0)
    assert flights.in_flight == 1
    compute.release.set()
    assert await asyncio.gather(*waiting) == [1] * 20
    assert compute.calls == 1
    assert joined == [("q",)] * 19
    assert flights.in_flight == 0


async def test_different_keys_and_later_calls_compute_again():
    flights: SingleFlight[int] = SingleFlight()
    compute = Counting()
    compute.release.set()
    assert await asyncio.gather(flights.run(("a",), compute), flights.run(("b",), compute)) == [1, 2]
    assert await flights.run(("a",), compute) == 3


async def test_a_failure_reaches_every_waiter_and_the_next_call_retries():
    flights: SingleFlight[int] = SingleFlight()
    attempts = 0

    async def flaky() -> int:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(0.01)
        if attempts == 1:
            raise RuntimeError("milvus unavailable")
        return attempts

    results = await asyncio.gather(flights.run(("q",), flaky), flights.run(("q",), flaky), return_exceptions=True)
    assert [str(r) for r in results] == ["milvus unavailable", "milvus unavailable"]
    assert await flights.run(("q",), flaky) == 2


async def test_a_cancelled_caller_does_not_cancel_the_others():
    flights: SingleFlight[int] = SingleFlight()
    compute = Counting()
    leaving = asyncio.create_task(flights.run(("q",), compute))
    staying = asyncio.create_task(flights.run(("q",), compute))
    await asyncio.sleep(0)
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    compute.release.set()
    assert await staying == 1
