"""Pipeline throughput and freshness on real Kafka, Redis and Milvus Lite, local summarizer and embeddings.

1. Backfill: N generated tickets go simulator -> poller -> Kafka -> Faust (join, summarize, embed, index) ->
   Milvus. Reports tickets/s from the first publish to the last index write, next to the raw rate of
   `encode()` on the same inputs (each ticket's text and its subject, as the index agent embeds them) with
   the same model in one process (the ceiling the pipeline chases), the mean of a run before the stack starts
   and one after it stops.
2. Freshness: then K single replies, one at a time; for each, the time from the poller seeing the change
   (`seen_at`) to the row being written (`indexed_at`), both stored on the Milvus row. The poll interval is
   not included: it is the time before `seen_at`. Over the same replies, the worker's own histograms
   (read from its /metrics before and after) give each stage's freshness and Kafka's share: the time each
   record spent between its producer and the agent reading it, for each of the three hops.

    python -m bench.pipeline --tickets 2000 --changes 40 [--own-core] [--backlog]

With --backlog, the poller publishes every ticket before the worker starts, and stops: the worker then works
through the topics as after an outage or in a replay, and is timed from its first record to its last index
write. The poller and the simulator, which are not Kafka, Faust or Milvus, then take no CPU from it.

With --own-core, the embedding gets a core of its own, as it would beside a broker and a Milvus on other
machines: the worker embeds with one torch thread on its model thread, which alone runs on one core; every
other thread of the stack, the worker's event loop included, runs on the other cores; the raw rate is taken
with one thread as well. The CPU each process used is printed next to it, so what the rest costs stays in
view. The single changes after the backfill run unpinned: they measure latency, which a stack squeezed onto
one core would only add to.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import statistics
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bench.documents import documents, embedding_inputs
from connectors.freshdesk.simulator.demo import generate_tickets
from copilot.providers.embeddings import EMBED_THREAD, LocalEmbedder
from copilot.sandbox import free_port, machine, poll, sandbox

ROLES = {"worker": "-m copilot worker", "poller": "-m copilot sync", "simulator": "-m copilot simulator",
         "Kafka broker": "kafka.Kafka", "Milvus Lite": "milvus_server", "Redis": "redis-server"}
MODEL = "the worker's model threads"  # named EMBED_THREAD (torch's own threads take the name of the thread that
# starts them), their CPU counted apart as well


def processes() -> Iterator[tuple[str, Path]]:
    """(role, /proc directory) of each running process of the stack, from /proc (Linux)."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # the process ended meanwhile
        for role, marker in ROLES.items():
            if marker in command:
                yield role, proc


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) each role's processes have used so far, and the worker's model threads'."""
    used = dict.fromkeys(["worker", MODEL, *ROLES], 0.0)
    for role, proc in processes():
        used[role] += cpu_of(proc)
    used[MODEL] = thread_cpu_seconds("worker")[EMBED_THREAD]
    return used


def thread_cpu_seconds(role: str) -> Counter[str]:
    """CPU time the threads of `role`'s processes have used so far, by the name the OS shows for them."""
    used: Counter[str] = Counter()
    for each, proc in processes():
        if each == role:
            for task in proc.glob("task/[0-9]*"):
                used[os_thread_name(task)] += cpu_of(task)
    return used


def cpu_of(proc_or_task: Path) -> float:
    try:
        fields = (proc_or_task / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0  # it ended meanwhile
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def os_thread_name(task: Path) -> str:
    try:
        return (task / "comm").read_text().strip()
    except OSError:
        return ""


def pin_the_stack(model_cpus: set[int], other_cpus: set[int]) -> bool:
    """The worker's model threads may run on `model_cpus` only, and every other thread of the stack (the
    worker's event loop and Kafka client included) on `other_cpus` only; whether a model thread was found."""
    found = False
    for role, proc in processes():
        for task in proc.glob("task/[0-9]*"):
            model = role == "worker" and os_thread_name(task) == EMBED_THREAD
            with contextlib.suppress(OSError):  # the thread ended meanwhile
                os.sched_setaffinity(int(task.name), model_cpus if model else other_cpus)
            found = found or model
    return found


STAGES = ("merge", "summarize", "index")


def samples(metrics_url: str) -> Iterator[Sample]:
    """Every sample the worker's /metrics shows now."""
    text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()  # noqa: S310 - 127.0.0.1
    for family in text_string_to_metric_families(text):
        yield from family.samples


def histograms(metrics_url: str, name: str) -> dict[str, dict[str, float]]:
    """Per stage, a histogram's `count`, `sum` and cumulative bucket counts (keyed by `le`) read now."""
    out: dict[str, dict[str, float]] = {}
    for sample in samples(metrics_url):
        if sample.name.startswith(name) and sample.labels.get("stage") in STAGES:
            stage = out.setdefault(sample.labels["stage"], {})
            suffix = sample.name[len(name) + 1:]
            stage[sample.labels["le"] if suffix == "bucket" else suffix] = sample.value
    return out


def worker_ready(metrics_url: str) -> bool:
    try:
        return any(s.name == "copilot_worker_ready" and s.value == 1 for s in samples(metrics_url))
    except OSError:
        return False  # its metrics server is not up yet


def observed(metrics_url: str, name: str, stage: str) -> bool:
    """Whether a histogram of the worker has a first observation for `stage`: for the Kafka transit of merge,
    the worker's first record off its source topics; for the index agent's batch sizes, its first batch."""
    try:
        return histograms(metrics_url, name).get(stage, {}).get("count", 0) > 0
    except OSError:
        return False  # its metrics server is not up yet


def between(before: dict[str, dict[str, float]], after: dict[str, dict[str, float]], stage: str
            ) -> dict[str, float]:
    return {k: v - before.get(stage, {}).get(k, 0.0) for k, v in after.get(stage, {}).items()}


class RawEncode:
    """`encode()` alone on the pipeline's inputs: each ticket's text and its subject, in one call. Taken before
    and after the pipeline runs, since this machine's speed drifts within minutes."""

    def __init__(self, tickets: list[dict], threads: int) -> None:
        texts, subjects = embedding_inputs(documents(tickets))
        self.tickets, self.inputs = len(texts), texts + subjects
        self.embedder = LocalEmbedder(threads=threads)
        self.embedder.encode(self.inputs[:64])  # warm up

    def measure(self) -> tuple[float, float]:
        """(tickets per second, CPU seconds per ticket this process used)."""
        start, cpu = time.perf_counter(), time.process_time()
        self.embedder.encode(self.inputs)
        return self.tickets / (time.perf_counter() - start), (time.process_time() - cpu) / self.tickets


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--own-core", action="store_true",
                        help="the worker embeds with one torch thread on a core of its own, and every other thread "
                             "of the stack, this process included, runs on the other cores; the raw rate then uses "
                             "one thread too")
    parser.add_argument("--backlog", action="store_true",
                        help="the poller publishes every ticket first, and stops; the worker then starts and works "
                             "through the topics, timed from its first record: the rate of a catch-up or replay, "
                             "without the poller and the simulator sharing the machine")
    args = parser.parse_args()
    threads, all_cpus = (1 if args.own_core else 0), os.sched_getaffinity(0)
    if args.own_core and len(all_cpus) < 2:
        parser.error(f"--own-core needs at least 2 CPUs; this process may use {len(all_cpus)}")
    tickets = generate_tickets(args.tickets, seed=3)
    raw = RawEncode(tickets, threads)
    raw_before = raw.measure()
    from pymilvus import MilvusClient
    from redis import Redis

    with sandbox(COPILOT_POLL_INTERVAL="0.5", COPILOT_EMBED_THREADS=str(threads)) as r:
        port, key, domain = free_port(), "bench-key", "bench.freshdesk.test"
        data = r.write_jsonl("tickets.jsonl", tickets)
        r.start("simulator", "simulator", "--port", str(port), "--domain", domain, "--tickets", str(data),
                "--rate-limit", "100000", extra={"COPILOT_SIMULATOR_API_KEY": key})
        r.run("tenant", "add", "--domain", domain, "--api-key", key, "--base-url", f"http://127.0.0.1:{port}")
        metrics_port = free_port()
        metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        redis = Redis.from_url(r.env["COPILOT_REDIS_URL"], decode_responses=True)
        indexed_key = f"sandbox:progress:{domain}:indexed"
        model_cpus, other_cpus = {min(all_cpus)}, all_cpus - {min(all_cpus)}
        if args.backlog:
            r.start("sync", "sync")
            poll(lambda: redis.hlen(f"sandbox:sync:{domain}:published") >= len(tickets), timeout=1800, interval=0.5)
            r.stop_one("sync")  # its idle polls are not the pipeline's cost; restarted for the single changes
            worker_started = time.time()
            r.start("worker", "worker", extra={"COPILOT_METRICS_PORT": str(metrics_port)})
            if args.own_core:  # the model thread appears while the worker loads it, before it joins
                poll(lambda: pin_the_stack(model_cpus, other_cpus), timeout=300, interval=0.05)
                os.sched_setaffinity(0, other_cpus)
            poll(lambda: observed(metrics_url, "copilot_kafka_transit_seconds", "merge"), timeout=300, interval=0.02)
            clock_started, cpu_before = time.time(), cpu_seconds()
            poll(lambda: observed(metrics_url, "copilot_batch_events", "index"), timeout=300, interval=0.05)
            first_batch = time.time() - clock_started
        else:
            r.start("worker", "worker", extra={"COPILOT_METRICS_PORT": str(metrics_port)})
            poll(lambda: worker_ready(metrics_url), timeout=300, interval=0.5)  # joined, model loaded
            cpu_before = cpu_seconds()
            r.start("sync", "sync")
            if args.own_core:  # the poller included, just started: its later threads inherit this
                if not pin_the_stack(model_cpus, other_cpus):
                    raise RuntimeError(f"the worker has no thread named {EMBED_THREAD}: is it embedding locally?")
                os.sched_setaffinity(0, other_cpus)
        poll(lambda: redis.hlen(indexed_key) >= len(tickets), timeout=1800, interval=0.5)
        cpu = {role: seconds - cpu_before[role] for role, seconds in cpu_seconds().items()}
        batches = histograms(metrics_url, "copilot_batch_events")["index"]
        if args.own_core:  # single changes are about latency: no process of the stack waits for one core
            pin_the_stack(all_cpus, all_cpus)
            os.sched_setaffinity(0, all_cpus)
        milvus = MilvusClient(uri=r.env["COPILOT_MILVUS_URI"])
        rows = milvus.query("sandbox_tickets", filter=f'tenant == "{domain}"', limit=16384,
                            output_fields=["seen_at", "indexed_at"])
        last_indexed = max(row["indexed_at"] for row in rows) / 1000
        if not args.backlog:
            clock_started = min(row["seen_at"] for row in rows) / 1000
        backfill_seconds = last_indexed - clock_started
        pipeline_rate = len(rows) / backfill_seconds

        if args.backlog:
            r.start("sync", "sync")
        auth = base64.b64encode(f"{key}:X".encode()).decode()
        lags = []
        read = {name: histograms(metrics_url, name)
                for name in ("copilot_freshness_seconds", "copilot_kafka_transit_seconds")}
        for n in range(args.changes):
            tid = tickets[n * 7 % len(tickets)]["id"]
            before = redis.hget(indexed_key, str(tid))
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/v2/tickets/{tid}/reply", method="POST",
                data=json.dumps({"body": f"Benchmark reply {n}: fixed."}).encode(),
                headers={"Authorization": f"Basic {auth}", "Content-Type": "application/json"})
            urllib.request.urlopen(request, timeout=10).read()  # noqa: S310 - 127.0.0.1
            poll(lambda t=tid, b=before: redis.hget(indexed_key, str(t)) != b, timeout=60, interval=0.05)
            [row] = milvus.query("sandbox_tickets", filter=f'tenant == "{domain}" and ticket_id == {tid}',
                                 output_fields=["seen_at", "indexed_at"])
            lags.append((row["indexed_at"] - row["seen_at"]) / 1000)
        stages = {name: {stage: between(before, histograms(metrics_url, name), stage) for stage in STAGES}
                  for name, before in read.items()}

    raw_after = raw.measure()
    raw_rate, raw_cpu = (statistics.mean(m) for m in zip(raw_before, raw_after, strict=True))
    print(f"machine: {machine()}; " + ("the worker's model thread embeds with one torch thread on a core of its "
                                       "own, every other thread runs on the other cores" if args.own_core
                                       else "every process shares every core"))
    if args.backlog:
        print(f"backlog: the worker took its first record {clock_started - worker_started:.1f} s after it started "
              "(model loaded, group joined); the pipeline's rate is timed from that record to the last index write; "
              f"the index agent took its first batch {first_batch:.1f} s after that record")
    print(f"backfill: {len(rows)} tickets, pipeline {pipeline_rate:.1f} tickets/s end to end; "
          f"raw encode() {raw_rate:.1f} tickets/s (text and subject, {threads or 'default'} torch threads; "
          f"{raw_before[0]:.1f} before the pipeline ran, {raw_after[0]:.1f} after); "
          f"ratio {pipeline_rate / raw_rate:.2f}")
    print(f"CPU seconds during the backfill ({len(rows)} tickets, {os.cpu_count()} cores): " + ", ".join(
        f"{role} {seconds:.1f} ({seconds / len(rows) * 1000:.1f} ms per ticket)" for role, seconds in cpu.items()))
    print(f"the model's threads used {cpu[MODEL] / backfill_seconds:.0%} of a core over the backfill's "
          f"{backfill_seconds:.1f} s (with one torch thread: the share of it the model ran), "
          f"{cpu[MODEL] / len(rows) * 1000:.1f} ms per ticket; encode() alone used {raw_cpu * 1000:.1f} ms of CPU "
          "per ticket")
    print(f"the index agent embedded the backfill in {batches['count']:.0f} batches of "
          f"{batches['sum'] / batches['count']:.1f} events on average; "
          f"{batches['16.0'] / batches['count']:.0%} of them held 16 or fewer")
    print(f"freshness over {len(lags)} single changes (seen by the poller -> searchable): "
          f"p50 {statistics.median(lags):.3f} s, p95 {percentile(lags, 95):.3f} s, max {max(lags):.3f} s")
    freshness, transit = stages["copilot_freshness_seconds"], stages["copilot_kafka_transit_seconds"]
    print("mean freshness as each stage hands a change on: " + ", ".join(
        f"{stage} {freshness[stage]['sum'] / freshness[stage]['count'] * 1000:.1f} ms" for stage in STAGES))
    print("Kafka's share, producer to agent, per hop: " + ", ".join(
        f"{stage} mean {transit[stage]['sum'] / transit[stage]['count'] * 1000:.1f} ms "
        f"({transit[stage]['0.05'] / transit[stage]['count']:.0%} of {transit[stage]['count']:.0f} under 50 ms)"
        for stage in STAGES) + "; the three hops together: mean "
        f"{sum(transit[s]['sum'] / transit[s]['count'] for s in STAGES) * 1000:.1f} ms per change")


if __name__ == "__main__":
    main()
