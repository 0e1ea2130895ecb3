"""The Faust app factory: topics, tables and agents wired for one namespace."""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.types import TransportT
from mode.utils.queues import FlowControlQueue

from copilot.settings import Settings
from copilot.topics import TopicNames
from streams.agents import articles, feedback, index, merge, summarize
from streams.freshness import KafkaTransit, consuming_stages
from streams.recovery import OrderedTableManager
from streams.resources import WorkerResources
from streams.stage_order import StageOrderedTransport
from streams.tables import declare_tables
from streams.topics import declare_topics

STREAM_BUFFER = 4096  # records an agent may have waiting: Faust's default
SOURCES_PER_AGENT = 2  # topics one agent reads at most (the join: tickets and conversations)


def broker_url(bootstrap_servers: str) -> str:
    return ";".join(f"kafka://{server.strip()}" for server in bootstrap_servers.split(","))


class CopilotApp(faust.App):
    """A Faust app that awaits `before_joining` before its consumer joins the group. Faust starts the consumer
    first and the app's tasks only after table recovery, so a worker that loaded its model in a task held its
    partitions, unprocessed, for the seconds the load takes: at every start, restart and scale-out.

    Its polls hand out the records of `later_topics` first (streams.stage_order)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_joining: list[Callable[[], Awaitable[object]]] = []
        self.later_topics: frozenset[str] = frozenset()

    def _new_transport(self) -> TransportT:
        return StageOrderedTransport(self.conf.broker_consumer, self)

    async def on_first_start(self) -> None:
        await super().on_first_start()
        for prepare in self.before_joining:
            await prepare()


def pressure_mark() -> int:
    """Records in an agent's queue at which Faust stops fetching its partitions (mode's queues)."""
    return math.floor(STREAM_BUFFER / FlowControlQueue.pressure_high_ratio)


def poll_records(partitions: int) -> int:
    """How many records one poll hands out, so that no agent's queue is ever full.

    Faust hands each poll's records to the agents' queues from one loop and waits there while a queue is full:
    with its default poll (everything fetched), one stalled agent (its LLM hangs) with a backlog stopped every
    agent of the worker. Faust stops fetching a partition once its agent's queue is under pressure, after
    which each partition the agent reads may still bring one poll's records; together they fit in the rest of
    the queue (up to 410 partitions a topic)."""
    room = STREAM_BUFFER - pressure_mark()
    return max(1, room // (SOURCES_PER_AGENT * partitions))


def bounds_polls(settings: Settings) -> bool:
    """Whether the worker bounds its polls (`COPILOT_BOUNDED_POLLS`). By default when summaries come from an
    LLM, which can stall; with the local summarizer nothing waits that long, and bounded polls cost a backlog
    7% of its rate on the bench machine (BENCHMARKS.md)."""
    choice, providers = settings.worker.bounded_polls, settings.providers
    return choice == "on" or (choice == "auto" and providers.use_openai(providers.summarizer))


def faust_app(app_id: str, bootstrap_servers: str, datadir: str, partitions: int, **overrides: Any
              ) -> CopilotApp:
    """A Faust app with the settings the worker runs with; the tests' own Faust workers start from them too."""
    settings: dict[str, Any] = {
        "broker": broker_url(bootstrap_servers), "store": "memory://", "datadir": datadir,
        "topic_partitions": partitions, "processing_guarantee": "at_least_once",
        "consumer_auto_offset_reset": "earliest", "web_enabled": False, "producer_partitioner": None,
        "stream_buffer_maxsize": STREAM_BUFFER,
        "TableManager": OrderedTableManager,  # recovery that cannot drop the records waiting at startup
    }
    return CopilotApp(app_id, **{**settings, **overrides})


def create_app(settings: Settings) -> faust.App:
    k = settings.kafka
    app = faust_app(
        f"{k.namespace}-worker", k.bootstrap_servers,
        str(settings.stack.data_dir.resolve() / "faust"),  # not "<app id>-data" in the working directory
        k.partitions,
        topic_replication_factor=k.replication_factor,
        broker_session_timeout=settings.worker.session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, settings.worker.session_timeout_seconds / 3),
        producer_linger=settings.worker.producer_linger_ms / 1000,
        **({"broker_max_poll_records": poll_records(k.partitions)} if bounds_polls(settings) else {}),
    )
    names = TopicNames(k.namespace)
    app.later_topics = frozenset({names.documents, names.deferred, names.summaries})
    app.sensors.add(KafkaTransit(consuming_stages(names)))
    topics = declare_topics(app, names)
    tables = declare_tables(app, k.partitions)
    resources = WorkerResources(settings)
    app.before_joining.append(resources.embedder)  # the model: the slow part (imports, weights)
    app.task(resources.open)  # the index, once joined: merge and summarize need no Milvus
    merge.register(app, topics, tables, resources)
    summarize.register(app, topics, tables, resources)
    index.register(app, topics, tables, resources)
    articles.register(app, topics, resources)
    feedback.register(app, topics, tables, resources)
    return app
