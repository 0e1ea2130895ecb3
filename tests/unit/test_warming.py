"""The worker's warm-ups of /init neighbourhoods: retried after a lost race, never stopped by a failure."""

import asyncio

from streams.warming import RETRIES, Warmer


async def _until_idle(warmer: Warmer) -> None:
    for _ in range(500):
        if not warmer.busy():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the warmer never went idle")


async def test_a_lost_race_is_searched_again_and_others_go_first_meanwhile():
    calls: list[tuple[str, int]] = []
    outcomes = {("t", 1): [False, True], ("t", 2): [True]}

    async def warm_one(tenant: str, ticket_id: int) -> bool | None:
        calls.append((tenant, ticket_id))
        return outcomes[(tenant, ticket_id)].pop(0)

    warmer = Warmer(warm_one, first_pause=0.05)
    warmer.add("t", [1, 2])
    await _until_idle(warmer)
    assert calls == [("t", 1), ("t", 2), ("t", 1)]


async def test_retries_stop_after_RETRIES_and_failures_do_not_stop_the_queue():
    calls: list[int] = []

    async def warm_one(tenant: str, ticket_id: int) -> bool | None:
        calls.append(ticket_id)
        if ticket_id == 1:
            raise ConnectionError("milvus went away")
        return False if ticket_id == 2 else None  # 2 always races; 3 is no longer indexed

    warmer = Warmer(warm_one, first_pause=0.001)
    warmer.add("t", [1, 2, 3])
    await _until_idle(warmer)
    assert calls.count(1) == 1 and calls.count(3) == 1
    assert calls.count(2) == RETRIES


async def test_a_disabled_warmer_searches_nothing():
    async def warm_one(tenant: str, ticket_id: int) -> bool | None:
        raise AssertionError("searched while disabled")

    warmer = Warmer(warm_one, enabled=False)
    warmer.add("t", [1])
    assert not warmer.busy()
