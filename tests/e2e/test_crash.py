"""A worker killed with SIGKILL while it is indexing, then restarted: one row per live ticket, no lost update."""

from __future__ import annotations

import os
import signal

from pymilvus import MilvusClient
from redis import Redis

from tests.e2e.conftest import Pipeline
from tests.helpers import wait_for

DEADLINE = 120.0


def _indexed_hashes(redis: Redis, ns: str, tenant: str) -> dict[int, str]:
    return {int(k): v.decode() for k, v in redis.hgetall(f"{ns}:progress:{tenant}:indexed").items()}


def test_sigkill_mid_stream_leaves_exactly_one_row_per_ticket_and_loses_no_update(pipeline: Pipeline):
    env, acme = pipeline.settings_env, pipeline.acme
    ns = env["COPILOT_NAMESPACE"]
    redis = Redis.from_url(env["COPILOT_REDIS_URL"])
    before = _indexed_hashes(redis, ns, acme.domain)
    before_kill, while_down = acme.tickets[:30], acme.tickets[30:40]
    for t in before_kill:
        acme.simulator_call("POST", f"/tickets/{t['id']}/reply", {"body": f"Crash fix {t['id']}: resolved."})

    def some_progress() -> bool:
        now = _indexed_hashes(redis, ns, acme.domain)
        return any(now[t["id"]] != before[t["id"]] for t in before_kill)

    wait_for(some_progress, DEADLINE, interval=0.05, what="the worker to start indexing the changes")
    worker = pipeline.procs.procs["worker"]
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    for t in while_down:
        acme.simulator_call("POST", f"/tickets/{t['id']}/reply", {"body": f"Crash fix {t['id']}: resolved."})
    pipeline.procs.start("worker", "worker")

    changed = {t["id"] for t in before_kill + while_down}

    def all_changes_indexed() -> bool:
        now = _indexed_hashes(redis, ns, acme.domain)
        return all(now[i] != before[i] for i in changed)

    try:
        wait_for(all_changes_indexed, DEADLINE, interval=0.5, what="every change indexed after the restart")
    except AssertionError as exc:
        merged = {int(k): v.decode() for k, v in redis.hgetall(f"{ns}:progress:{acme.domain}:merged").items()}
        now = _indexed_hashes(redis, ns, acme.domain)
        stuck = {i: ("merged" if merged.get(i) != before[i] else "not merged") for i in changed if now[i] == before[i]}
        raise AssertionError(f"{exc}; stuck: {stuck}; lag: {pipeline.status()['consumer_lag']}") from None
    # Every offset committed too: records that Faust's recovery dropped used to leave a gap that held a
    # partition's commits for minutes (streams/recovery.py).
    wait_for(lambda: pipeline.status()["total_lag"] == 0, 60, interval=0.5, what="every offset committed")
    milvus = MilvusClient(uri=env["COPILOT_MILVUS_URI"])
    rows = milvus.query(f"{ns}_tickets", filter=f'tenant == "{acme.domain}"', output_fields=["pk", "solution"],
                        limit=10_000)
    pks = [r["pk"] for r in rows]
    assert len(pks) == len(set(pks)) == len(acme.tickets)
    solutions = {int(r["pk"].rsplit("/", 1)[1]): r["solution"] for r in rows}
    assert all(solutions[i] == f"Crash fix {i}: resolved." for i in changed), \
        [(i, solutions[i]) for i in changed if solutions[i] != f"Crash fix {i}: resolved."][:3]
