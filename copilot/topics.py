"""Every Kafka topic the project uses, declared in one place and created by the project.

Source topics share one partition count so that tickets and conversations (same key) are co-partitioned
for the join; compacted topics keep the latest value per key, which is what a replay needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from copilot.errors import StackError
from copilot.settings import KafkaSettings

WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    suffix: str
    doc: str
    compacted: bool
    retention_ms: int = -1

    def config(self) -> dict[str, str]:
        if self.compacted:
            return {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"}
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}


TICKETS = TopicSpec("freshdesk.tickets", "ticket state per ticket (TicketEvent)", compacted=True)
CONVERSATIONS = TopicSpec("freshdesk.conversations", "every conversation (ConversationEvent)",
                          compacted=False, retention_ms=-1)
ARTICLES = TopicSpec("freshdesk.articles", "knowledge-base articles (ArticleEvent)", compacted=True)
DOCUMENTS = TopicSpec("documents.merged", "merged ticket documents (MergedDocument)", compacted=True)
DEFERRED = TopicSpec("documents.deferred",
                     "merged documents of tenants over their share of the LLM, summarized in a lane of their own "
                     "(MergedDocument)", compacted=True)
SUMMARIES = TopicSpec("documents.summarized", "documents with summaries (SummarizedDocument)", compacted=True)
FEEDBACK = TopicSpec("feedback", "agents' votes on shown items, the source of the rerank table (FeedbackEvent)",
                     compacted=False, retention_ms=-1)
DEAD_LETTERS = TopicSpec("deadletter", "messages a stage could not process (DeadLetter)",
                         compacted=False, retention_ms=4 * WEEK_MS)
ALL = (TICKETS, CONVERSATIONS, ARTICLES, DOCUMENTS, DEFERRED, SUMMARIES, FEEDBACK, DEAD_LETTERS)


class TopicNames:
    """Full names under a namespace, so several deployments (or tests) share one cluster safely."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def __call__(self, spec: TopicSpec) -> str:
        return f"{self.namespace}.{spec.suffix}"

    @property
    def tickets(self) -> str:
        return self(TICKETS)

    @property
    def conversations(self) -> str:
        return self(CONVERSATIONS)

    @property
    def articles(self) -> str:
        return self(ARTICLES)

    @property
    def documents(self) -> str:
        return self(DOCUMENTS)

    @property
    def deferred(self) -> str:
        return self(DEFERRED)

    @property
    def summaries(self) -> str:
        return self(SUMMARIES)

    @property
    def feedback(self) -> str:
        return self(FEEDBACK)

    @property
    def dead_letters(self) -> str:
        return self(DEAD_LETTERS)


def ensure_topics(settings: KafkaSettings, timeout: float = 30.0) -> list[str]:
    """Create the missing topics; returns the names created. Existing topics are left as they are."""
    names = TopicNames(settings.namespace)
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    existing = set(admin.list_topics(timeout=timeout).topics)
    wanted = [
        NewTopic(names(spec), num_partitions=settings.partitions,
                 replication_factor=settings.replication_factor, config=spec.config())
        for spec in ALL if names(spec) not in existing
    ]
    if not wanted:
        return []
    created = []
    for name, future in admin.create_topics(wanted, operation_timeout=timeout).items():
        try:
            future.result()
            created.append(name)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise StackError(f"cannot create topic {name}: {exc}") from exc
    return created
