"""The worker's warm-ups of /init neighbourhoods: only once the tenant's index is quiet, retried after a lost
race, never stopped by a failure."""

import asyncio
import itertools

from streams.warming import RETRIES, Warmer


async def _steady(tenant: str) -> str:
    return "7"


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

    warmer = Warmer(warm_one, _steady, first_pause=0.05, settle=0.01)
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

    warmer = Warmer(warm_one, _steady, first_pause=0.001, settle=0.01)
    warmer.add("t", [1, 2, 3])
    await _until_idle(warmer)
    assert calls.count(1) == 1 and calls.count(3) == 1
    assert calls.count(2) == RETRIES


async def test_a_tenant_still_writing_is_not_searched_until_it_goes_quiet():
    writes = itertools.count()
    searched_at_write: list[int] = []
    last_write = 0

    async def generation(tenant: str) -> str:
        nonlocal last_write
        if tenant == "busy" and last_write < 20:  # a backfill: a new write every time anyone looks
            last_write = next(writes)
        return str(last_write)

    async def warm_one(tenant: str, ticket_id: int) -> bool | None:
        searched_at_write.append(last_write if tenant == "busy" else -1)
        return True

    warmer = Warmer(warm_one, generation, settle=0.02)
    warmer.add("busy", [1])
    warmer.add("calm", [2])
    await _until_idle(warmer)
    assert sorted(searched_at_write) == [-1, 20]  # the calm tenant at once, the busy one once it stopped


async def test_a_disabled_warmer_searches_nothing():
    async def warm_one(tenant: str, ticket_id: int) -> bool | None:
        raise AssertionError("searched while disabled")

    warmer = Warmer(warm_one, _steady, enabled=False)
    warmer.add("t", [1])
    assert not warmer.busy()
