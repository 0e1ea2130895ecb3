"""`copilot eval`: retrieval quality on a labeled set, measured through the real pipeline.

Tickets are served by the simulator, synced by the poller, processed by the worker and queried through
the API's `/init/{ticket_id}` (the full system). The BM25-only and dense-only baselines query the same
Milvus index directly. Queries are tickets of the set; each one's own ticket is excluded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from statistics import mean

KS = (1, 5, 10)


@dataclass(frozen=True)
class Query:
    query_id: str
    ticket_id: int
    relevant: frozenset[int]


def load_queries(path: Path) -> list[Query]:
    with path.open() as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [Query(r["query_id"], int(r["ticket_id"]), frozenset(int(t) for t in r["relevant"])) for r in rows]


def recall_at(ranking: list[int], relevant: frozenset[int], k: int) -> float:
    return len(set(ranking[:k]) & relevant) / len(relevant)


def reciprocal_rank(ranking: list[int], relevant: frozenset[int], k: int = 10) -> float:
    return next((1.0 / rank for rank, tid in enumerate(ranking[:k], start=1) if tid in relevant), 0.0)


def score(rankings: dict[str, list[int]], queries: list[Query]) -> dict[str, float]:
    """Recall@1/5/10 and MRR@10 averaged over queries (a query with no ranking counts as a miss)."""
    metrics = {f"R@{k}": mean(recall_at(rankings.get(q.query_id, []), q.relevant, k) for q in queries) for k in KS}
    metrics["MRR@10"] = mean(reciprocal_rank(rankings.get(q.query_id, []), q.relevant) for q in queries)
    return metrics


def table(results: dict[str, dict[str, float]]) -> str:
    names = [f"R@{k}" for k in KS] + ["MRR@10"]
    lines = ["| system | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    lines += [f"| {system} | " + " | ".join(f"{m[n]:.3f}" for n in names) + " |" for system, m in results.items()]
    return "\n".join(lines)


def run_evaluation(tickets: Path, queries_file: Path, timeout: float = 3600.0) -> dict[str, dict[str, float]]:
    """Index the tickets through a sandboxed pipeline, then rank every query three ways."""
    import asyncio

    from redis import Redis

    from copilot.sandbox import free_port, poll, sandbox

    queries = load_queries(queries_file)
    with tickets.open() as fh:  # not str.splitlines(): JSON strings may hold U+2028 and friends
        count = sum(1 for line in fh if line.strip())
    domain, key = "eval.freshdesk.test", "eval-key"
    with sandbox(COPILOT_POLL_INTERVAL="2") as box:
        sim_port, api_port = free_port(), free_port()
        box.start("simulator", "simulator", "--port", str(sim_port), "--domain", domain, "--tickets", str(tickets),
                  "--rate-limit", "1000000", extra={"COPILOT_SIMULATOR_API_KEY": key})
        box.run("tenant", "add", "--domain", domain, "--api-key", key, "--base-url", f"http://127.0.0.1:{sim_port}")
        for name in ("worker", "sync"):
            box.start(name, name)
        box.start("api", "api", "--port", str(api_port))
        redis = Redis.from_url(box.env["COPILOT_REDIS_URL"])
        poll(lambda: redis.hlen(f"sandbox:progress:{domain}:indexed") >= count, timeout=timeout, interval=2.0)
        full = _rank_through_api(f"http://127.0.0.1:{api_port}", domain, key, queries)
        baselines = asyncio.run(_rank_baselines(box.env["COPILOT_MILVUS_URI"], domain, queries))
    return {"full system (API /init)": score(full, queries),
            **{name: score(r, queries) for name, r in baselines.items()}}


def _rank_through_api(base: str, domain: str, key: str, queries: list[Query]) -> dict[str, list[int]]:
    import urllib.request

    rankings = {}
    for q in queries:
        request = urllib.request.Request(f"{base}/init/{q.ticket_id}?limit=10",  # noqa: S310 - sandbox API
                                         headers={"X-Freshdesk-Domain": domain, "X-Freshdesk-Api-Key": key})
        with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310 - the sandbox's 127.0.0.1 API
            body = json.loads(resp.read())
        rankings[q.query_id] = [s["ticket_id"] for s in body["similar_tickets"]]
    return rankings


async def _rank_baselines(milvus_uri: str, domain: str, queries: list[Query]) -> dict[str, dict[str, list[int]]]:
    from copilot.answering import keywords
    from copilot.index import CopilotIndex
    from copilot.settings import ApiSettings

    query_chars = ApiSettings().init_query_chars  # the same query text the API's /init searches with

    index = CopilotIndex(milvus_uri, "sandbox", "v1", dim=384)
    rankings: dict[str, dict[str, list[int]]] = {"BM25 only": {}, "dense only": {}}
    for q in queries:
        row = await index.get_ticket(domain, q.ticket_id, with_vector=True)
        if row is None:
            continue
        for name, mode in (("BM25 only", "bm25"), ("dense only", "dense")):
            hits = await index.search_tickets(domain, list(row["dense"]), keywords(row["text"][:query_chars]), 10,
                                              exclude_ticket=q.ticket_id, mode=mode)
            rankings[name][q.query_id] = [h.fields["ticket_id"] for h in hits]
    index.close()
    return rankings
