"""Sidebar API latency under load: /init and /query at a fixed request rate against a large index.

1. Index N generated tickets through the real pipeline (simulator -> poller -> Kafka -> worker -> Milvus),
   then stop the poller and the worker so that only the API, Redis and Milvus share the machine.
2. Start the API process and send requests from this process at a fixed rate (open loop: request i is due
   at i / rate seconds, and its latency counts from then, so a slow server cannot hide queueing).
   `/init/{id}` opens tickets chosen at random across the whole index; `/query` asks questions made from
   random tickets' subjects.

    python -m bench.api_load --tickets 20000 --rates 5,20,50 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Callable

import aiohttp

from bench.pipeline import percentile
from connectors.freshdesk.simulator.demo import generate_tickets
from copilot.sandbox import Sandbox, free_port, machine, poll, sandbox

DOMAIN, KEY = "load.freshdesk.test", "load-key"
WARM_UP = 6  # requests before the measured runs


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
    print(f"indexed {len(tickets)} tickets in {time.monotonic() - started:.0f} s")
    time.sleep(5)  # the worker seals what it wrote last
    r.stop_one("sync")
    r.stop_one("worker")


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
               asyncio.Future]) -> tuple[list[float], int]:
    """Latencies (from each request's due time) and the number of failed requests."""
    latencies: list[float] = []
    failures = 0
    headers = {"X-Freshdesk-Domain": DOMAIN, "X-Freshdesk-Api-Key": KEY}
    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(api, headers=headers, connector=connector) as session:
        start = time.perf_counter()

        async def one(n: int) -> None:
            nonlocal failures
            due = start + n / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                async with await request(session, n) as resp:
                    await resp.read()
                    ok = resp.status == 200
            except aiohttp.ClientError:
                ok = False
            latencies.append(time.perf_counter() - due)
            failures += not ok

        await asyncio.gather(*(one(n) for n in range(int(rate * seconds))))
    return latencies, failures


def report(name: str, latencies: list[float], failures: int, rate: float) -> None:
    ms = sorted(x * 1000 for x in latencies)
    print(f"{name}: {len(ms)} requests at {rate:g}/s, {failures} failed; p50 {statistics.median(ms):.1f} ms, "
          f"p95 {percentile(ms, 95):.1f} ms, p99 {percentile(ms, 99):.1f} ms, max {ms[-1]:.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=20000)
    parser.add_argument("--rates", default="5,20,50", help="requests per second, one run each")
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    tickets = generate_tickets(args.tickets, seed=8)
    rng = random.Random(1)
    total = WARM_UP + int(sum(rates) * args.seconds)
    opened = [rng.choice(tickets)["id"] for _ in range(total)]  # every request opens a different draw
    questions = [rng.choice(tickets)["subject"] for _ in range(total)]
    with sandbox(COPILOT_POLL_INTERVAL="1") as r:
        index_tickets(r, tickets)
        api_port = free_port()
        r.env["COPILOT_API_PORT"] = str(api_port)
        r.start("api", "api")
        api = f"http://127.0.0.1:{api_port}"
        poll(lambda: _answers(f"{api}/health"), timeout=120)

        offset = 0

        def init(session: aiohttp.ClientSession, n: int) -> asyncio.Future:
            return session.get(f"/init/{opened[offset + n]}")  # type: ignore[return-value]

        def query(session: aiohttp.ClientSession, n: int) -> asyncio.Future:
            return session.post("/query", json={"query": questions[offset + n],  # type: ignore[return-value]
                                                "limit": 10})

        asyncio.run(load(api, WARM_UP / 3, 3, init))  # warm up connections and the model
        offset = WARM_UP
        print(f"machine: {machine()}; index: {args.tickets} tickets", flush=True)
        for rate in rates:
            for name, call in (("/init", init), ("/query", query)):
                report(name, *asyncio.run(load(api, rate, args.seconds, call)), rate)
            offset += int(rate * args.seconds)


if __name__ == "__main__":
    main()
