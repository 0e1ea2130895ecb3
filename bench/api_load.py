"""Sidebar API latency under load: /init and /query at a fixed request rate against a large index.

1. Index N generated tickets through the real pipeline (simulator -> poller -> Kafka -> worker -> Milvus),
   wait until the worker has warmed the open tickets' /init searches (streams.warming), then stop the
   poller and the worker so that only the API, Redis and Milvus share the machine.
2. Start the API process and send requests from this process at a fixed rate (open loop: request i is due
   at i / rate seconds, and its latency counts from then, so a slow server cannot hide queueing).
   Three workloads: `/init` of random open tickets (what agents work on: the warmed path), `/init` of
   random tickets across the whole index (mostly never opened before: each a cache miss, four Milvus
   searches), and `/query` with random tickets' subjects (few distinct ones: mostly cache hits).

    python -m bench.api_load --tickets 20000 --rates 5,20,50 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp

from bench.pipeline import percentile
from connectors.freshdesk.simulator.demo import generate_tickets
from copilot.result_cache import neighbourhood_key, unpack
from copilot.sandbox import Sandbox, free_port, machine, poll, sandbox
from streams.warming import WARM_STATUSES

DOMAIN, KEY = "load.freshdesk.test", "load-key"
WARM_UP = 6  # requests before the measured runs
WARM_TIMEOUT = 3600  # seconds to wait for the worker's warm-ups after the backfill


def index_tickets(r: Sandbox, tickets: list[dict]) -> None:
    from redis import Redis

    port = free_port()
    data = r.write_jsonl("tickets.jsonl", tickets)
    r.start("simulator", "simulator", "--port", str(port), "--domain", DOMAIN, "--tickets", str(data),
            "--rate-limit", "100000000", extra={"COPILOT_SIMULATOR_API_KEY": KEY})
    poll(lambda: _answers(f"http://127.0.0.1:{port}/api/v2/tickets/1"), timeout=120)
    r.run("tenant", "add", "--domain", DOMAIN, "--api-key", KEY, "--base-url", f"http://127.0.0.1:{port}")
    r.start("worker", "worker")
    r.start("sync", "sync")
    redis = Redis.from_url(r.env["COPILOT_REDIS_URL"], decode_responses=True)
    started = time.monotonic()
    poll(lambda: redis.hlen(f"sandbox:progress:{DOMAIN}:indexed") >= len(tickets), timeout=7200, interval=2)
    print(f"indexed {len(tickets)} tickets in {time.monotonic() - started:.0f} s", flush=True)
    time.sleep(5)  # the worker seals what it wrote last
    open_ids = [t["id"] for t in tickets if t["status"] in WARM_STATUSES]
    try:
        warmed = poll(lambda: _all_warmed(redis, r.env["COPILOT_NAMESPACE"], open_ids), WARM_TIMEOUT, interval=5)
    except TimeoutError:
        warmed = False
    print(f"warmed /init of the {len(open_ids)} open tickets: {'yes' if warmed else 'NOT ALL'} "
          f"({time.monotonic() - started:.0f} s after the backfill began)", flush=True)
    stored = [redis.get(neighbourhood_key(r.env["COPILOT_NAMESPACE"], DOMAIN, t)) or "" for t in open_ids]
    print(f"neighbourhood entries: median {statistics.median(map(len, stored)) / 1000:.1f} KB stored, "
          f"{statistics.median(len(json.dumps(unpack(e))) for e in stored if e) / 1000:.1f} KB as JSON; "
          f"Redis holds {redis.info('memory')['used_memory_human']}", flush=True)
    r.stop_one("sync")
    r.stop_one("worker")


def _all_warmed(redis: Any, namespace: str, ticket_ids: list[int]) -> bool:
    keys = [neighbourhood_key(namespace, DOMAIN, t) for t in ticket_ids]
    return sum(redis.exists(*keys[i:i + 500]) for i in range(0, len(keys), 500)) == len(keys)


def _answers(url: str) -> bool:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(url, timeout=2)  # noqa: S310 - 127.0.0.1
    except urllib.error.HTTPError:
        return True  # 401: it is up
    except OSError:
        return False
    return True


async def load(api: str, rate: float, seconds: float, request: Callable[[aiohttp.ClientSession, int],
               asyncio.Future]) -> tuple[list[float], Counter[str]]:
    """Latencies (from each request's due time) and the failed requests by what they got (a status and the
    error's code, or the client's exception)."""
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    headers = {"X-Freshdesk-Domain": DOMAIN, "X-Freshdesk-Api-Key": KEY}
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(api, headers=headers, connector=connector) as session:
        start = time.perf_counter()

        async def one(n: int) -> None:
            due = start + n / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                async with await request(session, n) as resp:
                    body = await resp.read()
                    if resp.status != 200:
                        failures[f"{resp.status} {_error_code(body)}"] += 1
            except aiohttp.ClientError as exc:
                failures[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - due)

        await asyncio.gather(*(one(n) for n in range(int(rate * seconds))))
    return latencies, failures


def _error_code(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"])
    except (ValueError, KeyError, TypeError):
        return body[:80].decode(errors="replace")


def report(name: str, latencies: list[float], failures: Counter[str], rate: float) -> None:
    ms = sorted(x * 1000 for x in latencies)
    why = f" ({', '.join(f'{n}x {what}' for what, n in failures.most_common())})" if failures else ""
    print(f"{name}: {len(ms)} requests at {rate:g}/s, {failures.total()} failed{why}; p50 {statistics.median(ms):.1f} "
          f"ms, p95 {percentile(ms, 95):.1f} ms, p99 {percentile(ms, 99):.1f} ms, max {ms[-1]:.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--rates", default="5,20,50", help="requests per second, one run each")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workloads", default="open,any,query",
                        help="which to run: open (/init of open tickets), any (/init of any ticket), query")
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    tickets = generate_tickets(args.tickets, seed=8)
    rng = random.Random(1)
    total = WARM_UP + int(sum(rates) * args.seconds)
    open_ids = [t["id"] for t in tickets if t["status"] in WARM_STATUSES]
    opened = {"open tickets": [rng.choice(open_ids) for _ in range(total)],
              "any ticket": [rng.choice(tickets)["id"] for _ in range(total)]}
    questions = [rng.choice(tickets)["subject"] for _ in range(total)]
    with sandbox(COPILOT_POLL_INTERVAL="1") as r:
        index_tickets(r, tickets)
        api_port = free_port()
        r.env["COPILOT_API_PORT"] = str(api_port)
        r.start("api", "api")
        api = f"http://127.0.0.1:{api_port}"
        poll(lambda: _answers(f"{api}/health"), timeout=120)

        offset = 0  # every run draws tickets and questions no earlier run drew

        def init(which: str) -> Callable[[aiohttp.ClientSession, int], asyncio.Future]:
            def get(session: aiohttp.ClientSession, n: int) -> asyncio.Future:
                return session.get(f"/init/{opened[which][offset + n]}")  # type: ignore[return-value]
            return get

        def query(session: aiohttp.ClientSession, n: int) -> asyncio.Future:
            return session.post("/query", json={"query": questions[offset + n],  # type: ignore[return-value]
                                                "limit": 10})

        asyncio.run(load(api, WARM_UP / 3, 3, init("any ticket")))  # warm up connections and the model
        offset = WARM_UP
        print(f"machine: {machine()}; index: {args.tickets} tickets, {len(open_ids)} open", flush=True)
        for rate in rates:
            workloads = {"open": ("/init, open tickets", init("open tickets")),
                         "any": ("/init, any ticket", init("any ticket")), "query": ("/query", query)}
            for name, call in (workloads[w] for w in args.workloads.split(",")):
                report(name, *asyncio.run(load(api, rate, args.seconds, call)), rate)
            offset += int(rate * args.seconds)

if __name__ == "__main__":
    main()
