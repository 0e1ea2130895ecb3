"""Retrieval quality of fusion settings, offline: the labeled set indexed once, each signal's ranking searched
once, then fused many ways in Python.

`copilot eval` measures the system as it runs (the whole pipeline, then the API). This answers "what would
another setting give" on the same documents and vectors without re-running it: one Milvus Lite collection
with the project's schema, flushed into one segment (BM25 statistics over the whole set, as a Milvus server
keeps them), the documents' default vectors (the ticket's own text, and its subject, all-MiniLM-L6-v2), and
for each query the rankings /init fuses, 100 deep: the dense one, BM25 with /init's keywords of the first N
characters, and the subject's two (its vector against other subjects', BM25 with its words).

    python -m bench.fusion_study --tickets ../shared/eval/tickets.jsonl --queries ../shared/eval/queries.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from bench.documents import documents
from bench.milvus_seal import written_index
from copilot.answering import keywords
from copilot.documents import embedding_text
from copilot.domain import SummarizedDocument, utcnow
from copilot.evaluation import Query, load_queries, score
from copilot.fusion import fuse
from copilot.neighbourhood import subject_query
from copilot.providers.embeddings import LocalEmbedder
from copilot.retrieval_config import RetrievalConfig
from copilot.sandbox import machine
from streams.rows import ticket_row

DEPTH = 100
QUERY_CHARS = (150, 600, 2000)
RRF_KS = (5, 10, 20, 60)
TOP = 10


async def rankings(rows: list[dict], queries: list[Query]) -> dict[str, dict[str, list[int]]]:
    """Signal name -> query id -> ticket ids, best first (the query's own ticket excluded)."""
    tenant = rows[0]["tenant"]
    by_id = {row["ticket_id"]: row for row in rows}
    found: dict[str, dict[str, list[int]]] = {}
    async with written_index(rows) as index:
        index.seal()
        for q in queries:
            row = by_id[q.ticket_id]
            first, *others = QUERY_CHARS  # the vectors' and the subject's rankings do not depend on the length
            subject = subject_query(row["subject"], row["subject_dense"])
            for ranking in await index.ticket_rankings(tenant, row["dense"], keywords(row["text"][:first]), DEPTH,
                                                       exclude_ticket=q.ticket_id, subject=subject):
                name = f"bm25 {first}" if ranking.signal == "sparse" else ranking.signal
                found.setdefault(name, {})[q.query_id] = [h.fields["ticket_id"] for h in ranking.hits]
            for chars in others:
                terms = keywords(row["text"][:chars])
                hits = await index.search_tickets(tenant, row["dense"], terms, DEPTH, exclude_ticket=q.ticket_id,
                                                  mode="bm25") if terms else []
                found.setdefault(f"bm25 {chars}", {})[q.query_id] = [h.fields["ticket_id"] for h in hits]
    return found


def fused(signals: list[dict[str, list[int]]], k: int, queries: list[Query]) -> dict[str, list[int]]:
    return {q.query_id: [t for t, _ in fuse([(s.get(q.query_id, []), 1.0) for s in signals], k, TOP)]
            for q in queries}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    args = parser.parse_args()
    with args.tickets.open() as fh:
        raw = [json.loads(line) for line in fh if line.strip()]
    queries = load_queries(args.queries)
    docs = documents(raw)
    started = time.perf_counter()
    embedder = LocalEmbedder()
    vectors = embedder.encode([embedding_text(d, None, RetrievalConfig().embed) for d in docs])
    subjects = embedder.encode([d.subject for d in docs])
    now = utcnow()
    rows = [ticket_row(SummarizedDocument(d, None), RetrievalConfig().embed, v.tolist(), s.tolist(), now)
            for d, v, s in zip(docs, vectors, subjects, strict=True)]
    found = asyncio.run(rankings(rows, queries))
    print(f"machine: {machine()}; {len(rows)} tickets, {len(queries)} queries, one segment "
          f"({time.perf_counter() - started:.0f} s)")
    results = {name: score({q: r[:TOP] for q, r in ranked.items()}, queries) for name, ranked in found.items()}
    subject = [found["subject_dense"], found.get("subject_sparse", {})]
    results["dense + subject's vector, k = 10"] = score(fused([found["dense"], subject[0]], 10, queries), queries)
    results["bm25 600 + subject's BM25, k = 10"] = score(fused([found["bm25 600"], subject[1]], 10, queries), queries)
    for chars in QUERY_CHARS:
        for k in RRF_KS:
            results[f"dense + bm25 {chars}, k = {k}"] = score(
                fused([found["dense"], found[f"bm25 {chars}"]], k, queries), queries)
            results[f"dense + bm25 {chars} + subject's two, k = {k}"] = score(
                fused([found["dense"], found[f"bm25 {chars}"], *subject], k, queries), queries)
    dense = results["dense"]
    print("| ranking | R@1 | R@5 | R@10 | MRR@10 | R@10 vs dense | MRR@10 vs dense |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, m in results.items():
        print(f"| {name} | {m['R@1']:.3f} | {m['R@5']:.3f} | {m['R@10']:.3f} | {m['MRR@10']:.3f} | "
              f"{(m['R@10'] / dense['R@10'] - 1) * 100:+.1f}% | {(m['MRR@10'] / dense['MRR@10'] - 1) * 100:+.1f}% |")


if __name__ == "__main__":
    main()
