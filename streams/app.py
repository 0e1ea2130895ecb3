"""The Faust app factory: topics, tables and agents wired for one namespace."""

from __future__ import annotations

import faust

from copilot.settings import Settings
from copilot.topics import TopicNames
from streams.agents import articles, feedback, index, merge, summarize
from streams.freshness import KafkaTransit, consuming_stages
from streams.recovery import OrderedTableManager
from streams.resources import WorkerResources
from streams.tables import declare_tables
from streams.topics import declare_topics


def broker_url(bootstrap_servers: str) -> str:
    return ";".join(f"kafka://{server.strip()}" for server in bootstrap_servers.split(","))


def create_app(settings: Settings) -> faust.App:
    k = settings.kafka
    app = faust.App(
        f"{k.namespace}-worker",
        broker=broker_url(k.bootstrap_servers),
        store="memory://",
        datadir=str(settings.stack.data_dir.resolve() / "faust"),  # not "<app id>-data" in the working directory
        topic_partitions=k.partitions,
        topic_replication_factor=k.replication_factor,
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        broker_session_timeout=settings.worker.session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, settings.worker.session_timeout_seconds / 3),
        producer_partitioner=None,
        TableManager=OrderedTableManager,  # recovery that cannot drop the records waiting at startup
    )
    names = TopicNames(k.namespace)
    app.sensors.add(KafkaTransit(consuming_stages(names)))
    topics = declare_topics(app, names)
    tables = declare_tables(app, k.partitions)
    resources = WorkerResources(settings)
    app.task(resources.open)
    merge.register(app, topics, tables, resources)
    summarize.register(app, topics, tables, resources)
    index.register(app, topics, resources)
    articles.register(app, topics, resources)
    feedback.register(app, topics, tables, resources)
    return app
